"""Buffer pools: ``/buffer-pools/<pool>/{cached,used,available}`` gauges."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.scrape import Scrape

PREFIX = "/buffer-pools/"

#: last path component -> (family, help)
GAUGES: dict[str, tuple[str, str]] = {
    "cached": ("vpp_buffer_pool_cached_buffers", "Buffers held in per-thread caches."),
    "used": ("vpp_buffer_pool_used_buffers", "Buffers in use."),
    "available": ("vpp_buffer_pool_available_buffers", "Buffers free in the pool."),
}


class BufferPoolCollector:
    """``vpp_buffer_pool_{cached,used,available}_buffers{pool}``."""

    name = "buffers"

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        found: dict[str, tuple[list[dict[str, str]], list[float]]] = {}
        for path in scrape.entries(PREFIX):
            pool, _, which = path[len(PREFIX) :].rpartition("/")
            if which in GAUGES and pool and scrape.options.wants(path):
                rows, values = found.setdefault(which, ([], []))
                rows.append({"pool": pool})
                values.append(snap[path])
        for which, (family, text) in GAUGES.items():
            if which in found:
                rows, values = found[which]
                yield families.gauge(
                    family, f"{text} ({PREFIX}<pool>/{which})", ("pool",), rows, values
                )
