"""What a collector gets for one scrape, and the shared vector-to-family step.

A :class:`Scrape` bundles the snapshot and the options. :meth:`Scrape.vector`
turns one counter vector (``/if/rx``, ``/node/errors``) plus the identities
along its index axis (:class:`Entities`) into counter families: threads
summed (or kept, with a ``thread`` label), all-zero series dropped when
asked. Values are VPP's, unchanged: a counter that falls (``clear
interfaces``) falls in the exposition too, and Prometheus' ``rate()`` reads
it as a reset, as for node_exporter. Vectors whose thread axis is an
entity of its own (an offload device's queue pairs: each VPP thread owns the
queue pair of its index) keep threads under that label whatever the options.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.options import Options
from vppcomp.statseg.layout import StatType
from vppcomp.statseg.snapshot import Log2Histogram, Snapshot

T = TypeVar("T")


@dataclass
class Entities:
    """The series along the index axis of counter vectors.

    ``ids[i]`` identifies index ``i`` (an interface or SA name, an error
    path; ``None``: index not exported, e.g. a deleted interface);
    ``rows[i]`` is its label dict.
    ``labels`` are the label names, in order."""

    labels: tuple[str, ...]
    ids: list[Hashable | None]
    rows: list[dict[str, str] | None]
    _per_thread: dict[tuple[int, str], tuple[list[dict[str, str] | None], np.ndarray]] = field(
        default_factory=dict, repr=False
    )
    _valid: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def named(cls, label: str, names: Sequence[str | None]) -> Entities:
        """One label whose value is the name; ``None`` and empty names (a
        deleted SA's) are skipped."""
        kept = [name or None for name in names]
        rows = [None if name is None else {label: name} for name in kept]
        return cls((label,), list[Hashable | None](kept), rows)

    def valid(self) -> np.ndarray:
        """Boolean mask of exported indices."""
        if self._valid is None:
            self._valid = np.fromiter((r is not None for r in self.rows), bool, len(self.rows))
        return self._valid

    def per_thread(
        self, threads: int, label: str = "thread"
    ) -> tuple[list[dict[str, str] | None], np.ndarray]:
        """Rows (the thread index as ``label``) and validity mask for
        ``index * threads + thread`` order."""
        cached = self._per_thread.get((threads, label))
        if cached is None:
            rows: list[dict[str, str] | None] = []
            for row in self.rows:
                for thread in range(threads):
                    rows.append(None if row is None else {**row, label: str(thread)})
            cached = (rows, np.repeat(self.valid(), threads))
            self._per_thread[(threads, label)] = cached
        return cached

    def with_label(self, label: str, value: str) -> Entities:
        """The same entities with one more label of a fixed value (e.g. the
        ``reason`` of one of several vectors joined into one family)."""
        rows = [None if row is None else {**row, label: value} for row in self.rows]
        return Entities((*self.labels, label), self.ids, rows)


class EpochCache:
    """Values derived from a snapshot object that stays the same while VPP's
    directory does (name vectors, the symlink table): rebuilt only when the
    source object changes."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Any, Any]] = {}

    def get(self, key: str, source: object, build: Callable[[], T]) -> T:
        entry = self._entries.get(key)
        if entry is None or entry[0] is not source:
            entry = (source, build())
            self._entries[key] = entry
        return entry[1]


@dataclass
class Series:
    """A counter vector after thread handling: ``data`` is
    ``(series,)`` (simple) or ``(series, 2)`` (combined, packets and bytes),
    aligned with ``rows`` / ``valid`` / ``ids``."""

    kind: StatType
    data: np.ndarray
    labels: tuple[str, ...]
    rows: list[dict[str, str] | None]
    valid: np.ndarray
    ids: list[Hashable | None]


@dataclass
class Scrape:
    """One scrape: a snapshot and how to turn it into families."""

    snapshot: Snapshot
    options: Options

    def wants(self, path: str) -> bool:
        """Whether ``path`` is in the snapshot and passes include/exclude."""
        return path in self.snapshot and self.options.wants(path)

    def entries(self, prefix: str) -> list[str]:
        """Paths of the non-symlink entries that start with ``prefix``, in
        directory order (symlinks are ~95% of a large segment and repeat
        vector columns, so no collector walks them)."""
        return [path for path in self.snapshot.values if path.startswith(prefix)]

    def thread_label(self, split: str | None = None) -> str | None:
        """The label that keeps VPP threads apart: ``split`` when the thread
        axis is an entity of its own (``queue_pair``), ``thread`` with
        ``--per-thread``, else ``None`` (threads summed)."""
        return split or ("thread" if self.options.per_thread else None)

    def series(
        self,
        path: str,
        entities: Entities,
        *,
        filter_path: bool = True,
        split: str | None = None,
    ) -> Series | None:
        """The counter vector at ``path`` as series, or ``None``
        when it is absent or filtered out. Indices beyond ``entities`` or the
        vector are ignored. ``filter_path=False`` skips the include/exclude
        check on ``path`` (for entities filtered by their own paths);
        ``split`` is the label threads are always kept under (see
        :meth:`thread_label`)."""
        if path not in self.snapshot or (filter_path and not self.options.wants(path)):
            return None
        array = self.snapshot[path]
        n = min(array.shape[1], len(entities.ids))
        array = array[:, :n]
        ids = entities.ids if n == len(entities.ids) else entities.ids[:n]
        label = self.thread_label(split)
        if label is not None:
            threads = array.shape[0]
            data = np.moveaxis(array, 0, 1)
            all_rows, all_valid = entities.per_thread(threads, label)
            return Series(
                self.snapshot.type(path),
                data.reshape(n * threads, *array.shape[2:]),
                (*entities.labels, label),
                all_rows[: n * threads],
                all_valid[: n * threads],
                [i for i in ids for _ in range(threads)],
            )
        data = array.sum(axis=0, dtype=np.uint64)
        return Series(
            self.snapshot.type(path),
            data,
            entities.labels,
            entities.rows[:n],
            entities.valid()[:n],
            ids,
        )

    def keep(self, series: Series) -> np.ndarray:
        """Indices of ``series`` to export: valid ones, and with ``used_only``
        only those whose values are not all zero."""
        valid = series.valid
        if self.options.used_only:
            valid = valid & series.data.reshape(len(series.data), -1).any(axis=1)
        return np.flatnonzero(valid)

    def vector(
        self,
        path: str,
        entities: Entities,
        names: Sequence[tuple[str, str]],
        *,
        filter_path: bool = True,
        split: str | None = None,
    ) -> list[Metric]:
        """Counter families for the vector at ``path`` (see :meth:`series`).

        ``names`` holds ``(family, help)`` pairs: one for a simple counter
        vector, two (packets, bytes) for a combined one."""
        series = self.series(path, entities, filter_path=filter_path, split=split)
        if series is None:
            return []
        keep = self.keep(series)
        rows, labels, data = series.rows, series.labels, series.data
        if series.kind == StatType.COUNTER_VECTOR_COMBINED:
            (packets, packets_help), (octets, octets_help) = names
            return [
                families.counter(packets, packets_help, labels, rows, data[:, 0], keep),
                families.counter(octets, octets_help, labels, rows, data[:, 1], keep),
            ]
        ((name, help_text),) = names
        return [families.counter(name, help_text, labels, rows, data, keep)]

    def histogram(
        self,
        path: str,
        family: str,
        documentation: str,
        labels: dict[str, str],
        exact_sum: float | None = None,
        split: str | None = None,
    ) -> list[Metric]:
        """The log2 histogram at ``path`` as one Prometheus histogram family
        (summed over threads, or one series per thread labelled as
        :meth:`thread_label` says).
        ``exact_sum`` (threads summed only) adds ``_sum`` and ``_count``.
        Empty when absent, filtered or all zero with ``used_only``."""
        if not self.wants(path) or self.snapshot.type(path) != StatType.HISTOGRAM_LOG2:
            return []
        hist: Log2Histogram = self.snapshot[path]
        if hist.bins.shape[0] == 0 or hist.bins.shape[1] == 0:
            return []
        label = self.thread_label(split)
        if label is not None:
            bins = hist.bins
            rows = [{**labels, label: str(t)} for t in range(len(bins))]
            sums = None
        else:
            bins = hist.total()[None, :]
            rows = [labels]
            sums = None if exact_sum is None else [exact_sum]
        keep = [i for i in range(len(rows)) if bins[i].any() or not self.options.used_only]
        return [
            families.histogram(
                family, documentation, tuple(rows[0]), rows, hist.upper_bounds(), bins, sums, keep
            )
        ]
