"""Builders for small, hand-made topology inputs, shared by the topology tests.

Recorded answers from a real VPP live in tests/data/topology_*; these
builders make the small synthetic cases the unit tests need: an API
recording with a given graph and a pair of stats snapshots with given rates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vppcomp.statseg.layout import StatType
from vppcomp.statseg.recording import RecordingWriter
from vppcomp.statseg.snapshot import Snapshot, snapshot_from_mapping
from vppcomp.topology.api_source import RECORDING_FORMAT

# A small graph: pg-input -> ip4-input -> {ip4-lookup, ip4-drop}; ip4-lookup ->
# {ipcomp4-compress, ip4-rewrite}; ipcomp4-compress -> ip4-rewrite; error-drop.
NODES = [
    ("pg-input", 0, [1]),
    ("ip4-input", 0, [2, 3, 6]),
    ("ip4-lookup", 0, [4, 5]),
    ("ip4-drop", 0x4, [6]),
    ("ipcomp4-compress", 0, [5, 6]),
    ("ip4-rewrite", 0, [7]),
    ("error-drop", 0x4, []),
    ("pg0-output", 0x2, []),
    ("ip6-input", 0, [6]),
]
NAMES = [n for n, _, _ in NODES]

NO_SUCH_ENTRY = -6


def _node_call(index: int, retval: int, details: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "method": "graph_node_get",
        "args": {"cursor": 0xFFFFFFFF, "index": index, "name": "", "flags": 0, "want_arcs": True},
        "reply": {"retval": retval, "cursor": 0xFFFFFFFF},
        "details": details,
    }


def graph_recording(
    nodes: list[tuple[str, int, list[int]]],
    *,
    host: str = "test-vpp",
    interfaces: tuple[tuple[int, str, str], ...] = (),
    extra_calls: tuple[dict[str, Any], ...] = (),
    methods: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """An API recording in which node i is ``nodes[i] = (name, flags, arcs)``."""
    calls: list[dict[str, Any]] = []
    for index, (name, flags, arcs) in enumerate(nodes):
        details = {"index": index, "name": name, "flags": flags, "n_arcs": len(arcs),
                   "arcs_out": arcs}  # fmt: skip
        calls.append(_node_call(index, 0, [details]))
    calls.append(_node_call(len(nodes), NO_SUCH_ENTRY, []))
    calls.append(
        {
            "method": "sw_interface_dump",
            "args": {"name_filter_valid": False, "name_filter": ""},
            "reply": None,
            "details": [
                {"sw_if_index": i, "interface_name": n, "interface_dev_type": t, "flags": 3}
                for i, n, t in interfaces
            ],
        }
    )
    calls.extend(extra_calls)
    return {
        "format": RECORDING_FORMAT,
        "host": host,
        "unreachable": None,
        "methods": methods
        if methods is not None
        else {"graph_node_get": True, "sw_interface_dump": True},
        "calls": calls,
    }


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=1))
    return path


def node_snapshot(
    names: list[str],
    vectors: list[int],
    calls: list[int],
    clocks: list[int],
    *,
    taken_at: float,
    heartbeat: int = 1,
    interfaces: dict[str, tuple[int, int, int, int]] | None = None,
    extra: dict[str, tuple[StatType, Any]] | None = None,
) -> Snapshot:
    """A snapshot with the node counters given (one thread) and, optionally,
    interfaces ``{name: (rx packets, rx bytes, tx packets, tx bytes)}``."""
    row = lambda values: np.array([values], dtype=np.uint64)  # noqa: E731
    entries: dict[str, tuple[StatType, Any]] = {
        "/sys/heartbeat": (StatType.SCALAR_INDEX, heartbeat),
        "/sys/node/names": (StatType.NAME_VECTOR, list(names)),
        "/sys/node/vectors": (StatType.COUNTER_VECTOR_SIMPLE, row(vectors)),
        "/sys/node/calls": (StatType.COUNTER_VECTOR_SIMPLE, row(calls)),
        "/sys/node/clocks": (StatType.COUNTER_VECTOR_SIMPLE, row(clocks)),
        "/sys/node/suspends": (StatType.COUNTER_VECTOR_SIMPLE, row([0] * len(names))),
    }
    interfaces = interfaces or {}
    entries["/if/names"] = (StatType.NAME_VECTOR, list(interfaces))
    rx = [[[v[0], v[1]] for v in interfaces.values()]]
    tx = [[[v[2], v[3]] for v in interfaces.values()]]
    shape = (1, len(interfaces), 2)
    entries["/if/rx"] = (
        StatType.COUNTER_VECTOR_COMBINED,
        np.array(rx, dtype=np.uint64).reshape(shape),
    )
    entries["/if/tx"] = (
        StatType.COUNTER_VECTOR_COMBINED,
        np.array(tx, dtype=np.uint64).reshape(shape),
    )
    entries.update(extra or {})
    return snapshot_from_mapping(entries, taken_at=taken_at, segment_id=(1, 1))


def write_stats(path: Path, snapshots: list[Snapshot]) -> Path:
    with RecordingWriter(path, source="test") as writer:
        for snap in snapshots:
            writer.add(snap, 0)
    return path


def host_recording(
    name: str,
    interfaces: list[tuple[int, str, str, list[str]]],
    dumps: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """An API recording of a host with ``interfaces`` ``(sw_if_index, name,
    dev_type, addresses)`` and tunnel ``dumps`` ``{method: details}``."""
    calls: list[dict[str, Any]] = [
        {
            "method": "sw_interface_dump",
            "args": {"name_filter_valid": False, "name_filter": ""},
            "reply": None,
            "details": [
                {"sw_if_index": i, "interface_name": n, "interface_dev_type": t, "flags": 3}
                for i, n, t, _ in interfaces
            ],
        }
    ]
    for index, _, _, addresses in interfaces:
        for is_ipv6 in (False, True):
            calls.append(
                {
                    "method": "ip_address_dump",
                    "args": {"sw_if_index": index, "is_ipv6": is_ipv6},
                    "reply": None,
                    "details": [
                        {"sw_if_index": index, "prefix": f"{a}/24"}
                        for a in addresses
                        if (":" in a) == is_ipv6
                    ],
                }
            )
    arg = {"ipsec_sa_v5_dump": "sa_id", "ipcomp_sa_dump": "sa_id"}
    for method, details in dumps.items():
        calls.append(
            {
                "method": method,
                "args": {arg.get(method, "sw_if_index"): 0xFFFFFFFF},
                "reply": None,
                "details": details,
            }
        )
    methods = {"sw_interface_dump": True, **{m: True for m in dumps}}
    return {
        "format": RECORDING_FORMAT,
        "host": name,
        "unreachable": None,
        "methods": methods,
        "calls": calls,
    }
