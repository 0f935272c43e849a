"""Synthetic stats segments of a real VPP's shape, at any size.

Shape of VPP 26.06 (src/vnet/interface.h, src/vnet/interface/stats.c,
src/vlib/error.c, src/vlib/stats/collector.c): per interface the simple and
combined ``/if/*`` vectors, ``/if/names``, and one ``/interfaces/<name>/<counter>``
symlink per counter; ``/node/errors`` with one ``/err/<node>/<reason>`` symlink
per error; ``/sys/node/{clocks,vectors,calls,suspends}`` with ``/sys/node/names``
and ``/nodes/<node>/<counter>`` symlinks; the ``/sys`` scalars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vppcomp.statseg.layout import StatType
from vppcomp.statseg.snapshot import Snapshot, Symlink, snapshot_from_mapping

SIMPLE_IF = (
    "drops", "punt", "ip4", "ip6", "rx-no-buf", "rx-miss", "rx-error", "tx-error", "mpls",
)  # fmt: skip
COMBINED_IF = (
    "rx", "rx-unicast", "rx-multicast", "rx-broadcast",
    "tx", "tx-unicast", "tx-multicast", "tx-broadcast",
)  # fmt: skip
NODE_COUNTERS = ("clocks", "vectors", "calls", "suspends")


def synthetic_snapshot(
    interfaces: int,
    threads: int,
    *,
    nodes: int = 600,
    errors: int = 3000,
    seed: int = 1,
) -> Snapshot:
    """A snapshot with ``interfaces`` interfaces on ``threads`` threads."""
    rng = np.random.default_rng(seed)
    entries: dict[str, tuple[StatType, Any]] = {
        "/sys/last_stats_clear": (StatType.SCALAR_INDEX, 0),
        "/sys/heartbeat": (StatType.SCALAR_INDEX, 1234),
        "/sys/boottime": (StatType.SCALAR_INDEX, 1_790_000_000),
        "/sys/vector_rate": (StatType.GAUGE, 3),
        "/sys/num_worker_threads": (StatType.SCALAR_INDEX, threads - 1),
    }
    names = [f"loop{i}" for i in range(interfaces)]
    entries["/if/names"] = (StatType.NAME_VECTOR, names)
    for counter in SIMPLE_IF:
        values = rng.integers(0, 1 << 20, (threads, interfaces), dtype=np.uint64)
        entries[f"/if/{counter}"] = (StatType.COUNTER_VECTOR_SIMPLE, values)
    for counter in COMBINED_IF:
        values = rng.integers(0, 1 << 30, (threads, interfaces, 2), dtype=np.uint64)
        entries[f"/if/{counter}"] = (StatType.COUNTER_VECTOR_COMBINED, values)
    for index, name in enumerate(names):
        for counter in (*SIMPLE_IF, *COMBINED_IF):
            entries[f"/interfaces/{name}/{counter}"] = (
                StatType.SYMLINK,
                Symlink(f"/if/{counter}", index),
            )
    node_names = [f"node-{i}" for i in range(nodes)]
    entries["/sys/node/names"] = (StatType.NAME_VECTOR, node_names)
    for counter in NODE_COUNTERS:
        values = rng.integers(0, 1 << 32, (threads, nodes), dtype=np.uint64)
        entries[f"/sys/node/{counter}"] = (StatType.COUNTER_VECTOR_SIMPLE, values)
    for index, node in enumerate(node_names):
        for counter in NODE_COUNTERS:
            entries[f"/nodes/{node}/{counter}"] = (
                StatType.SYMLINK,
                Symlink(f"/sys/node/{counter}", index),
            )
    entries["/node/errors"] = (
        StatType.COUNTER_VECTOR_SIMPLE,
        rng.integers(0, 1000, (threads, errors), dtype=np.uint64),
    )
    for index in range(errors):
        node = node_names[index % nodes]
        entries[f"/err/{node}/reason-{index}"] = (
            StatType.SYMLINK,
            Symlink("/node/errors", index),
        )
    return snapshot_from_mapping(entries, epoch=1)
