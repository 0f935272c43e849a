"""A consistent, decoded copy of the statistics segment at one moment.

A :class:`Snapshot` owns plain numpy arrays and Python objects; it holds no
reference into shared memory, so it stays valid after VPP changes or dies.

Values by entry type (what ``snapshot[name]`` returns):

* ``SCALAR_INDEX``, ``GAUGE``: ``int``.
* ``COUNTER_VECTOR_SIMPLE``: ``uint64`` array of shape ``(threads, n)``.
* ``COUNTER_VECTOR_COMBINED``: ``uint64`` array of shape ``(threads, n, 2)``,
  the last axis being ``(packets, bytes)``.
* ``NAME_VECTOR``: ``list[str | None]`` (``None`` where VPP holds no name).
* ``SYMLINK``: the column of the target counter vector: shape ``(threads,)``
  for simple, ``(threads, 2)`` for combined. :meth:`Snapshot.symlink` tells the
  target and index.
* ``HISTOGRAM_LOG2``: :class:`Log2Histogram`.
* ``RING_BUFFER``: :class:`RingBuffer`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vppcomp.statseg.layout import StatType


@dataclass(frozen=True)
class Log2Histogram:
    """A VPP log2 histogram: value ``v`` lands in bin
    ``clamp(floor(log2(v)) - min_exp, 0, n_bins - 1)``; bin 0 also takes every
    smaller value and the last bin every larger one."""

    min_exp: int
    bins: np.ndarray  # uint64, (threads, n_bins)

    def total(self) -> np.ndarray:
        """Bins summed over threads."""
        return np.asarray(self.bins.sum(axis=0, dtype=np.uint64))

    def upper_bounds(self) -> list[float]:
        """Inclusive upper bound of each bin for integer samples; the last is +Inf."""
        n = self.bins.shape[1]
        bounds: list[float] = [float(2 ** (self.min_exp + i + 1) - 1) for i in range(n - 1)]
        return [*bounds, float("inf")] if n else []


@dataclass(frozen=True)
class RingThread:
    """One thread's ring of a ring buffer: ``sequence`` counts records ever
    produced; ``records`` are the ones still in the ring, oldest first."""

    head: int
    sequence: int
    records: list[bytes]


@dataclass(frozen=True)
class RingBuffer:
    """A stats-segment ring buffer (``vlib_stats_ring_buffer_t``)."""

    entry_size: int
    ring_size: int
    schema_version: int
    schema: bytes
    threads: list[RingThread]


@dataclass(frozen=True)
class Symlink:
    """A directory entry that names one column of another counter vector."""

    target: str
    index: int


class SymlinkTable(Mapping[str, Symlink]):
    """Symlinks of one epoch, kept as parallel lists: a :class:`Symlink`
    object is made only for the names asked for."""

    def __init__(self, names: list[str], targets: list[str], indexes: list[int]) -> None:
        self._position = dict(zip(names, range(len(names)), strict=True))
        self._targets = targets
        self._indexes = indexes

    def __getitem__(self, name: str) -> Symlink:
        position = self._position[name]
        return Symlink(self._targets[position], self._indexes[position])

    def __contains__(self, name: object) -> bool:
        return name in self._position

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)


@dataclass
class Snapshot:
    """Every entry of the segment, read under one epoch.

    ``epoch`` is VPP's directory epoch; ``taken_at`` is ``time.time()`` when the
    copy completed; ``segment_id`` identifies the VPP instance (changes on
    restart)."""

    epoch: int
    taken_at: float
    segment_id: tuple[int, int]
    types: dict[str, StatType]
    values: dict[str, Any] = field(repr=False)
    symlinks: Mapping[str, Symlink] = field(repr=False)

    def __getitem__(self, name: str) -> Any:
        """The value of ``name`` in the form the module docstring gives."""
        if name not in self.symlinks:
            return self.values[name]
        link = self.symlinks[name]
        return self.values[link.target][:, link.index]

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def __iter__(self) -> Iterator[str]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def get(self, name: str, default: Any = None) -> Any:
        """``self[name]`` when the entry exists, else ``default``."""
        return self[name] if name in self.types else default

    def type(self, name: str) -> StatType:
        return self.types[name]

    def symlink(self, name: str) -> Symlink | None:
        return self.symlinks.get(name)

    def total(self, name: str) -> Any:
        """A counter summed over threads: ``int`` for a simple symlink,
        ``(packets, bytes)`` array for a combined one, and the summed array for a
        whole vector. Scalars and gauges come back as they are."""
        value = self[name]
        if isinstance(value, np.ndarray):
            summed = value.sum(axis=0, dtype=np.uint64)
            return int(summed) if summed.ndim == 0 else summed
        return value

    def matching(self, prefixes: tuple[str, ...]) -> list[str]:
        """Entry names that start with any of ``prefixes``, in directory order."""
        return [n for n in self.types if n.startswith(prefixes)]


def snapshot_from_mapping(
    entries: Mapping[str, tuple[StatType, Any]],
    *,
    epoch: int = 1,
    taken_at: float = 0.0,
    segment_id: tuple[int, int] = (0, 0),
) -> Snapshot:
    """Build a snapshot from ``{name: (type, value)}``; symlink values are
    :class:`Symlink`. Used by recordings and synthetic segments."""
    types: dict[str, StatType] = {}
    values: dict[str, Any] = {}
    links: dict[str, Symlink] = {}
    for name, (kind, value) in entries.items():
        types[name] = StatType(kind)
        if kind == StatType.SYMLINK:
            links[name] = value
        else:
            values[name] = value
    return Snapshot(epoch, taken_at, segment_id, types, values, links)
