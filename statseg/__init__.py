"""Reader, recorder and replayer of VPP's shared-memory statistics segment."""

from vppcomp.statseg.client import DEFAULT_SOCKET, StatsClient
from vppcomp.statseg.layout import (
    READ_ERRORS,
    SegmentBusy,
    SegmentError,
    StatsUnavailable,
    StatType,
)
from vppcomp.statseg.snapshot import Log2Histogram, RingBuffer, Snapshot, Symlink

__all__ = [
    "DEFAULT_SOCKET",
    "READ_ERRORS",
    "Log2Histogram",
    "RingBuffer",
    "SegmentBusy",
    "SegmentError",
    "Snapshot",
    "StatType",
    "StatsClient",
    "StatsUnavailable",
    "Symlink",
]
