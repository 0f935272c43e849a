"""Shared helpers of the shipper tests: ring records in the plugin's layout
(written from the schema the plugin publishes), snapshots carrying them, and
a shipper wired to a replayed segment."""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

from exporter_shapes import plugin_event_schema

from vppcomp.exporter.metrics.collectors.ipcomp import EVENTS
from vppcomp.statseg.events import EventSchema
from vppcomp.statseg.recording import read_frames
from vppcomp.statseg.snapshot import RingBuffer, RingThread, Snapshot

DATA = Path(__file__).parent / "data"
RECORDING = DATA / "vpp-ipcomp.vppstats"
SCHEMA_TEXT = plugin_event_schema()
SCHEMA = EventSchema.parse(SCHEMA_TEXT, 1, 64)
TYPES = {name: number for number, name in SCHEMA.field("type").names.items()}


def record(**values: Any) -> bytes:
    """One 64-byte record; ``type`` by name, addresses as text, the rest as ints
    (missing "none" fields are none, others 0)."""
    out = bytearray(SCHEMA.record_size)
    is_ip6 = 0
    for f in SCHEMA.fields:
        value = values.get(f.name)
        if f.name == "type" and isinstance(value, str):
            value = TYPES[value]
        if f.count > 1:
            packed = ipaddress.ip_address(value).packed if value else b""
            is_ip6 = is_ip6 or len(packed) == 16
            out[f.offset : f.offset + len(packed)] = packed
            continue
        if value is None:
            value = f.none if f.none is not None else 0
        out[f.offset : f.offset + f.size] = int(value).to_bytes(f.size, "little")
    if is_ip6:
        out[SCHEMA.field("is_ip6").offset] = 1
    return bytes(out)


def base_snapshot() -> Snapshot:
    """The last frame of the recording of a real VPP running the plugin."""
    return list(read_frames(RECORDING))[-1].snapshot


def with_ring(
    snap: Snapshot, threads: list[tuple[int, list[bytes]]], ring_size: int = 4096
) -> Snapshot:
    """``snap`` with the event ring replaced: per thread ``(sequence, newest records)``."""
    ring = RingBuffer(
        64,
        ring_size,
        1,
        SCHEMA_TEXT,
        [RingThread(seq % ring_size, seq, records) for seq, records in threads],
    )
    return dataclasses.replace(snap, values={**snap.values, EVENTS: ring})
