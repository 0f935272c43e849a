"""Recordings of a stats segment over time: a compact, versioned file format.

Layout (all integers little-endian)::

    file    := magic "VPPCSTAT" | u16 version (=1) | u16 0 | u32 n | header[n] | frame*
    header  := UTF-8 JSON object: {"format": "vppcomp-stats-recording", "source": ...,
               "interval": seconds, "created": unix time, "vppcomp": version}
    frame   := u32 n | zlib(payload)[n]
    payload := u32 m | meta[m] | blob
    meta    := UTF-8 JSON object:
               {"t": unix time of the snapshot, "epoch": int, "instance": int,
                "entries": [[name, type, extra], ...] | null, "delta": bool}

``instance`` numbers the VPP instance within the recording (0, 1, ... on each
restart). ``entries`` is ``null`` when the shape (names, types, array shapes,
name vectors, symlinks) equals the previous frame's; then ``delta`` is true
and every numeric array in ``blob`` is stored as the difference from the
previous frame's (mod 2**64), which compresses to almost nothing for idle
counters. ``extra`` by type: scalar/gauge: the value; simple/combined counter:
the array shape; name vector: the names (``null`` for holes); symlink:
``[target, index]``; histogram: ``[min_exp, shape]``; ring buffer:
``{"entry_size", "ring_size", "schema_version", "schema" (hex),
"threads": [[head, sequence, n_records], ...]}``. ``blob`` holds, in entry
order, each counter array and histogram's bins as ``uint64``, and each ring
buffer's records (raw, not delta-coded); scalar and gauge values are in
``meta`` (they change in place). A reader must reject an unknown version.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from vppcomp import __version__
from vppcomp.statseg.layout import StatsUnavailable, StatType
from vppcomp.statseg.snapshot import (
    Log2Histogram,
    RingBuffer,
    RingThread,
    Snapshot,
    Symlink,
    snapshot_from_mapping,
)

MAGIC = b"VPPCSTAT"
VERSION = 1
_PREAMBLE = struct.Struct("<8sHHI")
_U32 = struct.Struct("<I")
_ARRAY_TYPES = (
    StatType.COUNTER_VECTOR_SIMPLE,
    StatType.COUNTER_VECTOR_COMBINED,
    StatType.HISTOGRAM_LOG2,
)


class RecordingError(Exception):
    """The file is not a recording this version can read, or is truncated."""


@dataclass(frozen=True)
class Frame:
    """One recorded snapshot and the VPP instance it came from."""

    snapshot: Snapshot
    instance: int


def _describe(snapshot: Snapshot) -> tuple[list[list[Any]], list[np.ndarray], list[bytes]]:
    """Split a snapshot into JSON-able entries, numeric arrays and ring records."""
    entries: list[list[Any]] = []
    arrays: list[np.ndarray] = []
    records: list[bytes] = []
    for name in snapshot:
        kind = snapshot.type(name)
        extra: Any = None
        if kind == StatType.SYMLINK:
            link = snapshot.symlink(name)
            assert link is not None
            extra = [link.target, link.index]
        else:
            value = snapshot.values[name]
            if kind in (StatType.SCALAR_INDEX, StatType.GAUGE):
                extra = int(value)
            elif kind in (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED):
                extra = list(value.shape)
                arrays.append(value)
            elif kind == StatType.HISTOGRAM_LOG2:
                extra = [value.min_exp, list(value.bins.shape)]
                arrays.append(value.bins)
            elif kind == StatType.NAME_VECTOR:
                extra = value
            elif kind == StatType.RING_BUFFER:
                extra = {
                    "entry_size": value.entry_size,
                    "ring_size": value.ring_size,
                    "schema_version": value.schema_version,
                    "schema": value.schema.hex(),
                    "threads": [[t.head, t.sequence, len(t.records)] for t in value.threads],
                }
                for thread in value.threads:
                    records.extend(thread.records)
        entries.append([name, int(kind), extra])
    return entries, arrays, records


_IN_PLACE = (StatType.SCALAR_INDEX, StatType.GAUGE, StatType.RING_BUFFER)


def _shape_key(entries: list[list[Any]]) -> list[list[Any]]:
    """Entries without the values that change in place (scalars, gauges, rings:
    a delta frame carries those entries whole)."""
    return [[name, kind, None if kind in _IN_PLACE else extra] for name, kind, extra in entries]


class RecordingWriter:
    """Appends frames to a recording file."""

    def __init__(self, path: str | Path, *, source: str = "", interval: float = 0.0) -> None:
        self._file: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed in close()
        header = json.dumps(
            {
                "format": "vppcomp-stats-recording",
                "source": source,
                "interval": interval,
                "created": time.time(),
                "vppcomp": __version__,
            }
        ).encode()
        self._file.write(_PREAMBLE.pack(MAGIC, VERSION, 0, len(header)) + header)
        self._previous_shape: list[list[Any]] | None = None
        self._previous_arrays: list[np.ndarray] = []
        self.frames = 0

    def add(self, snapshot: Snapshot, instance: int) -> None:
        entries, arrays, records = _describe(snapshot)
        shape = _shape_key(entries)
        delta = shape == self._previous_shape
        stored = (
            [(a - p).astype(np.uint64) for a, p in zip(arrays, self._previous_arrays, strict=True)]
            if delta
            else arrays
        )
        meta = {
            "t": snapshot.taken_at,
            "epoch": snapshot.epoch,
            "instance": instance,
            "entries": [e for e in entries if e[1] in _IN_PLACE] if delta else entries,
            "delta": delta,
        }
        meta_raw = json.dumps(meta, separators=(",", ":")).encode()
        blob = b"".join(np.ascontiguousarray(a, dtype="<u8").tobytes() for a in stored)
        payload = zlib.compress(_U32.pack(len(meta_raw)) + meta_raw + blob + b"".join(records), 6)
        self._file.write(_U32.pack(len(payload)) + payload)
        self._file.flush()
        self._previous_shape, self._previous_arrays = shape, arrays
        self.frames += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_preamble(file: BinaryIO) -> dict[str, Any]:
    raw = file.read(_PREAMBLE.size)
    if len(raw) < _PREAMBLE.size:
        raise RecordingError("not a vppcomp recording: file too short")
    magic, version, _, length = _PREAMBLE.unpack(raw)
    if magic != MAGIC:
        raise RecordingError("not a vppcomp recording: bad magic")
    if version != VERSION:
        raise RecordingError(f"recording format version {version}, this reader knows {VERSION}")
    try:
        header: dict[str, Any] = json.loads(file.read(length))
    except ValueError as error:
        raise RecordingError(f"bad recording header: {error}") from error
    return header


def read_frames(path: str | Path) -> Iterator[Frame]:
    """Frames of a recording in order. Raises :class:`RecordingError` on a
    malformed file; a frame cut short at the end (recorder killed) ends the
    iteration quietly."""
    with open(path, "rb") as file:
        _read_preamble(file)
        entries: list[list[Any]] = []
        previous: list[np.ndarray] = []
        while True:
            raw = file.read(_U32.size)
            if len(raw) < _U32.size:
                return
            (length,) = _U32.unpack(raw)
            compressed = file.read(length)
            if len(compressed) < length:
                return
            try:
                payload = zlib.decompress(compressed)
                (meta_len,) = _U32.unpack_from(payload, 0)
                meta = json.loads(payload[4 : 4 + meta_len])
            except (zlib.error, struct.error, ValueError) as error:
                raise RecordingError(f"corrupt frame: {error}") from error
            if meta["delta"]:
                changed = {e[0]: e for e in meta["entries"]}
                entries = [changed.get(e[0], e) for e in entries]
            else:
                entries = meta["entries"]
            snapshot, arrays = _rebuild(meta, entries, payload[4 + meta_len :], previous)
            previous = arrays
            yield Frame(snapshot, int(meta["instance"]))


def _rebuild(
    meta: dict[str, Any], entries: list[list[Any]], blob: bytes, previous: list[np.ndarray]
) -> tuple[Snapshot, list[np.ndarray]]:
    mapping: dict[str, tuple[StatType, Any]] = {}
    arrays: list[np.ndarray] = []
    offset = 0
    ring_entries = []
    for name, kind, extra in entries:
        kind = StatType(kind)
        if kind in _ARRAY_TYPES:
            shape = tuple(extra if kind != StatType.HISTOGRAM_LOG2 else extra[1])
            count = int(np.prod(shape))
            array = np.frombuffer(blob, "<u8", count, offset).reshape(shape).astype(np.uint64)
            offset += count * 8
            if meta["delta"]:
                array = (array + previous[len(arrays)]).astype(np.uint64)
            arrays.append(array)
            value: Any = (
                array if kind != StatType.HISTOGRAM_LOG2 else Log2Histogram(extra[0], array)
            )
            mapping[name] = (kind, value)
        elif kind == StatType.RING_BUFFER:
            ring_entries.append((name, extra))
            mapping[name] = (kind, None)
        elif kind == StatType.SYMLINK:
            mapping[name] = (kind, Symlink(extra[0], extra[1]))
        else:
            mapping[name] = (kind, extra)
    for name, extra in ring_entries:
        threads = []
        for head, sequence, n_records in extra["threads"]:
            size = extra["entry_size"]
            records = [blob[offset + i * size : offset + (i + 1) * size] for i in range(n_records)]
            offset += n_records * size
            threads.append(RingThread(head, sequence, records))
        mapping[name] = (
            StatType.RING_BUFFER,
            RingBuffer(
                extra["entry_size"],
                extra["ring_size"],
                extra["schema_version"],
                bytes.fromhex(extra["schema"]),
                threads,
            ),
        )
    snapshot = snapshot_from_mapping(
        mapping, epoch=meta["epoch"], taken_at=meta["t"], segment_id=(meta["instance"], 0)
    )
    return snapshot, arrays


def record(
    client: Any, path: str | Path, *, interval: float, duration: float, source: str = ""
) -> int:
    """Sample ``client.snapshot(ring_records=True)`` every ``interval`` s for ``duration`` s into
    ``path``; VPP being down for a while is skipped over, a restart starts a
    new instance number. Returns the number of frames written."""
    instances: dict[tuple[int, int], int] = {}
    deadline = time.monotonic() + duration
    with RecordingWriter(path, source=source, interval=interval) as writer:
        next_at = time.monotonic()
        while True:
            try:
                snapshot = client.snapshot(ring_records=True)
            except StatsUnavailable:
                snapshot = None
            if snapshot is not None:
                instance = instances.setdefault(snapshot.segment_id, len(instances))
                writer.add(snapshot, instance)
            next_at += interval
            if next_at > deadline:
                return writer.frames
            time.sleep(max(0.0, next_at - time.monotonic()))
