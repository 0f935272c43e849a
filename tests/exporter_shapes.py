"""Deterministic stats segments for the exporter's tests and benchmark.

:func:`exporter_snapshot` holds one of everything the exporter reads, in the
shapes VPP 26.06 and the ipcomp plugin publish them (see
``plugin/ipcomp/ipcomp_stats.c`` and ``engine.c``): interfaces with their
symlinks, node runtime counters, node errors, a buffer pool, a heap, the
``/sys`` scalars, and the plugin's SA counters, engine counters and gauges,
log2 histograms and event ring, and its asynchronous ``compressdev`` engine
(offload SA counters, one offload device with its queue-pair counters and
latency histogram, node error ``offload-drop``).  Entries added later are
appended as separate columns so that earlier values (and golden lines) stay
the same. Values are small formulas of the index,
thread and ``tick`` so that later snapshots count upwards.
:func:`with_ipcomp` adds the plugin's entries to any snapshot (the benchmark
uses it on :func:`synthetic.synthetic_snapshot`).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np

from vppcomp.statseg.layout import StatType
from vppcomp.statseg.snapshot import (
    Log2Histogram,
    RingBuffer,
    RingThread,
    Snapshot,
    Symlink,
    snapshot_from_mapping,
)

Entries = dict[str, tuple[StatType, Any]]

SIMPLE_IF = ("drops", "punt", "ip4", "ip6", "rx-no-buf", "rx-miss", "rx-error", "tx-error", "mpls")
COMBINED_IF = (
    "rx", "rx-unicast", "rx-multicast", "rx-broadcast",
    "tx", "tx-unicast", "tx-multicast", "tx-broadcast",
)  # fmt: skip
SA_COUNTERS = (
    "compressed-in", "compressed-out", "bypass", "incompressible", "decompressed-in",
    "decompressed-out", "rx-errors", "tx-errors", "backoff",
)  # fmt: skip
ENGINES = ("zlib", "isal")  # engine index order, as plugin/README.md lists it
ASYNC_ENGINE = "compressdev"  # registered after them (index 2) with a compressdev section
OFFLOAD_SA = (
    "offload-hw", "offload-fallback-queue-full", "offload-fallback-device-error",
    "offload-fallback-no-device", "offload-fallback-too-big", "offload-fallback-data-error",
    "offload-dropped", "offload-fallback-timeout",
)  # fmt: skip
OFFLOAD_COUNTERS = ("enqueue-errors", "dequeue-errors", "out-of-space", "late", "reordered")
DEVICE = "compress_isal0"
NODES = ("ip4-input", "ipcomp4-compress", "ipcomp4-decompress", "ipcomp6-compress")
ERRORS = (
    ("ipcomp4-compress", "compressed"),
    ("ipcomp4-compress", "bypass"),
    ("ipcomp4-decompress", "corrupt"),
    ("ip4-input", "ip4 ttl <= 1"),
)
OFFLOAD_ERROR = ("ipcomp4-compress", "offload-drop")
EVENT = struct.Struct("<QHHIIHBBII16s16s")


def _ramp(shape: tuple[int, ...], scale: int, tick: int) -> np.ndarray:
    """uint64 values ``scale * (1 + flat index) * (1 + tick)``."""
    count = int(np.prod(shape))
    return (np.arange(1, count + 1, dtype=np.uint64) * scale * (1 + tick)).reshape(shape)


def _combined(threads: int, n: int, packets: int, size: int, tick: int) -> np.ndarray:
    pk = _ramp((threads, n), packets, tick)
    return np.stack([pk, pk * np.uint64(size)], axis=-1)


def plugin_event_schema() -> bytes:
    """The schema text the plugin publishes with its event ring: the C string
    ``ipcomp_event_schema`` of ``plugin/ipcomp/ipcomp_stats.c``, its literals joined."""
    source = (Path(__file__).parents[1] / "plugin/ipcomp/ipcomp_stats.c").read_text()
    body = re.search(r'ipcomp_event_schema\[\]\s*=\s*((?:\s*"(?:[^"\\]|\\.)*")+)\s*;', source)
    assert body is not None, "ipcomp_event_schema not found in ipcomp_stats.c"
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body.group(1)))
    return text.encode().decode("unicode_escape").encode()


def event_record(kind: int, sa_index: int, sa_id: int, cpi: int, ts: int, length: int) -> bytes:
    """One 64-byte ``ipcomp_event_t`` between 10.0.0.1 and 10.0.0.2."""
    src = bytes([10, 0, 0, 1]) + bytes(12)
    dst = bytes([10, 0, 0, 2]) + bytes(12)
    return EVENT.pack(ts, kind, 0, sa_index, sa_id, cpi, 0, 0, 0xFFFFFFFF, length, src, dst)


def ipcomp_entries(sas: int, threads: int, tick: int = 0) -> Entries:
    """The plugin's entries for ``sas`` SAs (ids 100, 200, ...) and two engines."""
    entries: Entries = {
        "/net/ipcomp/sa/names": (
            StatType.NAME_VECTOR,
            [str(100 * (i + 1)) if i != 2 else "" for i in range(sas)],  # SA 2: deleted
        ),
        "/net/ipcomp/sas": (StatType.GAUGE, sas),
        "/net/ipcomp/tunnels": (StatType.GAUGE, 1),
    }
    for k, counter in enumerate(SA_COUNTERS):
        size = 1400 if counter in ("compressed-in", "decompressed-out") else 500 + k
        values = _combined(threads, sas, 10 + k, size, tick)
        entries[f"/net/ipcomp/sa/{counter}"] = (StatType.COUNTER_VECTOR_COMBINED, values)
    for op in ("compress", "decompress"):
        calls = _combined(threads, len(ENGINES), 20, 1400, tick)
        calls = np.concatenate([calls, _combined(threads, 1, 30, 900, tick)], axis=1)
        entries[f"/net/ipcomp/engine/calls/{op}"] = (StatType.COUNTER_VECTOR_COMBINED, calls)
        clocks = _ramp((threads, len(ENGINES)), 5000, tick)
        clocks = np.concatenate([clocks, _ramp((threads, 1), 9000, tick)], axis=1)
        entries[f"/net/ipcomp/engine/clocks/{op}"] = (StatType.COUNTER_VECTOR_SIMPLE, clocks)
    for index, engine in enumerate(ENGINES):
        prefix = f"/net/ipcomp/engine/{engine}"
        entries[f"{prefix}/sas"] = (StatType.GAUGE, sas if index == 0 else 0)
        entries[f"{prefix}/priority"] = (StatType.GAUGE, 50 + 50 * index)
        entries[f"{prefix}/context-bytes"] = (StatType.GAUGE, 300_000 + index)
        entries[f"{prefix}/inflight"] = (StatType.GAUGE, 0)
        for op in ("compress", "decompress"):
            entries[f"{prefix}/{op}-clocks-avg"] = (StatType.GAUGE, 250 + 10 * index)
            bins = (
                _ramp((threads, 24), 1, tick) if engine == "isal" else np.zeros((threads, 24), "u8")
            )
            entries[f"{prefix}/{op}-clocks"] = (
                StatType.HISTOGRAM_LOG2,
                Log2Histogram(4, bins.astype(np.uint64)),
            )
    entries.update(_async_engine_entries(threads, tick))
    for path in ("compress-in-bytes", "decompress-out-bytes"):
        entries[f"/net/ipcomp/hist/{path}"] = (
            StatType.HISTOGRAM_LOG2,
            Log2Histogram(5, _ramp((threads, 12), 2, tick)),
        )
    rings = []
    for thread in range(threads):
        records = [
            event_record(1 + (i % 2) * 3, i % max(sas, 1), 100, 0x1000 + i, 10**18 + i, 64 * i)
            for i in range(thread + 1 + tick)
        ]
        rings.append(RingThread(len(records) % 8, len(records), records[-8:]))
    entries["/net/ipcomp/events"] = (
        StatType.RING_BUFFER,
        RingBuffer(64, 8, 1, plugin_event_schema(), rings),
    )
    entries.update(offload_entries(sas, threads, tick))
    return entries


def _async_engine_entries(threads: int, tick: int) -> Entries:
    """The ``compressdev`` engine's gauges and clock histograms (its calls
    and clocks are column 2 of the engine vectors)."""
    prefix = f"/net/ipcomp/engine/{ASYNC_ENGINE}"
    entries: Entries = {
        f"{prefix}/sas": (StatType.GAUGE, 1),
        f"{prefix}/priority": (StatType.GAUGE, 50),
        f"{prefix}/context-bytes": (StatType.GAUGE, 4096),
        # one op on each queue pair's device (offload_entries)
        f"{prefix}/inflight": (StatType.GAUGE, threads),
    }
    for op in ("compress", "decompress"):
        entries[f"{prefix}/{op}-clocks-avg"] = (StatType.GAUGE, 900)
        bins = _ramp((threads, 24), 3, tick)
        entries[f"{prefix}/{op}-clocks"] = (StatType.HISTOGRAM_LOG2, Log2Histogram(4, bins))
    return entries


def offload_entries(sas: int, threads: int, tick: int = 0) -> Entries:
    """The offload entries of plugin/README.md: per-SA hardware, fallback and
    drop counters, and one device with one operation in flight on each queue
    pair (``enqueued == dequeued + inflight``, the engine's in-flight gauge
    summing them)."""
    entries: Entries = {}
    for k, counter in enumerate(OFFLOAD_SA):
        values = _combined(threads, sas, 30 + k, 700 + k, tick)
        entries[f"/net/ipcomp/sa/{counter}"] = (StatType.COUNTER_VECTOR_COMBINED, values)
    inflight = np.ones((threads, 1), dtype=np.uint64)
    enqueued = _ramp((threads, 1), 40, tick) + inflight
    simple = StatType.COUNTER_VECTOR_SIMPLE
    entries["/net/ipcomp/offload/devices"] = (StatType.NAME_VECTOR, [DEVICE])
    entries["/net/ipcomp/offload/enqueued"] = (simple, enqueued)
    entries["/net/ipcomp/offload/dequeued"] = (simple, enqueued - inflight)
    for k, counter in enumerate(OFFLOAD_COUNTERS):
        entries[f"/net/ipcomp/offload/{counter}"] = (simple, _ramp((threads, 1), 1 + k, tick))
    entries["/net/ipcomp/offload/latency-clocks"] = (
        StatType.HISTOGRAM_LOG2,
        Log2Histogram(6, _ramp((threads, 24), 1, tick)),
    )
    return entries


def with_ipcomp(snapshot: Snapshot, sas: int, threads: int, tick: int = 0) -> Snapshot:
    """``snapshot`` plus the plugin's entries."""
    entries: Entries = {}
    for name in snapshot:
        kind = snapshot.type(name)
        link = snapshot.symlink(name)
        entries[name] = (kind, link if link is not None else snapshot.values[name])
    entries.update(ipcomp_entries(sas, threads, tick))
    return snapshot_from_mapping(entries, epoch=snapshot.epoch)


def exporter_snapshot(threads: int = 2, tick: int = 0) -> Snapshot:
    """The golden-file segment: three interfaces (one deleted), four nodes,
    four errors, one buffer pool, one heap, three SAs (one deleted), two
    engines."""
    interfaces: list[str | None] = ["local0", "loop0", "deleted", "ipcomp0"]
    entries: Entries = {
        "/sys/last_stats_clear": (StatType.SCALAR_INDEX, 0),
        "/sys/heartbeat": (StatType.SCALAR_INDEX, 40 + tick),
        "/sys/boottime": (StatType.SCALAR_INDEX, 1_790_000_000),
        "/sys/vector_rate": (StatType.GAUGE, 3),
        "/sys/num_worker_threads": (StatType.GAUGE, threads - 1),
        "/sys/last_update": (StatType.SCALAR_INDEX, 120 + tick),
        "/sys/vector_rate_per_worker": (StatType.COUNTER_VECTOR_SIMPLE, _ramp((1, threads), 2, 0)),
        "/sys/loops_per_worker": (StatType.COUNTER_VECTOR_SIMPLE, _ramp((1, threads), 1000, 0)),
        "/if/names": (StatType.NAME_VECTOR, interfaces),
    }
    for k, counter in enumerate(SIMPLE_IF):
        values = _ramp((threads, len(interfaces)), k, tick)
        entries[f"/if/{counter}"] = (StatType.COUNTER_VECTOR_SIMPLE, values)
    for k, counter in enumerate(COMBINED_IF):
        values = _combined(threads, len(interfaces), 100 + k, 60 + k, tick)
        entries[f"/if/{counter}"] = (StatType.COUNTER_VECTOR_COMBINED, values)
    for index, name in enumerate(interfaces):
        if name is not None and name != "deleted":
            for counter in (*SIMPLE_IF, *COMBINED_IF):
                entries[f"/interfaces/{name}/{counter}"] = (
                    StatType.SYMLINK,
                    Symlink(f"/if/{counter}", index),
                )
    entries["/sys/node/names"] = (StatType.NAME_VECTOR, list(NODES))
    for k, counter in enumerate(("clocks", "vectors", "calls", "suspends")):
        values = _ramp((threads, len(NODES)), 10**k, tick)
        entries[f"/sys/node/{counter}"] = (StatType.COUNTER_VECTOR_SIMPLE, values)
        for index, node in enumerate(NODES):
            entries[f"/nodes/{node}/{counter}"] = (
                StatType.SYMLINK,
                Symlink(f"/sys/node/{counter}", index),
            )
    errors = _ramp((threads, len(ERRORS)), 3, tick)
    errors = np.concatenate([errors, _ramp((threads, 1), 2, tick)], axis=1)
    entries["/node/errors"] = (StatType.COUNTER_VECTOR_SIMPLE, errors)
    for index, (node, reason) in enumerate((*ERRORS, OFFLOAD_ERROR)):
        entries[f"/err/{node}/{reason}"] = (StatType.SYMLINK, Symlink("/node/errors", index))
    for which, value in (("cached", 12), ("used", 700), ("available", 15684)):
        entries[f"/buffer-pools/default-numa-0/{which}"] = (StatType.GAUGE, value)
    heap = np.zeros((threads, 7), dtype=np.uint64)
    heap[0] = [1 << 30, 300 << 20, 724 << 20, 0, 310 << 20, 9, 4096]
    entries["/mem/main heap"] = (StatType.COUNTER_VECTOR_SIMPLE, heap)
    for index, which in ((1, "used"), (0, "total"), (2, "free")):
        entries[f"/mem/main heap/{which}"] = (StatType.SYMLINK, Symlink("/mem/main heap", index))
    entries.update(ipcomp_entries(3, threads, tick))
    return snapshot_from_mapping(entries, epoch=1)
