"""One collector per area of the stats segment, registered by name."""

from __future__ import annotations

from vppcomp.exporter.metrics.collectors.base import Collector
from vppcomp.exporter.metrics.collectors.buffers import BufferPoolCollector
from vppcomp.exporter.metrics.collectors.errors import ErrorCollector
from vppcomp.exporter.metrics.collectors.interfaces import InterfaceCollector
from vppcomp.exporter.metrics.collectors.ipcomp import IpcompCollector
from vppcomp.exporter.metrics.collectors.memory import MemoryCollector
from vppcomp.exporter.metrics.collectors.nodes import NodeCollector
from vppcomp.exporter.metrics.collectors.system import SystemCollector

#: name -> collector class; all run unless disabled (``--no-collector NAME``)
COLLECTORS: dict[str, type[Collector]] = {
    "system": SystemCollector,
    "interfaces": InterfaceCollector,
    "nodes": NodeCollector,
    "errors": ErrorCollector,
    "buffers": BufferPoolCollector,
    "memory": MemoryCollector,
    "ipcomp": IpcompCollector,
}


def build_collectors(disable: tuple[str, ...] = ()) -> list[Collector]:
    """One instance of every collector not in ``disable``.

    Raises ``ValueError`` for an unknown name."""
    unknown = sorted(set(disable) - COLLECTORS.keys())
    if unknown:
        raise ValueError(
            f"unknown collector(s): {', '.join(unknown)}; known: {', '.join(COLLECTORS)}"
        )
    return [cls() for name, cls in COLLECTORS.items() if name not in disable]


__all__ = ["COLLECTORS", "Collector", "build_collectors"]
