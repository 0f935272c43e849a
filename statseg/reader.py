"""Decode a statistics segment held in a buffer (a live mmap or bytes).

VPP changes the segment's shape (directory, vector pointers, names) only under
its lock, bumping ``epoch``; counter values change in place at any time. The
reader therefore splits the work in two:

* a :class:`_Plan`, built once per epoch: names decoded, every pointer and
  length checked against the segment, name vectors read;
* :meth:`SegmentReader.read`, per snapshot: copy the values the plan locates
  (one numpy slice per thread per counter vector), then confirm that the epoch
  did not move and VPP was not mid-update. Otherwise retry, a bounded number
  of times with a short sleep in between.

Symlinks (``/err/*``, ``/nodes/*``) are resolved to ``(target, index)`` once
per epoch and cost nothing per snapshot.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from vppcomp.statseg.layout import (
    DIRECTORY_ENTRY_DTYPE,
    HEADER,
    MAX_THREADS,
    RING_BUFFER_HEADER,
    RING_METADATA,
    RING_METADATA_STRIDE,
    SEGMENT_VERSION,
    VEC_HEADER_SIZE,
    SegmentBusy,
    SegmentError,
    StatType,
)
from vppcomp.statseg.snapshot import (
    Log2Histogram,
    RingBuffer,
    RingThread,
    Snapshot,
    SymlinkTable,
)

T = TypeVar("T")
_U32 = struct.Struct("<I")
_TYPES = list(StatType)  # StatType by value: values are 0..9
_COUNTER_TYPES = (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED)
_VALUE_TYPES = (StatType.SCALAR_INDEX, StatType.GAUGE)


@dataclass
class ReadStats:
    """What reading cost: snapshots taken, retries for a moving epoch or a
    locked segment, plans rebuilt, and reads that gave up."""

    snapshots: int = 0
    retries: int = 0
    plans: int = 0
    failures: int = 0


@dataclass
class _Vector:
    """Per-thread u64 data of one counter vector or histogram: word offsets
    (into the segment as ``uint64``) and words per thread."""

    word_offsets: list[int]
    words: int


@dataclass
class _Ring:
    offset: int  # byte offset of vlib_stats_ring_buffer_t
    entry_size: int
    ring_size: int
    n_threads: int
    schema_version: int
    schema: bytes
    metadata_offset: int
    data_offset: int


@dataclass
class _Plan:
    epoch: int
    directory_offset: int
    directory_count: int
    types: dict[str, StatType] = field(default_factory=dict)
    scalar_names: list[str] = field(default_factory=list)
    scalar_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    counters: dict[str, tuple[StatType, _Vector]] = field(default_factory=dict)
    histograms: dict[str, tuple[int, _Vector]] = field(default_factory=dict)
    rings: dict[str, _Ring] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)  # name vectors, empties
    symlinks: SymlinkTable = field(default_factory=lambda: SymlinkTable([], [], []))


class SegmentReader:
    """Reads snapshots out of one mapped segment.

    ``buffer`` is anything exposing the buffer protocol whose length is the
    segment size (an ``mmap`` for live VPP). The reader never writes to it and
    never keeps a view of it inside a returned :class:`Snapshot`.
    """

    def __init__(
        self,
        buffer: Any,
        segment_id: tuple[int, int] = (0, 0),
        *,
        max_retries: int = 50,
        retry_sleep: float = 0.0005,
    ) -> None:
        self._buf = memoryview(buffer).cast("B")
        self.size = len(self._buf)
        if self.size < HEADER.size or self.size % 8:
            raise SegmentError(f"segment of {self.size} bytes is too small or not 8-aligned")
        self._u64 = np.frombuffer(self._buf, dtype="<u8")
        self.segment_id = segment_id
        self.max_retries = max_retries
        self.retry_sleep = retry_sleep
        self.stats = ReadStats()
        self._plan: _Plan | None = None
        self._budget = 0
        version = self.header()[0]
        if version != SEGMENT_VERSION:
            raise SegmentError(f"stats segment version {version}, expected {SEGMENT_VERSION}")

    def close(self) -> None:
        """Drop every view of the buffer so that its owner can close it."""
        self._plan = None
        self._u64 = np.empty(0, dtype="<u8")
        self._buf.release()

    def header(self) -> tuple[int, int, int, int, int]:
        """``(version, base, epoch, in_progress, directory_vector)``."""
        return HEADER.unpack_from(self._buf, 0)

    @property
    def epoch(self) -> int:
        return self.header()[2]

    def read(self) -> Snapshot:
        """A consistent snapshot of every entry.

        Raises :class:`SegmentBusy` when VPP keeps the segment locked or
        changing for ``max_retries`` attempts, and :class:`SegmentError` when
        the segment is malformed while stable."""
        snapshot = self._consistent(self._read_snapshot)
        self.stats.snapshots += 1
        return snapshot

    def image(self) -> bytes:
        """A consistent raw copy of the whole segment (for bug reports and tests)."""
        return self._consistent(lambda base, epoch: bytes(self._buf))

    def _read_snapshot(self, base: int, epoch: int) -> Snapshot:
        plan = self._plan
        if plan is None or plan.epoch != epoch:
            plan = self._build_plan(base, epoch)
        snapshot = self._read_values(plan)
        self._plan = plan
        return snapshot

    def _consistent(self, action: Callable[[int, int], T]) -> T:
        """Run ``action(base, epoch)`` until it completes under one epoch with
        VPP not mid-update, sleeping ``retry_sleep`` between attempts."""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats.retries += 1
                time.sleep(self.retry_sleep)
            _, base, epoch, in_progress, _ = self.header()
            if in_progress:
                continue
            try:
                result = action(base, epoch)
            except SegmentError:
                if self._stable(epoch):
                    self.stats.failures += 1
                    raise
                continue
            if self._stable(epoch):
                return result
        self.stats.failures += 1
        raise SegmentBusy(f"segment still changing after {self.max_retries} retries")

    def _stable(self, epoch: int) -> bool:
        _, _, now, in_progress, _ = self.header()
        return now == epoch and not in_progress

    # -- layout checks ----------------------------------------------------

    def _vec(self, base: int, pointer: int, element_size: int, what: str) -> tuple[int, int]:
        """Offset and length of the VPP vector at ``pointer``, checked."""
        offset = pointer - base
        if pointer == 0 or not HEADER.size + VEC_HEADER_SIZE <= offset <= self.size or offset % 8:
            raise SegmentError(f"{what}: bad vector pointer {pointer:#x}")
        (length,) = _U32.unpack_from(self._buf, offset - VEC_HEADER_SIZE)
        if offset + length * element_size > self.size:
            raise SegmentError(f"{what}: vector of {length} x {element_size} B overruns segment")
        return offset, length

    def _charge(self, nbytes: int, what: str) -> None:
        """Count bytes a plan will copy. Distinct vectors cannot hold more than
        the segment does; more means overlapping (corrupt) pointers."""
        self._budget -= nbytes
        if self._budget < 0:
            raise SegmentError(f"{what}: vectors claim more data than the segment holds")

    def _thread_vectors(
        self, base: int, pointer: int, words_per_element: int, what: str
    ) -> tuple[list[int], list[int]]:
        """Word offsets and element counts of a per-thread vector of vectors."""
        offset, n_threads = self._vec(base, pointer, 8, what)
        self._charge(8 * n_threads, what)
        if n_threads > MAX_THREADS:
            raise SegmentError(f"{what}: {n_threads} threads")
        pointers = self._u64[offset // 8 : offset // 8 + n_threads].tolist()
        starts, lengths = [], []
        for thread, ptr in enumerate(pointers):
            start, length = self._vec(base, ptr, 8 * words_per_element, f"{what}[{thread}]")
            self._charge(8 * words_per_element * length, what)
            starts.append(start // 8)
            lengths.append(length)
        return starts, lengths

    # -- per epoch --------------------------------------------------------

    def _build_plan(self, base: int, epoch: int) -> _Plan:
        self.stats.plans += 1
        self._budget = self.size
        dir_ptr = self.header()[4]
        offset, count = self._vec(base, dir_ptr, DIRECTORY_ENTRY_DTYPE.itemsize, "directory")
        directory = np.frombuffer(
            self._buf, dtype=DIRECTORY_ENTRY_DTYPE, count=count, offset=offset
        ).copy()
        plan = _Plan(epoch, offset, count)
        # A name ends at its first NUL; VPP leaves old bytes behind it.
        names = [
            raw.partition(b"\0")[0].decode("utf-8", "replace") for raw in directory["name"].tolist()
        ]
        kinds = directory["type"]
        pointers = directory["value"]
        listed = (kinds != StatType.EMPTY) & (kinds != StatType.ILLEGAL) & (kinds <= StatType.GAUGE)
        listed &= np.fromiter(map(bool, names), dtype=bool, count=count)
        is_link = listed & (kinds == StatType.SYMLINK)
        scalar_rows: list[int] = []
        elements = np.zeros(count, dtype=np.int64)  # indexable length of counter rows
        for row in np.flatnonzero(listed & ~is_link).tolist():
            name, kind, value = names[row], _TYPES[kinds[row]], int(pointers[row])
            if kind in _VALUE_TYPES:
                plan.scalar_names.append(name)
                scalar_rows.append(row)
            elif kind in _COUNTER_TYPES:
                words = 1 if kind == StatType.COUNTER_VECTOR_SIMPLE else 2
                starts, lengths = self._thread_vectors(base, value, words, name)
                n = min(lengths, default=0)
                plan.counters[name] = (kind, _Vector(starts, n * words))
                elements[row] = n
            elif kind == StatType.HISTOGRAM_LOG2:
                starts, lengths = self._thread_vectors(base, value, 1, name)
                min_exp = int(self._u64[starts[0]]) if starts and lengths[0] else 0
                # word 0 of each thread's bins holds min_exp
                words = max(min(lengths, default=0) - 1, 0)
                plan.histograms[name] = (min_exp, _Vector([s + 1 for s in starts], words))
            elif kind == StatType.NAME_VECTOR:
                plan.constants[name] = self._name_vector(base, value, name)
            elif kind == StatType.RING_BUFFER:
                plan.rings[name] = self._ring(base, value, name)
        plan.symlinks = self._symlinks(names, is_link, pointers, elements)
        rows = np.flatnonzero(listed).tolist()
        plan.types = dict(
            zip([names[r] for r in rows], [_TYPES[k] for k in kinds[rows].tolist()], strict=True)
        )
        plan.scalar_rows = np.asarray(scalar_rows, dtype=np.intp)
        return plan

    @staticmethod
    def _symlinks(
        names: list[str], is_link: np.ndarray, pointers: np.ndarray, elements: np.ndarray
    ) -> SymlinkTable:
        """Check every symlink at once: its target must be a counter vector
        row and its index inside that vector."""
        rows = np.flatnonzero(is_link)
        index1 = (pointers[rows] & 0xFFFFFFFF).astype(np.int64)
        index2 = (pointers[rows] >> 32).astype(np.int64)
        inside = index1 < len(elements)
        ok = inside & (
            index2 < np.where(inside, elements[np.minimum(index1, len(elements) - 1)], 0)
        )
        if not ok.all():
            bad = int(np.flatnonzero(~ok)[0])
            raise SegmentError(
                f"{names[rows[bad]]}: symlink to entry {index1[bad]} index {index2[bad]}, "
                "not inside a counter vector"
            )
        link_names = [names[r] for r in rows.tolist()]
        targets = [names[i] for i in index1.tolist()]
        return SymlinkTable(link_names, targets, index2.tolist())

    def _name_vector(self, base: int, pointer: int, what: str) -> list[str | None]:
        offset, count = self._vec(base, pointer, 8, what)
        self._charge(8 * count, what)
        result: list[str | None] = []
        for i, ptr in enumerate(self._u64[offset // 8 : offset // 8 + count].tolist()):
            if not ptr:
                result.append(None)
                continue
            start, length = self._vec(base, ptr, 1, f"{what}[{i}]")
            self._charge(length, what)
            raw = bytes(self._buf[start : start + length])
            result.append(raw.split(b"\0", 1)[0].decode("utf-8", "replace"))
        return result

    def _ring(self, base: int, pointer: int, what: str) -> _Ring:
        offset = pointer - base
        if pointer == 0 or offset < HEADER.size or offset + RING_BUFFER_HEADER.size > self.size:
            raise SegmentError(f"{what}: bad ring buffer pointer {pointer:#x}")
        (entry_size, ring_size, n_threads, schema_size, schema_version, meta_off, data_off) = (
            RING_BUFFER_HEADER.unpack_from(self._buf, offset)
        )
        end_meta = offset + meta_off + n_threads * RING_METADATA_STRIDE
        end_data = offset + data_off + n_threads * ring_size * entry_size
        slots = n_threads * ring_size * max(entry_size, 1)
        if n_threads > MAX_THREADS or max(end_meta, end_data, slots) > self.size:
            raise SegmentError(f"{what}: ring buffer overruns segment")
        self._charge(slots, what)
        schema = b""
        if n_threads and schema_size:
            _, _, _, schema_off, size = RING_METADATA.unpack_from(self._buf, offset + meta_off)
            if offset + schema_off + size > self.size:
                raise SegmentError(f"{what}: ring buffer schema overruns segment")
            schema = bytes(self._buf[offset + schema_off : offset + schema_off + size])
        return _Ring(
            offset, entry_size, ring_size, n_threads, schema_version, schema, meta_off, data_off
        )

    # -- per snapshot -----------------------------------------------------

    def _read_values(self, plan: _Plan) -> Snapshot:
        values: dict[str, Any] = dict(plan.constants)
        directory = np.frombuffer(
            self._buf,
            dtype=DIRECTORY_ENTRY_DTYPE,
            count=plan.directory_count,
            offset=plan.directory_offset,
        )
        scalars = directory["value"][plan.scalar_rows].tolist()
        del directory
        values.update(zip(plan.scalar_names, scalars, strict=True))
        u64 = self._u64
        for name, (kind, vector) in plan.counters.items():
            array = _gather(u64, vector)
            if kind == StatType.COUNTER_VECTOR_COMBINED:
                array = array.reshape(array.shape[0], -1, 2)
            values[name] = array
        for name, (min_exp, vector) in plan.histograms.items():
            values[name] = Log2Histogram(min_exp, _gather(u64, vector))
        for name, ring in plan.rings.items():
            values[name] = self._read_ring(ring)
        return Snapshot(plan.epoch, time.time(), self.segment_id, plan.types, values, plan.symlinks)

    def _read_ring(self, ring: _Ring) -> RingBuffer:
        threads = []
        for t in range(ring.n_threads):
            meta = ring.offset + ring.metadata_offset + t * RING_METADATA_STRIDE
            head, _, sequence, _, _ = RING_METADATA.unpack_from(self._buf, meta)
            available = min(sequence, ring.ring_size)
            data = ring.offset + ring.data_offset + t * ring.ring_size * ring.entry_size
            records = []
            for k in range(available):
                slot = (head - available + k) % ring.ring_size if ring.ring_size else 0
                start = data + slot * ring.entry_size
                records.append(bytes(self._buf[start : start + ring.entry_size]))
            # Slots the producer refilled while we copied were the oldest ones.
            _, _, after, _, _ = RING_METADATA.unpack_from(self._buf, meta)
            overwritten = min(max(after - sequence, 0), len(records))
            threads.append(RingThread(head, sequence, records[overwritten:]))
        return RingBuffer(
            ring.entry_size, ring.ring_size, ring.schema_version, ring.schema, threads
        )


def _gather(u64: np.ndarray, vector: _Vector) -> np.ndarray:
    """Copy ``vector.words`` words at each thread's offset into a (threads, words) array."""
    out = np.empty((len(vector.word_offsets), vector.words), dtype=np.uint64)
    n = vector.words
    for row, start in enumerate(vector.word_offsets):
        out[row] = u64[start : start + n]
    return out
