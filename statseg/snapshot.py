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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vppcomp.statseg.layout import StatType

_TYPES = list(StatType)  # StatType by value: values are 0..9


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
    produced; ``records`` are complete records still in the ring, oldest
    first, the last one being record number ``sequence - 1`` (empty when the
    reader was not asked to copy records). ``head`` is the slot VPP writes
    next (``sequence % ring_size``)."""

    head: int
    sequence: int
    records: list[bytes]

    @property
    def first_sequence(self) -> int:
        """Record number (0-based, in production order) of ``records[0]``;
        ``records[i]`` is record ``first_sequence + i``."""
        return self.sequence - len(self.records)


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


class EntryTypes(Mapping[str, StatType]):
    """Entry types of one epoch, in directory order, over a shared
    ``name -> directory row`` index (one dict for types and symlinks);
    ``kinds[row]`` is the row's type as an int."""

    def __init__(self, rows: dict[str, int], kinds: Sequence[int]) -> None:
        self._rows = rows
        self._kinds = kinds

    def __getitem__(self, name: str) -> StatType:
        return _TYPES[self._kinds[self._rows[name]]]

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class SymlinkTable(Mapping[str, Symlink]):
    """Symlinks of one epoch over the same ``name -> row`` index:
    ``targets[row]`` is the target's row (-1 for entries that are not
    symlinks), ``indexes[row]`` the column, ``count`` how many rows of the
    index are symlinks. A :class:`Symlink` object is made only for the names
    asked for."""

    def __init__(
        self,
        rows: dict[str, int],
        names: Sequence[str],
        targets: Sequence[int],
        indexes: Sequence[int],
        count: int,
    ) -> None:
        self._rows = rows
        self._names = names
        self._targets = targets
        self._indexes = indexes
        self._count = count

    def __getitem__(self, name: str) -> Symlink:
        row = self._rows[name]
        target = self._targets[row]
        if target < 0:
            raise KeyError(name)
        return Symlink(self._names[target], self._indexes[row])

    def __contains__(self, name: object) -> bool:
        row = self._rows.get(name) if isinstance(name, str) else None
        return row is not None and self._targets[row] >= 0

    def __iter__(self) -> Iterator[str]:
        targets = self._targets
        return (name for name, row in self._rows.items() if targets[row] >= 0)

    def __len__(self) -> int:
        return self._count


@dataclass
class Snapshot:
    """Every entry of the segment, read under one epoch.

    ``epoch`` is VPP's directory epoch; ``taken_at`` is ``time.time()`` when the
    copy completed; ``segment_id`` identifies the VPP instance (changes on
    restart); ``bad_entries`` maps each entry left out because it does not
    decode (a dangling symlink, a pointer outside the segment) to the reason.
    """

    epoch: int
    taken_at: float
    segment_id: tuple[int, int]
    types: Mapping[str, StatType]
    values: dict[str, Any] = field(repr=False)
    symlinks: Mapping[str, Symlink] = field(repr=False)
    bad_entries: Mapping[str, str] = field(default_factory=dict, repr=False)

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
