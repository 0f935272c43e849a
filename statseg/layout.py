"""The version 2 layout of VPP's statistics segment, as VPP 26.06 writes it.

Reference: VPP's ``src/vlib/stats/shared.h``, ``src/vlib/stats/stats.h`` and
``src/vppinfra/vec_bootstrap.h``. Every pointer in the segment is an address in
VPP's own mapping; ``pointer - header.base`` is the offset in ours.

This module only names things: sizes, offsets, numpy dtypes and the error type.
"""

from __future__ import annotations

import struct
from enum import IntEnum

import numpy as np

SEGMENT_VERSION = 2

#: ``vlib_stats_shared_header_t``: version, base, epoch, in_progress, directory_vector.
HEADER = struct.Struct("<QQQQQ")
HEADER_EPOCH_OFFSET = 16
HEADER_IN_PROGRESS_OFFSET = 24

#: ``vec_header_t`` sits right before a vector's data: u32 len, u8 hdr_size,
#: u8 log2_align, u8 grow_elts, u8 pad.
VEC_HEADER = struct.Struct("<IBBBB")
VEC_HEADER_SIZE = 8

#: ``vlib_stats_entry_t``: u32 type, (pad), union {u32 index1,index2 | u64 value | ptr},
#: char name[128]. 144 bytes.
NAME_SIZE = 128
DIRECTORY_ENTRY_DTYPE = np.dtype(
    [("type", "<u4"), ("_pad", "<u4"), ("value", "<u8"), ("name", f"S{NAME_SIZE}")]
)
assert DIRECTORY_ENTRY_DTYPE.itemsize == 144

#: ``vlib_stats_ring_buffer_t``: config {entry_size, ring_size, n_threads,
#: schema_size, schema_version}, metadata_offset, data_offset (packed).
RING_BUFFER_HEADER = struct.Struct("<IIIIIII")
#: ``vlib_stats_ring_metadata_t``, one cache line per thread.
RING_METADATA = struct.Struct("<IIQII")
RING_METADATA_STRIDE = 64

#: Upper bound on threads a counter vector may claim; VPP caps workers far below.
MAX_THREADS = 1024


class StatType(IntEnum):
    """``stat_directory_type_t``."""

    ILLEGAL = 0
    SCALAR_INDEX = 1
    COUNTER_VECTOR_SIMPLE = 2
    COUNTER_VECTOR_COMBINED = 3
    NAME_VECTOR = 4
    EMPTY = 5
    SYMLINK = 6
    HISTOGRAM_LOG2 = 7
    RING_BUFFER = 8
    GAUGE = 9


class SegmentError(Exception):
    """The segment is not what VPP writes: bad version, a pointer or length
    outside the segment, a misaligned vector. The message says which entry."""


class SegmentBusy(Exception):
    """VPP kept the segment locked (``in_progress``) or kept changing its epoch
    for longer than the reader's retry budget."""


class StatsUnavailable(Exception):
    """No VPP answers on the stats socket (not started, stopped, or crashed)."""


#: Everything a snapshot of a live segment may raise: catch these to treat
#: "no stats right now" (VPP gone, locked too long, malformed) as one case.
READ_ERRORS = (StatsUnavailable, SegmentBusy, SegmentError)
