"""Decode a statistics segment held in a buffer (a live mmap or bytes).

VPP changes the segment's shape (directory, vector pointers, names) only under
its lock, bumping ``epoch``; counter values change in place at any time. The
reader therefore splits the work in two:

* a :class:`_Plan`, built once per epoch: names decoded, every pointer and
  length checked against the segment, name vectors read;
* :meth:`SegmentReader.read`, per snapshot: copy the values the plan locates
  (one numpy slice per thread per counter vector), then confirm that the epoch
  did not move and VPP was not mid-update. Otherwise retry with short sleeps
  until ``busy_timeout`` seconds have passed.

Symlinks (``/err/*``, ``/nodes/*``) are resolved to ``(target, index)`` once
per epoch and cost nothing per snapshot.

Only a bad header or directory fails a snapshot (:class:`SegmentError`). An
entry that does not decode (a dangling symlink, a pointer or length outside
the segment in one vector) is left out and named, with the reason, in
:attr:`Snapshot.bad_entries`; every other entry is read as usual.

Ring buffers: VPP (``vlib_stats_ring_produce``) copies record number
``sequence`` into slot ``head``, then advances ``head`` and, last, increments
``sequence``. So record ``k`` lives in slot ``k % ring_size``, and slot
``sequence % ring_size`` (the oldest record of a full ring) may be half
written at any moment: the reader never returns it, and drops the records
the producer overwrote while they were copied (sequence read again after).
Records are copied only when asked for (``read(ring_records=True)``).
"""

from __future__ import annotations

import struct
import time
from array import array
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
from vppcomp.statseg.names import NAMES
from vppcomp.statseg.snapshot import (
    EntryTypes,
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
_ENTRY_SIZE = DIRECTORY_ENTRY_DTYPE.itemsize
_NAME_OFFSET = DIRECTORY_ENTRY_DTYPE.fields["name"][1]


#: Default for how long a read waits for VPP to release the segment lock.
DEFAULT_BUSY_TIMEOUT = 1.0
_FIRST_SLEEP = 0.0005
_MAX_SLEEP = 0.01


@dataclass
class ReadStats:
    """What reading cost: snapshots taken, retries for a moving epoch or a
    locked segment, plans rebuilt, reads that gave up, and entries left out
    of plans because they did not decode."""

    snapshots: int = 0
    retries: int = 0
    plans: int = 0
    failures: int = 0
    bad_entries: int = 0


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
    types: EntryTypes = field(default_factory=lambda: EntryTypes({}, b""))
    scalar_names: list[str] = field(default_factory=list)
    scalar_rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    counters: dict[str, tuple[StatType, _Vector]] = field(default_factory=dict)
    histograms: dict[str, tuple[int, _Vector]] = field(default_factory=dict)
    rings: dict[str, _Ring] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)  # name vectors, empties
    symlinks: SymlinkTable = field(default_factory=lambda: SymlinkTable({}, [], [], [], 0))
    bad: dict[str, str] = field(default_factory=dict)  # entry name -> why it was left out


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
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self._buf = memoryview(buffer).cast("B")
        self.size = len(self._buf)
        if self.size < HEADER.size or self.size % 8:
            raise SegmentError(f"segment of {self.size} bytes is too small or not 8-aligned")
        self._u64 = np.frombuffer(self._buf, dtype="<u8")
        self.segment_id = segment_id
        self.busy_timeout = busy_timeout
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

    def read(self, *, ring_records: bool = False) -> Snapshot:
        """A consistent snapshot of every entry that decodes; ring buffers
        carry their records only with ``ring_records``.

        Raises :class:`SegmentBusy` when VPP keeps the segment locked or
        changing for ``busy_timeout`` seconds, and :class:`SegmentError` when
        the header or directory is malformed while stable."""
        snapshot = self._consistent(
            lambda base, epoch: self._read_snapshot(base, epoch, ring_records)
        )
        self.stats.snapshots += 1
        return snapshot

    def image(self) -> bytes:
        """A consistent raw copy of the whole segment (for bug reports and tests)."""
        return self._consistent(lambda base, epoch: bytes(self._buf))

    def _read_snapshot(self, base: int, epoch: int, ring_records: bool) -> Snapshot:
        plan = self._plan
        if plan is None or plan.epoch != epoch:
            plan = self._build_plan(base, epoch)
        snapshot = self._read_values(plan, ring_records)
        if plan is not self._plan and self._stable(epoch):
            self._plan = plan
            self.stats.bad_entries += len(plan.bad)
        return snapshot

    def _consistent(self, action: Callable[[int, int], T]) -> T:
        """Run ``action(base, epoch)`` until it completes under one epoch with
        VPP not mid-update; between attempts sleep 0.5 ms, doubling up to
        10 ms, for at most ``busy_timeout`` seconds in all (at least two
        attempts)."""
        deadline = time.monotonic() + self.busy_timeout
        sleep = _FIRST_SLEEP
        attempts = 0
        while True:
            if attempts:
                self.stats.retries += 1
                time.sleep(sleep)
                sleep = min(sleep * 2, _MAX_SLEEP)
            attempts += 1
            _, base, epoch, in_progress, _ = self.header()
            if not in_progress:
                try:
                    result = action(base, epoch)
                except SegmentError:
                    if self._stable(epoch):
                        self.stats.failures += 1
                        raise
                else:
                    if self._stable(epoch):
                        return result
            if attempts >= 2 and time.monotonic() >= deadline:
                break
        self.stats.failures += 1
        raise SegmentBusy(
            f"segment locked or changing for {self.busy_timeout:g} s ({attempts} attempts)"
        )

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
        """Decode the directory (a bad one raises) and locate every entry's
        values; an entry that does not decode goes to ``plan.bad``."""
        self.stats.plans += 1
        self._budget = self.size
        dir_ptr = self.header()[4]
        offset, count = self._vec(base, dir_ptr, DIRECTORY_ENTRY_DTYPE.itemsize, "directory")
        directory = np.frombuffer(
            self._buf, dtype=DIRECTORY_ENTRY_DTYPE, count=count, offset=offset
        )
        kinds = directory["type"].copy()
        pointers = directory["value"].copy()
        names = NAMES.names(directory["name"])
        del directory
        first_bytes = np.frombuffer(
            self._buf, dtype=np.uint8, count=count * _ENTRY_SIZE, offset=offset
        )[_NAME_OFFSET::_ENTRY_SIZE]
        plan = _Plan(epoch, offset, count)
        listed = (kinds != StatType.EMPTY) & (kinds != StatType.ILLEGAL) & (kinds <= StatType.GAUGE)
        listed &= first_bytes != 0  # an empty name is no entry
        is_link = listed & (kinds == StatType.SYMLINK)
        scalar_rows: list[int] = []
        elements = np.zeros(count, dtype=np.int64)  # indexable length of counter rows
        for row in np.flatnonzero(listed & ~is_link).tolist():
            name, kind, value = names[row], _TYPES[kinds[row]], int(pointers[row])
            if kind in _VALUE_TYPES:
                plan.scalar_names.append(name)
                scalar_rows.append(row)
                continue
            budget = self._budget
            try:
                elements[row] = self._locate(plan, base, name, kind, value)
            except SegmentError as error:  # the message names the entry
                self._budget = budget
                plan.bad[name] = str(error)
                listed[row] = False
        targets, indexes = self._symlinks(plan, names, is_link, pointers, elements)
        listed &= ~is_link | (targets >= 0)
        index = NAMES.index(names, listed)
        # per-row tables as compact buffers: indexing them gives plain ints
        plan.types = EntryTypes(index, kinds.astype(np.uint8).tobytes())
        plan.symlinks = SymlinkTable(
            index,
            names,
            array("q", targets.tobytes()),
            array("q", indexes.tobytes()),
            int(np.count_nonzero(targets[listed] >= 0)),
        )
        plan.scalar_rows = np.asarray(scalar_rows, dtype=np.intp)
        return plan

    def _locate(self, plan: _Plan, base: int, name: str, kind: StatType, pointer: int) -> int:
        """Add one vector, histogram, name vector or ring to ``plan``; returns
        how many elements symlinks may index (counter vectors), else 0."""
        if kind in _COUNTER_TYPES:
            words = 1 if kind == StatType.COUNTER_VECTOR_SIMPLE else 2
            starts, lengths = self._thread_vectors(base, pointer, words, name)
            n = min(lengths, default=0)
            plan.counters[name] = (kind, _Vector(starts, n * words))
            return n
        if kind == StatType.HISTOGRAM_LOG2:
            starts, lengths = self._thread_vectors(base, pointer, 1, name)
            min_exp = int(self._u64[starts[0]]) if starts and lengths[0] else 0
            # word 0 of each thread's bins holds min_exp
            words = max(min(lengths, default=0) - 1, 0)
            plan.histograms[name] = (min_exp, _Vector([s + 1 for s in starts], words))
        elif kind == StatType.NAME_VECTOR:
            plan.constants[name] = self._name_vector(base, pointer, name)
        elif kind == StatType.RING_BUFFER:
            plan.rings[name] = self._ring(base, pointer, name)
        return 0

    @staticmethod
    def _symlinks(
        plan: _Plan,
        names: list[str],
        is_link: np.ndarray,
        pointers: np.ndarray,
        elements: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check every symlink at once: its target must be a counter vector
        row and its index inside that vector. Returns target row and index
        per directory row (-1 where no valid symlink); dangling ones go to
        ``plan.bad``."""
        rows = np.flatnonzero(is_link)
        index1 = (pointers[rows] & 0xFFFFFFFF).astype(np.int64)
        index2 = (pointers[rows] >> 32).astype(np.int64)
        inside = index1 < len(elements)
        ok = inside & (
            index2 < np.where(inside, elements[np.minimum(index1, len(elements) - 1)], 0)
        )
        for bad in np.flatnonzero(~ok).tolist():
            name = names[rows[bad]]
            plan.bad[name] = (
                f"{name}: symlink to entry {index1[bad]} index {index2[bad]}, "
                "not inside a counter vector"
            )
        targets = np.full(len(elements), -1, dtype=np.int64)
        indexes = np.zeros(len(elements), dtype=np.int64)
        targets[rows[ok]] = index1[ok]
        indexes[rows[ok]] = index2[ok]
        return targets, indexes

    def _name_vector(self, base: int, pointer: int, what: str) -> list[str | None]:
        """The strings of a name vector, checked all at once (``None`` for
        holes)."""
        offset, count = self._vec(base, pointer, 8, what)
        self._charge(8 * count, what)
        pointers = self._u64[offset // 8 : offset // 8 + count].astype(np.int64)
        present = pointers != 0
        offsets = np.where(present, pointers - base, HEADER.size + VEC_HEADER_SIZE)
        inside = (offsets >= HEADER.size + VEC_HEADER_SIZE) & (offsets <= self.size)
        if not inside[present].all():
            bad = int(np.flatnonzero(present & ~inside)[0])
            raise SegmentError(f"{what}[{bad}]: bad vector pointer {int(pointers[bad]):#x}")
        heads = np.frombuffer(self._buf, dtype="<u4", count=self.size // 4)
        lengths = heads[(offsets - VEC_HEADER_SIZE) // 4].astype(np.int64)
        lengths = np.where(present, lengths, 0)
        wrong = (offsets % 8 != 0) | (offsets + lengths > self.size)
        if wrong.any():
            bad = int(np.flatnonzero(wrong)[0])
            raise SegmentError(f"{what}[{bad}]: misaligned or overrunning string")
        self._charge(int(lengths.sum()), what)
        buf = self._buf
        result: list[str | None] = []
        for start, length, here in zip(
            offsets.tolist(), lengths.tolist(), present.tolist(), strict=True
        ):
            if not here:
                result.append(None)
                continue
            raw = bytes(buf[start : start + length])
            result.append(raw.partition(b"\0")[0].decode("utf-8", "replace"))
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

    def _read_values(self, plan: _Plan, ring_records: bool) -> Snapshot:
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
                array = array.reshape(array.shape[0], vector.words // 2, 2)
            values[name] = array
        for name, (min_exp, vector) in plan.histograms.items():
            values[name] = Log2Histogram(min_exp, _gather(u64, vector))
        for name, ring in plan.rings.items():
            values[name] = self._read_ring(ring, ring_records)
        return Snapshot(
            plan.epoch,
            time.time(),
            self.segment_id,
            plan.types,
            values,
            plan.symlinks,
            plan.bad,
        )

    def _sequence(self, ring: _Ring, thread: int) -> int:
        meta = ring.offset + ring.metadata_offset + thread * RING_METADATA_STRIDE
        return int(RING_METADATA.unpack_from(self._buf, meta)[2])

    def _read_ring(self, ring: _Ring, copy_records: bool) -> RingBuffer:
        """Each thread's sequence and, with ``copy_records``, its complete
        records (see the module docstring for the order VPP writes in)."""
        threads = []
        size = ring.ring_size
        for t in range(ring.n_threads):
            sequence = self._sequence(ring, t)
            records: list[bytes] = []
            if copy_records and size:
                # slot sequence % size may be mid-write: never read it
                first = max(sequence - size + 1, 0)
                data = ring.offset + ring.data_offset + t * size * ring.entry_size
                for number in range(first, sequence):
                    start = data + number % size * ring.entry_size
                    records.append(bytes(self._buf[start : start + ring.entry_size]))
                # the producer may have overwritten the oldest ones meanwhile
                after = self._sequence(ring, t)
                records = records[max(after - size + 1 - first, 0) :]
            threads.append(RingThread(sequence % size if size else 0, sequence, records))
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
