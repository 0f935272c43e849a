"""System scalars and per-thread rates under ``/sys``.

Timestamps VPP keeps as seconds since its own start (``last_update``,
``last_stats_clear``) are exported as such; ``boottime`` is Unix time.
Other ``/sys`` scalars and gauges (from plugins) become
``vpp_sys_<path words>`` gauges.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.collectors.base import metric_word
from vppcomp.exporter.metrics.scrape import Scrape
from vppcomp.statseg.layout import StatType

#: scalar or gauge path -> (family, type, help)
SCALARS: dict[str, tuple[str, str, str]] = {
    "/sys/vector_rate": ("vpp_vector_rate", "gauge", "Packets per main-loop call, all threads."),
    "/sys/num_worker_threads": ("vpp_worker_threads", "gauge", "Worker threads."),
    "/sys/heartbeat": (
        "vpp_stats_heartbeat",
        "counter",
        "Runs of VPP's stats collector (one per update interval).",
    ),
    "/sys/boottime": ("vpp_boot_time_seconds", "gauge", "When VPP started, Unix time."),
    "/sys/last_update": (
        "vpp_stats_last_update_uptime_seconds",
        "gauge",
        "VPP uptime at the last interface-stats update.",
    ),
    "/sys/last_stats_clear": (
        "vpp_stats_last_clear_uptime_seconds",
        "gauge",
        "VPP uptime when counters were last cleared (0: never).",
    ),
}

#: per-thread vector (values in thread 0's row, indexed by thread) -> (family, help)
PER_THREAD: dict[str, tuple[str, str]] = {
    "/sys/vector_rate_per_worker": ("vpp_thread_vector_rate", "Packets per loop, per thread."),
    "/sys/loops_per_worker": ("vpp_thread_loops_per_second", "Main loops per second, per thread."),
}

_SCALAR_TYPES = (StatType.SCALAR_INDEX, StatType.GAUGE)


class SystemCollector:
    """``vpp_vector_rate``, ``vpp_worker_threads``, ``vpp_thread_*`` and the rest of ``/sys``."""

    name = "system"

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        for path, (family, kind, text) in SCALARS.items():
            if not scrape.wants(path):
                continue
            if kind == "counter":
                yield families.counter(family, f"{text} ({path})", (), [{}], [snap[path]])
            else:
                yield families.gauge(family, f"{text} ({path})", (), [{}], [snap[path]])
        for path, (family, text) in PER_THREAD.items():
            if scrape.wants(path) and snap.type(path) == StatType.COUNTER_VECTOR_SIMPLE:
                values = snap[path][0].tolist() if snap[path].shape[0] else []
                rows = [{"thread": str(t)} for t in range(len(values))]
                yield families.gauge(family, f"{text} ({path})", ("thread",), rows, values)
        for path in scrape.entries("/sys/"):
            if (
                path not in SCALARS
                and snap.type(path) in _SCALAR_TYPES
                and scrape.options.wants(path)
            ):
                family = "vpp_sys_" + metric_word(path[len("/sys/") :])
                yield families.gauge(family, f"{path} as published by VPP.", (), [{}], [snap[path]])
