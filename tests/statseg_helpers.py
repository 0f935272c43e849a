"""Helpers shared by the stats-segment tests: small snapshots of every entry
type, and comparison of a snapshot with what vpp_papi's VPPStats reads."""

from __future__ import annotations

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


def every_type_snapshot(interfaces: int = 3, threads: int = 2, tag: int = 0) -> Snapshot:
    """A snapshot holding one or more entries of every type; ``tag`` is added
    to every counter so that snapshots can be told apart."""
    names: list[str | None] = [f"if{i}" for i in range(interfaces)]
    if interfaces > 1:
        names[1] = None
    base = np.arange(threads * interfaces, dtype=np.uint64).reshape(threads, interfaces)
    entries: dict[str, tuple[StatType, Any]] = {
        "/sys/heartbeat": (StatType.SCALAR_INDEX, 100 + tag),
        "/sys/vector_rate": (StatType.GAUGE, 7 + tag),
        "/if/names": (StatType.NAME_VECTOR, names),
        "/if/drops": (StatType.COUNTER_VECTOR_SIMPLE, base + tag),
        "/if/rx": (
            StatType.COUNTER_VECTOR_COMBINED,
            np.stack([base + tag, base * 64 + tag], axis=-1).astype(np.uint64),
        ),
        "/node/errors": (
            StatType.COUNTER_VECTOR_SIMPLE,
            np.full((threads, 4), tag, dtype=np.uint64),
        ),
        "/err/ip4-input/no-route": (StatType.SYMLINK, Symlink("/node/errors", 2)),
        "/interfaces/if0/rx": (StatType.SYMLINK, Symlink("/if/rx", 0)),
        "/ipcomp/size": (
            StatType.HISTOGRAM_LOG2,
            Log2Histogram(4, np.full((threads, 6), tag + 1, dtype=np.uint64)),
        ),
        "/ipcomp/events": (
            StatType.RING_BUFFER,
            RingBuffer(
                32,
                4,
                1,
                b"schema v1",
                [
                    RingThread(
                        (tag + 1) % 4,
                        tag + 1,
                        # as the reader returns a ring: never the slot VPP writes next
                        [bytes([(tag + k) % 256]) * 32 for k in range(min(tag + 1, 3))],
                    )
                    for _ in range(threads)
                ],
            ),
        ),
    }
    return snapshot_from_mapping(entries, epoch=1)


def papi_value(stats: Any, name: str, kind: StatType) -> Any:
    """What VPPStats returns for ``name``, normalised to this project's shapes."""
    if kind == StatType.RING_BUFFER:
        ring = stats.get_ring_buffer(name)
        return [ring.consume_data(t) for t in range(ring.config["n_threads"])]
    value = stats[name]
    if kind == StatType.HISTOGRAM_LOG2:
        return (value.min_exp, np.asarray(value.bins, dtype=np.uint64))
    if kind in (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED):
        return np.asarray(value, dtype=np.uint64)
    if kind == StatType.SYMLINK:
        return np.asarray(value, dtype=np.uint64)
    return value


def assert_matches_papi(snapshot: Snapshot, stats: Any) -> int:
    """Assert every entry of ``snapshot`` equals what VPPStats reads; returns
    how many entries were compared."""
    compared = 0
    for name in snapshot:
        kind = snapshot.type(name)
        theirs = papi_value(stats, name, kind)
        ours = snapshot[name]
        if kind == StatType.NAME_VECTOR:
            # VPPStats drops holes; this reader keeps them as None.
            assert [n for n in ours if n is not None] == theirs, name
        elif kind == StatType.HISTOGRAM_LOG2:
            assert ours.min_exp == theirs[0], name
            np.testing.assert_array_equal(ours.bins, theirs[1], err_msg=name)
        elif kind == StatType.RING_BUFFER:
            # VPPStats also returns the slot VPP writes next, which this
            # reader leaves out (it may be half written); and records are
            # there only for a snapshot read with ring_records.
            for thread, records in zip(ours.threads, theirs, strict=True):
                if thread.records:
                    assert len(thread.records) == min(thread.sequence, ours.ring_size - 1), name
                    assert records[len(records) - len(thread.records) :] == thread.records, name
        elif isinstance(ours, np.ndarray):
            np.testing.assert_array_equal(ours, theirs.reshape(ours.shape), err_msg=name)
        else:
            assert ours == theirs, name
        compared += 1
    return compared
