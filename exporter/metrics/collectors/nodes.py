"""Per-node runtime counters: ``/sys/node/{clocks,vectors,calls,suspends}``.

VPP refreshes these every ``statseg { update-interval }`` (default 10 s) and
only with ``per-node-counters on``; the ``/nodes/<node>/<counter>`` symlinks
repeat them and are not read.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from vppcomp.exporter.metrics.scrape import Entities, EpochCache, Scrape

NAMES = "/sys/node/names"

#: /sys/node/<counter> -> (family, help)
COUNTERS: dict[str, tuple[str, str]] = {
    "clocks": ("vpp_node_clocks", "CPU clock cycles spent in the node."),
    "vectors": ("vpp_node_vectors", "Packets (vector elements) the node processed."),
    "calls": ("vpp_node_calls", "Times the node was called."),
    "suspends": ("vpp_node_suspends", "Times the (process) node suspended."),
}


class NodeCollector:
    """``vpp_node_{clocks,vectors,calls,suspends}_total{node}``."""

    name = "nodes"

    def __init__(self) -> None:
        self._cache = EpochCache()

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        if NAMES not in snap:
            return
        names = snap[NAMES]
        entities = self._cache.get(NAMES, names, lambda: Entities.named("node", names))
        for counter, (family, text) in COUNTERS.items():
            path = f"/sys/node/{counter}"
            yield from scrape.vector(path, entities, [(family, f"{text} ({path})")])
