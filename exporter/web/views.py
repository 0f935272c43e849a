"""JSON views of one snapshot: interfaces, ipcomp SAs, engines and events.

Values are VPP's raw counters summed over threads at the moment of the
snapshot (no restart or clear compensation: that is what ``/metrics`` is
for). Each function is pure: snapshot in, JSON-ready data out.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

import numpy as np

from vppcomp.exporter.metrics.collectors.interfaces import DELETED
from vppcomp.exporter.metrics.collectors.ipcomp import (
    ENGINE_GAUGES,
    ENGINE_PREFIX,
    EVENTS,
    OPS,
    SA_COUNTERS,
    SA_NAMES,
    engine_names,
)
from vppcomp.statseg.layout import StatType
from vppcomp.statseg.snapshot import RingBuffer, Snapshot

_VECTORS = (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED)

#: ``ipcomp_event_t`` (plugin/ipcomp/ipcomp.h): 64 bytes, little endian
EVENT = struct.Struct("<QHHIIHBBII16s16s")
EVENT_TYPES = {
    1: "sa-add",
    2: "sa-del",
    3: "engine-failure",
    4: "decompress-failure",
    5: "protect-add",
    6: "protect-del",
    7: "device-failure",
    8: "device-recovery",
    9: "engine-switch",
}
_NONE32 = 0xFFFFFFFF


def _columns(snap: Snapshot, prefix: str, size: int) -> dict[str, np.ndarray]:
    """Counter vectors ``<prefix><name>`` summed over threads, cut to ``size``."""
    columns = {}
    for path in snap.values:
        rest = path[len(prefix) :]
        if path.startswith(prefix) and "/" not in rest and snap.type(path) in _VECTORS:
            columns[rest] = snap.total(path)[:size]
    return columns


def _counter(column: np.ndarray, index: int) -> Any:
    if index >= len(column):
        return None
    value = column[index]
    if np.ndim(value):
        return {"packets": int(value[0]), "bytes": int(value[1])}
    return int(value)


def interfaces(snap: Snapshot) -> list[dict[str, Any]]:
    """Every live interface: name, sw_if_index and its ``/if/*`` counters."""
    names = snap.values.get("/if/names", [])
    columns = _columns(snap, "/if/", len(names))
    return [
        {
            "name": name,
            "sw_if_index": index,
            "counters": {k: _counter(c, index) for k, c in columns.items()},
        }
        for index, name in enumerate(names)
        if name is not None and name != DELETED
    ]


def sas(snap: Snapshot) -> list[dict[str, Any]]:
    """Every ipcomp SA: id, index, counters, bytes saved and compression ratio."""
    names = snap.values.get(SA_NAMES, [])
    columns = {
        k: v for k, v in _columns(snap, "/net/ipcomp/sa/", len(names)).items() if k in SA_COUNTERS
    }
    result = []
    for index, name in enumerate(names):
        if not name:
            continue
        counters = {k: _counter(c, index) for k, c in columns.items()}
        entry: dict[str, Any] = {"sa": name, "sa_index": index, "counters": counters}
        into, out = counters.get("compressed-in"), counters.get("compressed-out")
        if into and out:
            entry["saved_bytes"] = max(into["bytes"] - out["bytes"], 0)
            entry["compression_ratio"] = out["bytes"] / into["bytes"] if into["bytes"] else None
        result.append(entry)
    return result


def engines(snap: Snapshot) -> list[dict[str, Any]]:
    """Every ipcomp engine: gauges and per-op calls, input bytes and clocks."""
    result = []
    for index, engine in enumerate(engine_names(snap)):
        gauges = {
            gauge: snap[path]
            for gauge in (*ENGINE_GAUGES, *(f"{op}-clocks-avg" for op in OPS))
            if (path := f"{ENGINE_PREFIX}{engine}/{gauge}") in snap
        }
        ops: dict[str, Any] = {}
        for op in OPS:
            calls = f"{ENGINE_PREFIX}calls/{op}"
            clocks = f"{ENGINE_PREFIX}clocks/{op}"
            entry: dict[str, Any] = {}
            if calls in snap and index < snap[calls].shape[1]:
                packets, octets = snap.total(calls)[index].tolist()
                entry.update(ops=packets, input_bytes=octets)
            if clocks in snap and index < snap[clocks].shape[1]:
                entry["clocks"] = int(snap.total(clocks)[index])
            ops[op] = entry
        result.append({"engine": engine, "index": index, "gauges": gauges, "ops": ops})
    return result


def events(snap: Snapshot, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``limit`` records of the ipcomp event ring, newest first."""
    if EVENTS not in snap or not isinstance(snap[EVENTS], RingBuffer):
        return []
    ring: RingBuffer = snap[EVENTS]
    decoded = []
    for thread, ring_thread in enumerate(ring.threads):
        for record in ring_thread.records:
            if len(record) >= EVENT.size:
                decoded.append(_event(thread, record[: EVENT.size]))
    decoded.sort(key=lambda e: e["timestamp_ns"], reverse=True)
    return decoded[:limit]


def _event(thread: int, record: bytes) -> dict[str, Any]:
    (ts, kind, reason, sa_index, sa_id, cpi, is_ip6, engine, sw_if_index, length, src, dst) = (
        EVENT.unpack(record)
    )

    def address(raw: bytes) -> str:
        return str(ipaddress.ip_address(raw if is_ip6 else raw[:4]))

    return {
        "thread": thread,
        "timestamp_ns": ts,
        "type": EVENT_TYPES.get(kind, str(kind)),
        "reason": reason,
        "sa_index": None if sa_index == _NONE32 else sa_index,
        "sa": None if sa_id == _NONE32 else sa_id,
        "cpi": cpi,
        "engine_index": None if engine == 0xFF else engine,
        "sw_if_index": None if sw_if_index == _NONE32 else sw_if_index,
        "length": length,
        "src": address(src),
        "dst": address(dst),
    }
