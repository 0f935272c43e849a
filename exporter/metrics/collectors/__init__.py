"""One collector per area of the stats segment, registered by name.

:data:`COLLECTORS` maps each name to its class and whether it is enabled by
default (``--collector NAME`` / ``--no-collector NAME`` change that).
"""

from __future__ import annotations

from vppcomp.metrics.collectors.base import Collector
from vppcomp.metrics.collectors.buffers import BufferPoolCollector
from vppcomp.metrics.collectors.errors import ErrorCollector
from vppcomp.metrics.collectors.interfaces import InterfaceCollector
from vppcomp.metrics.collectors.ipcomp import IpcompCollector
from vppcomp.metrics.collectors.memory import MemoryCollector
from vppcomp.metrics.collectors.nodes import NodeCollector
from vppcomp.metrics.collectors.system import SystemCollector

#: name -> (class, enabled by default)
COLLECTORS: dict[str, tuple[type[Collector], bool]] = {
    "system": (SystemCollector, True),
    "interfaces": (InterfaceCollector, True),
    "nodes": (NodeCollector, True),
    "errors": (ErrorCollector, True),
    "buffers": (BufferPoolCollector, True),
    "memory": (MemoryCollector, True),
    "ipcomp": (IpcompCollector, True),
}


def build_collectors(
    enable: tuple[str, ...] = (), disable: tuple[str, ...] = ()
) -> list[Collector]:
    """Instances of the default collectors plus ``enable`` minus ``disable``.

    Raises ``ValueError`` for an unknown name."""
    unknown = sorted(set(enable) | set(disable) - COLLECTORS.keys())
    if unknown:
        raise ValueError(
            f"unknown collector(s): {', '.join(unknown)}; known: {', '.join(COLLECTORS)}"
        )
    return [
        cls()
        for name, (cls, default) in COLLECTORS.items()
        if (default or name in enable) and name not in disable
    ]


__all__ = ["COLLECTORS", "Collector", "build_collectors"]
