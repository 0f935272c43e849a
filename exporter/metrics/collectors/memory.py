"""Memory heaps: ``/mem/<heap>``, one row of seven gauges per heap.

VPP keeps each heap's usage in thread 0 of a counter vector
(``src/vlib/stats/provider_mem.c``) and refreshes it every update interval;
the ``/mem/<heap>/{used,total,free}`` symlinks repeat three of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.scrape import Scrape
from vppcomp.statseg.layout import StatType

PREFIX = "/mem/"

#: index in the heap's vector -> (family, help); order of stat_mem_usage_e
FIELDS: tuple[tuple[str, str], ...] = (
    ("vpp_memory_heap_size_bytes", "Heap size."),
    ("vpp_memory_heap_used_bytes", "Bytes allocated."),
    ("vpp_memory_heap_free_bytes", "Bytes free."),
    ("vpp_memory_heap_used_mmap_bytes", "Bytes allocated through mmap."),
    ("vpp_memory_heap_max_allocated_bytes", "Largest total allocation seen."),
    ("vpp_memory_heap_free_chunks", "Free chunks in the heap."),
    ("vpp_memory_heap_releasable_bytes", "Bytes releasable by trimming."),
)


class MemoryCollector:
    """``vpp_memory_heap_*{heap}``."""

    name = "memory"

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        rows: list[dict[str, str]] = []
        columns: list[list[float]] = [[] for _ in FIELDS]
        for path in scrape.entries(PREFIX):
            if (
                path.count("/") != 2
                or snap.type(path) != StatType.COUNTER_VECTOR_SIMPLE
                or not scrape.options.wants(path)
            ):
                continue
            array = snap[path]
            if array.shape[0] == 0 or array.shape[1] < len(FIELDS):
                continue
            rows.append({"heap": path[len(PREFIX) :]})
            for column, value in zip(columns, array[0, : len(FIELDS)].tolist(), strict=True):
                column.append(value)
        if not rows:
            return
        for (family, text), values in zip(FIELDS, columns, strict=True):
            yield families.gauge(family, f"{text} ({PREFIX}<heap>)", ("heap",), rows, values)
