"""Node error counters: ``/node/errors`` labelled by node and reason.

Each error has a symlink ``/err/<node>/<reason>`` into the one vector
``/node/errors``; the symlink table is read once per stats epoch and the
vector once per scrape. Include/exclude patterns apply to the symlink path,
so ``--exclude '/err/ip4-*'`` works per error. The segment does not publish
an error's severity, so there is no ``severity`` label.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from vppcomp.exporter.metrics.options import Options
from vppcomp.exporter.metrics.scrape import Entities, EpochCache, Scrape
from vppcomp.statseg.snapshot import Snapshot

VECTOR = "/node/errors"
PREFIX = "/err/"


def error_entities(snap: Snapshot, options: Options) -> Entities:
    """Who each index of ``/node/errors`` is, from the ``/err/*`` symlinks."""
    size = snap.values[VECTOR].shape[1]
    ids: list[str | None] = [None] * size
    rows: list[dict[str, str] | None] = [None] * size
    for path, link in snap.symlinks.items():
        if link.target != VECTOR or not path.startswith(PREFIX) or link.index >= size:
            continue
        node, _, reason = path[len(PREFIX) :].partition("/")
        if reason and options.wants(path):
            ids[link.index] = path
            rows[link.index] = {"node": node, "reason": reason}
    return Entities(("node", "reason"), ids, rows)


class ErrorCollector:
    """``vpp_node_errors_total{node,reason}``."""

    name = "errors"

    def __init__(self) -> None:
        self._cache = EpochCache()

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        if VECTOR not in snap:
            return
        entities = self._cache.get(
            VECTOR, snap.symlinks, lambda: error_entities(snap, scrape.options)
        )
        help_text = f"Packets counted by a node error, per reason ({PREFIX}<node>/<reason>)."
        yield from scrape.vector(
            VECTOR, entities, [("vpp_node_errors", help_text)], filter_path=False
        )
