"""Write a :class:`Snapshot` into a buffer in VPP's exact v2 segment layout.

The result is readable by anything that reads VPP's segment: vpp_papi's
``VPPStats``, VPP's C ``stat_client`` (``vpp_get_stats``,
``vpp_prometheus_export``) and :class:`~vppcomp.statseg.reader.SegmentReader`.
Pointers are addresses relative to a ``base`` chosen by the writer, as VPP's
are relative to where it mapped the segment.

Like VPP, :meth:`SegmentWriter.write` changes counter values in place when the
shape of the data is unchanged, and otherwise lays the segment out afresh
under ``in_progress`` and bumps ``epoch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vppcomp.statseg.layout import (
    DIRECTORY_ENTRY_DTYPE,
    HEADER,
    HEADER_IN_PROGRESS_OFFSET,
    NAME_SIZE,
    RING_BUFFER_HEADER,
    RING_METADATA,
    RING_METADATA_STRIDE,
    SEGMENT_VERSION,
    VEC_HEADER,
    VEC_HEADER_SIZE,
    SegmentError,
    StatType,
)
from vppcomp.statseg.snapshot import Log2Histogram, RingBuffer, Snapshot

#: Where the writer pretends the segment is mapped (VPP uses its own address).
DEFAULT_BASE = 0x7F00_0000_0000
_ALIGN = 64


def _align(value: int, to: int = _ALIGN) -> int:
    return (value + to - 1) // to * to


@dataclass
class _Placement:
    """Byte offsets of the values of one entry, for in-place updates."""

    row: int
    thread_offsets: list[int] = field(default_factory=list)
    ring_offset: int = 0


def _shape_of(snapshot: Snapshot) -> tuple[Any, ...]:
    """Everything that forces a new layout when it changes."""
    shape: list[Any] = []
    for name in snapshot:
        kind = snapshot.type(name)
        item: Any = None
        if kind == StatType.SYMLINK:
            link = snapshot.symlink(name)
            assert link is not None
            item = (link.target, link.index)
        elif kind == StatType.NAME_VECTOR:
            item = tuple(snapshot[name])
        elif kind in (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED):
            item = snapshot[name].shape
        elif kind == StatType.HISTOGRAM_LOG2:
            item = (snapshot[name].min_exp, snapshot[name].bins.shape)
        elif kind == StatType.RING_BUFFER:
            ring = snapshot[name]
            item = (ring.entry_size, ring.ring_size, len(ring.threads), ring.schema)
        shape.append((name, int(kind), item))
    return tuple(shape)


class SegmentWriter:
    """Owns a writable buffer (``bytearray`` or writable ``mmap``) of fixed size."""

    def __init__(self, buffer: Any, base: int = DEFAULT_BASE) -> None:
        self.buf = memoryview(buffer).cast("B")
        self.size = len(self.buf)
        self.base = base
        self.epoch = 0
        self._shape: tuple[Any, ...] | None = None
        self._placements: dict[str, _Placement] = {}
        self._cursor = 0
        self._directory_ptr = 0

    @staticmethod
    def required_size(snapshot: Snapshot) -> int:
        """Bytes a layout of ``snapshot`` needs, with room for alignment."""
        total = _ALIGN * 2 + _align(len(snapshot) * DIRECTORY_ENTRY_DTYPE.itemsize)
        for name in snapshot:
            kind, value = snapshot.type(name), None
            if kind != StatType.SYMLINK:
                value = snapshot.values.get(name)
            if isinstance(value, np.ndarray):
                total += value.shape[0] * (
                    _ALIGN * 2 + _align(value[0].nbytes if len(value) else 0)
                )
            elif isinstance(value, Log2Histogram):
                total += value.bins.shape[0] * (_ALIGN * 2 + _align(value.bins[0:1].nbytes + 8))
            elif isinstance(value, list):
                total += _ALIGN * 2 + len(value) * (_ALIGN * 2 + _align(NAME_SIZE))
                total += sum(len((s or "").encode()) for s in value)
            elif isinstance(value, RingBuffer):
                n = len(value.threads)
                total += _ALIGN * 3 + n * (
                    value.ring_size * value.entry_size + RING_METADATA_STRIDE
                )
                total += len(value.schema)
            total += _ALIGN
        return _align(total, 4096)

    def write(self, snapshot: Snapshot) -> None:
        """Make the buffer show ``snapshot``."""
        shape = _shape_of(snapshot)
        if shape == self._shape:
            self._update_values(snapshot)
            return
        HEADER.pack_into(
            self.buf, 0, SEGMENT_VERSION, self.base, self.epoch, 1, self._directory_ptr
        )
        try:
            self._layout(snapshot)
            self._shape = shape
        finally:
            self.epoch += 1
            HEADER.pack_into(
                self.buf, 0, SEGMENT_VERSION, self.base, self.epoch, 1, self._directory_ptr
            )
            self._set_in_progress(0)

    def _set_in_progress(self, value: int) -> None:
        self.buf[HEADER_IN_PROGRESS_OFFSET : HEADER_IN_PROGRESS_OFFSET + 8] = value.to_bytes(
            8, "little"
        )

    # -- allocation ------------------------------------------------------

    def _alloc(self, nbytes: int) -> int:
        offset = _align(self._cursor)
        if offset + nbytes > self.size:
            raise SegmentError(f"segment of {self.size} bytes too small for this snapshot")
        self._cursor = offset + nbytes
        return offset

    def _vector(self, length: int, element_size: int) -> int:
        """Allocate a VPP vector; return the byte offset of its data."""
        start = self._alloc(_ALIGN + length * element_size)
        data = start + _ALIGN
        VEC_HEADER.pack_into(self.buf, data - VEC_HEADER_SIZE, length, 1, 6, 0, 0)
        return data

    def _ptr(self, offset: int) -> int:
        return self.base + offset

    # -- layout ----------------------------------------------------------

    def _layout(self, snapshot: Snapshot) -> None:
        np.frombuffer(self.buf, dtype=np.uint8)[HEADER.size :] = 0
        self._cursor = HEADER.size
        names = list(snapshot)
        rows = {name: row for row, name in enumerate(names)}
        dir_data = self._vector(len(names), DIRECTORY_ENTRY_DTYPE.itemsize)
        self._directory_ptr = self._ptr(dir_data)
        directory = np.frombuffer(
            self.buf, dtype=DIRECTORY_ENTRY_DTYPE, count=len(names), offset=dir_data
        )
        self._placements = {}
        for row, name in enumerate(names):
            kind = snapshot.type(name)
            placement = _Placement(row)
            directory["type"][row] = int(kind)
            directory["name"][row] = name.encode()[: NAME_SIZE - 1]
            if kind == StatType.SYMLINK:
                link = snapshot.symlink(name)
                assert link is not None
                directory["value"][row] = rows[link.target] | (link.index << 32)
            elif kind in (StatType.SCALAR_INDEX, StatType.GAUGE):
                directory["value"][row] = int(snapshot[name])
            elif kind in (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED):
                array = snapshot[name]
                per_thread = array.reshape(array.shape[0], -1)
                elem = 8 if kind == StatType.COUNTER_VECTOR_SIMPLE else 16
                directory["value"][row] = self._per_thread(per_thread, elem, placement)
            elif kind == StatType.HISTOGRAM_LOG2:
                hist: Log2Histogram = snapshot[name]
                words = np.concatenate(
                    [np.full((hist.bins.shape[0], 1), hist.min_exp, np.uint64), hist.bins], axis=1
                )
                directory["value"][row] = self._per_thread(words, 8, placement)
            elif kind == StatType.NAME_VECTOR:
                directory["value"][row] = self._names(snapshot[name])
            elif kind == StatType.RING_BUFFER:
                directory["value"][row] = self._ring(snapshot[name], placement)
            self._placements[name] = placement
        del directory

    def _per_thread(self, rows: np.ndarray, element_size: int, placement: _Placement) -> int:
        threads = self._vector(rows.shape[0], 8)
        words_per_element = element_size // 8
        pointers = []
        for thread in range(rows.shape[0]):
            data = self._vector(rows.shape[1] // words_per_element, element_size)
            self.buf[data : data + rows[thread].nbytes] = rows[thread].astype("<u8").tobytes()
            placement.thread_offsets.append(data)
            pointers.append(self._ptr(data))
        self.buf[threads : threads + 8 * len(pointers)] = np.asarray(pointers, "<u8").tobytes()
        return self._ptr(threads)

    def _names(self, names: list[str | None]) -> int:
        vector = self._vector(len(names), 8)
        pointers = []
        for name in names:
            if name is None:
                pointers.append(0)
                continue
            raw = name.encode() + b"\0"
            data = self._vector(len(raw), 1)
            self.buf[data : data + len(raw)] = raw
            pointers.append(self._ptr(data))
        self.buf[vector : vector + 8 * len(pointers)] = np.asarray(pointers, "<u8").tobytes()
        return self._ptr(vector)

    def _ring(self, ring: RingBuffer, placement: _Placement) -> int:
        n = len(ring.threads)
        data_offset = RING_BUFFER_HEADER.size
        metadata_offset = _align(data_offset + n * ring.ring_size * ring.entry_size)
        schema_offset = metadata_offset + n * RING_METADATA_STRIDE if ring.schema else 0
        total = (
            (schema_offset + len(ring.schema))
            if ring.schema
            else (metadata_offset + n * RING_METADATA_STRIDE)
        )
        offset = self._alloc(total)
        RING_BUFFER_HEADER.pack_into(
            self.buf,
            offset,
            ring.entry_size,
            ring.ring_size,
            n,
            len(ring.schema),
            ring.schema_version,
            metadata_offset,
            data_offset,
        )
        if ring.schema:
            self.buf[offset + schema_offset : offset + schema_offset + len(ring.schema)] = (
                ring.schema
            )
        placement.ring_offset = offset
        self._ring_values(ring, offset, metadata_offset, data_offset, schema_offset)
        return self._ptr(offset)

    def _ring_values(
        self,
        ring: RingBuffer,
        offset: int,
        metadata_offset: int,
        data_offset: int,
        schema_offset: int,
    ) -> None:
        for t, thread in enumerate(ring.threads):
            base = offset + data_offset + t * ring.ring_size * ring.entry_size
            count = len(thread.records) if ring.ring_size else 0
            for k, record in enumerate(thread.records):
                slot = (thread.head - count + k) % ring.ring_size
                start = base + slot * ring.entry_size
                self.buf[start : start + ring.entry_size] = record[: ring.entry_size].ljust(
                    ring.entry_size, b"\0"
                )
            RING_METADATA.pack_into(
                self.buf,
                offset + metadata_offset + t * RING_METADATA_STRIDE,
                thread.head,
                ring.schema_version,
                thread.sequence,
                schema_offset,
                len(ring.schema),
            )

    # -- in place --------------------------------------------------------

    def _update_values(self, snapshot: Snapshot) -> None:
        dir_offset = self._directory_ptr - self.base
        directory = np.frombuffer(
            self.buf, dtype=DIRECTORY_ENTRY_DTYPE, count=len(snapshot), offset=dir_offset
        )
        for name, placement in self._placements.items():
            kind = snapshot.type(name)
            if kind in (StatType.SCALAR_INDEX, StatType.GAUGE):
                directory["value"][placement.row] = int(snapshot[name])
            elif kind in (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED):
                array = snapshot[name].reshape(snapshot[name].shape[0], -1)
                for thread, data in enumerate(placement.thread_offsets):
                    self.buf[data : data + array[thread].nbytes] = (
                        array[thread].astype("<u8").tobytes()
                    )
            elif kind == StatType.HISTOGRAM_LOG2:
                bins = snapshot[name].bins
                for thread, data in enumerate(placement.thread_offsets):
                    start = data + 8
                    self.buf[start : start + bins[thread].nbytes] = (
                        bins[thread].astype("<u8").tobytes()
                    )
            elif kind == StatType.RING_BUFFER:
                ring: RingBuffer = snapshot[name]
                offset = placement.ring_offset
                (_, _, _, _, _, metadata_offset, data_offset) = RING_BUFFER_HEADER.unpack_from(
                    self.buf, offset
                )
                schema_offset = metadata_offset + len(ring.threads) * RING_METADATA_STRIDE
                self._ring_values(
                    ring,
                    offset,
                    metadata_offset,
                    data_offset,
                    schema_offset if ring.schema else 0,
                )
        del directory


def build_segment(snapshot: Snapshot, base: int = DEFAULT_BASE) -> bytearray:
    """A fresh buffer holding ``snapshot`` in VPP's layout (epoch 1)."""
    buffer = bytearray(SegmentWriter.required_size(snapshot))
    SegmentWriter(buffer, base).write(snapshot)
    return buffer
