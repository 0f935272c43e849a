"""Node error counters: ``/node/errors`` labelled by node and reason.

Each error has a symlink ``/err/<node>/<reason>`` into the one vector
``/node/errors``; the symlink table is read once per stats epoch and the
vector once per scrape. Include/exclude patterns apply to the symlink path,
so ``--exclude '/err/ip4-*'`` works per error. The segment does not publish
an error's severity, so there is no ``severity`` label.

Default cardinality: VPP has ~3,000 error counters and almost all stay zero
for ever. By default the errors of the ``ipcomp*`` nodes are always exported
(the plugin's own verdicts and drops, which dashboards and alerts rate), and
every other error from the first scrape that sees it non-zero on this VPP
instance on (sticky: a ``clear errors`` does not remove it again, so rate()
sees the clear as a reset; a VPP restart forgets). ``--all-errors`` exports
every error counter.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.options import Options
from vppcomp.exporter.metrics.scrape import Entities, EpochCache, Scrape
from vppcomp.statseg.snapshot import Snapshot

VECTOR = "/node/errors"
PREFIX = "/err/"
ALWAYS = "ipcomp"  # node name prefix whose errors are exported even while zero


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
        self._segment: tuple[int, int] | None = None
        self._seen = np.zeros(0, bool)

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        if VECTOR not in snap:
            return
        entities = self._cache.get(
            VECTOR, snap.symlinks, lambda: error_entities(snap, scrape.options)
        )
        help_text = f"Packets counted by a node error, per reason ({PREFIX}<node>/<reason>)."
        series = scrape.series(VECTOR, entities, filter_path=False)
        if series is None:
            return
        keep = scrape.keep(series)
        if not scrape.options.all_errors:
            shown = self._shown(snap.segment_id, series.data.reshape(len(series.data), -1))
            always = np.fromiter(
                (r is not None and r["node"].startswith(ALWAYS) for r in series.rows),
                bool,
                len(series.rows),
            )
            keep = keep[(shown | always)[keep]]
        yield families.counter(
            "vpp_node_errors", help_text, series.labels, series.rows, series.data, keep
        )

    def _shown(self, segment_id: tuple[int, int], data: np.ndarray) -> np.ndarray:
        """Rows non-zero now or at an earlier scrape of this VPP instance."""
        if segment_id != self._segment:
            self._segment, self._seen = segment_id, np.zeros(0, bool)
        if len(self._seen) < len(data):
            self._seen = np.concatenate([self._seen, np.zeros(len(data) - len(self._seen), bool)])
        self._seen[: len(data)] |= data.any(axis=1)
        return self._seen[: len(data)]
