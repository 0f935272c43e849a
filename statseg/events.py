"""Records of a stats-segment ring buffer, decoded from the schema the ring publishes.

A ring buffer (``vlib_stats_ring_buffer_t``) carries a schema text and a
schema version next to its records. This module turns that text into a
decoder, so that the record layout is written down once: by the producer.
The schema is a title line followed by one line per field::

    <offset> <type>[<n>] <name> [words] [(comment)]

``type`` is ``u8``, ``u16``, ``u32`` or ``u64`` (little endian); ``u8[n]``
is a byte string. Two comment forms carry meaning:

* ``(~0 if none)`` or ``(0xff if none)``: that value decodes as ``None``;
* ``(1 sa-add, 2 sa-del, ...)``: an enumeration; the field decodes as the
  name (an unknown number as its decimal string).

Any other comment is documentation only. After the field lines, lines
``reason <type name> <code> <name>`` name the ``reason`` codes of records of
that type (schema v2 of the ipcomp plugin); a record whose reason they name
decodes with ``reason_name`` as well. :func:`records_since` finds the
records a consumer has not seen yet from the ring's per-thread sequence
numbers, and how many were overwritten before it could read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vppcomp.statseg.snapshot import RingThread

_WIDTHS = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
_LINE = re.compile(
    r"^(?P<offset>\d+) (?P<type>u8|u16|u32|u64)(?:\[(?P<count>\d+)\])? (?P<name>[A-Za-z_]\w*)"
    r"(?P<words>[^(]*)(?:\((?P<comment>.*)\))?\s*$"
)
_NONE = re.compile(r"^(?P<value>~0|0x[0-9a-fA-F]+|\d+) if none$")
_ENUM_ITEM = re.compile(r"^(?P<value>\d+) (?P<name>[A-Za-z][\w-]*)$")
_REASON = re.compile(r"^reason (?P<type>[A-Za-z][\w-]*) (?P<code>\d+) (?P<name>[A-Za-z][\w-]*)$")


class SchemaError(ValueError):
    """The schema text cannot be parsed, or its fields do not fit the records."""


@dataclass(frozen=True)
class SchemaField:
    """One field of a record: where it is, its type, and what its comment means."""

    offset: int
    type: str  # u8 | u16 | u32 | u64
    count: int  # > 1 only for byte strings (u8[n])
    name: str
    comment: str
    none: int | None = None
    names: dict[int, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return _WIDTHS[self.type] * self.count


@dataclass(frozen=True)
class EventSchema:
    """A parsed ring schema: ``decode`` turns raw records into dicts."""

    title: str
    version: int
    fields: tuple[SchemaField, ...]
    record_size: int
    #: type name -> reason code -> reason name, from the ``reason`` lines
    reasons: dict[str, dict[int, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: bytes | str, version: int, record_size: int) -> EventSchema:
        """Parse ``text`` for records of ``record_size`` bytes.

        Raises :class:`SchemaError` naming the line that does not fit."""
        if isinstance(text, bytes):
            text = text.split(b"\0", 1)[0].decode("utf-8", "replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise SchemaError(f"ring schema has no fields: {text!r}")
        fields = []
        reasons: dict[str, dict[int, str]] = {}
        for line in lines[1:]:
            if reason := _REASON.match(line.strip()):
                reasons.setdefault(reason["type"], {})[int(reason["code"])] = reason["name"]
                continue
            match = _LINE.match(line.strip())
            if match is None:
                raise SchemaError(f"ring schema line not understood: {line!r}")
            fields.append(_field(match))
        for f in fields:
            if f.offset + f.size > record_size:
                raise SchemaError(
                    f"ring schema field {f.name} ({f.offset}+{f.size}) overruns "
                    f"{record_size}-byte records"
                )
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise SchemaError(f"ring schema names a field twice: {names}")
        return cls(lines[0].strip(), version, tuple(fields), record_size, reasons)

    def field(self, name: str) -> SchemaField:
        """The field called ``name``; ``KeyError`` when the schema lacks it."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"ring schema ({self.title}) has no field {name!r}")

    def decode(self, records: Sequence[bytes]) -> list[dict[str, Any]]:
        """One dict per record: ``{field name: value}`` with integers, ``None``
        for a "none" value, enumeration names, and ``bytes`` for ``u8[n]``;
        plus ``reason_name`` where the schema's reason lines name the
        record's ``reason`` for its ``type``.

        Records shorter than ``record_size`` raise :class:`SchemaError`."""
        if not records:
            return []
        if any(len(r) < self.record_size for r in records):
            raise SchemaError(f"ring record shorter than {self.record_size} bytes")
        blob = b"".join(r[: self.record_size] for r in records)
        table = np.frombuffer(blob, dtype=self._dtype())
        columns: list[list[Any]] = []
        for f in self.fields:
            column = table[f.name]
            if f.count > 1:
                flat = column.tobytes()  # one copy, sliced per record
                values: list[Any] = [flat[i : i + f.count] for i in range(0, len(flat), f.count)]
            else:
                values = column.tolist()
                if f.none is not None:
                    values = [None if v == f.none else v for v in values]
                if f.names:
                    values = [v if v is None else f.names.get(v, str(v)) for v in values]
            columns.append(values)
        keys = [f.name for f in self.fields]
        decoded = [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
        if self.reasons:
            for record in decoded:
                code = record.get("reason")
                names = self.reasons.get(str(record.get("type")), {})
                if isinstance(code, int) and code in names:
                    record["reason_name"] = names[code]
        return decoded

    def _dtype(self) -> np.dtype:
        return np.dtype(
            {
                "names": [f.name for f in self.fields],
                "formats": [
                    ("u1", (f.count,)) if f.count > 1 else f"<u{_WIDTHS[f.type]}"
                    for f in self.fields
                ],
                "offsets": [f.offset for f in self.fields],
                "itemsize": self.record_size,
            }
        )


def _field(match: re.Match[str]) -> SchemaField:
    kind = match["type"]
    count = int(match["count"] or 1)
    if count > 1 and kind != "u8":
        raise SchemaError(f"ring schema: arrays of {kind} are not supported ({match[0]!r})")
    comment = (match["comment"] or "").strip()
    none = None
    names: dict[int, str] = {}
    if count == 1:
        hit = _NONE.match(comment)
        if hit is not None:
            raw = hit["value"]
            full = (1 << (8 * _WIDTHS[kind])) - 1
            none = full if raw == "~0" else int(raw, 0) & full
        items = [_ENUM_ITEM.match(item.strip()) for item in comment.split(",")]
        if comment and all(items):
            names = {int(m["value"]): m["name"] for m in items if m is not None}
    return SchemaField(int(match["offset"]), kind, count, match["name"], comment, none, names)


@dataclass(frozen=True)
class RingSlice:
    """Records of one thread a consumer has not seen: ``records[k]`` has
    sequence number ``first + k``; ``lost`` records (sequence numbers
    ``first - lost`` .. ``first - 1``) were overwritten before they were read;
    ``next`` is the sequence number to ask for next time."""

    first: int
    records: list[bytes]
    lost: int
    next: int


def records_since(thread: RingThread, next_sequence: int) -> RingSlice:
    """The records of ``thread`` with sequence number >= ``next_sequence``.

    ``thread.sequence`` counts the records ever written, and
    ``thread.records`` are the newest ones, oldest first, the last one being
    number ``sequence - 1``. A ``next_sequence`` beyond ``sequence`` means the
    ring started over (a new VPP): everything in it is new."""
    available = len(thread.records)
    oldest = thread.sequence - available
    if next_sequence > thread.sequence:
        next_sequence = 0
    lost = max(oldest - next_sequence, 0)
    start = max(next_sequence - oldest, 0)
    return RingSlice(oldest + start, thread.records[start:], lost, thread.sequence)
