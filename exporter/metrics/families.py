"""Build prometheus-client metric families from numpy arrays, cheaply.

A family's ``samples`` is a :class:`SampleView`: the family's label rows
(shared, read-only dicts that callers cache per stats epoch), its values (a
numpy array or a list) and the indices of the rows to keep. prometheus-client
iterates it like the usual list of ``Sample`` tuples (OpenMetrics goes through
it unchanged); :func:`vppcomp.exporter.metrics.exposition.render_text` reads
:meth:`SampleView.pairs` directly. A scrape at ten thousand interfaces thus
holds arrays, not a quarter of a million ``Sample`` objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

Rows = Sequence[dict[str, str] | None]
Values = Sequence[float] | np.ndarray
Keep = Sequence[int] | np.ndarray | None


class SampleView(Sequence[Sample]):
    """The samples ``name{rows[i]} values[i]`` for ``i`` in ``keep`` (all
    rows when ``keep`` is ``None``; every kept row must be a dict)."""

    __slots__ = ("keep", "name", "rows", "values")

    def __init__(self, name: str, rows: Rows, values: Values, keep: Keep) -> None:
        self.name = name
        self.rows = rows
        self.values = values
        self.keep = keep

    def pairs(self) -> Iterator[tuple[dict[str, str], Any]]:
        """``(labels, value)`` per sample; values as Python ints or floats."""
        rows, values, keep = self.rows, self.values, self.keep
        if keep is not None:
            indices = keep.tolist() if isinstance(keep, np.ndarray) else keep
            rows = [rows[i] for i in indices]
            if isinstance(values, np.ndarray):
                values = values[np.asarray(indices, dtype=np.intp)]
            else:
                values = [values[i] for i in indices]
        if isinstance(values, np.ndarray):
            values = values.tolist()
        return zip(rows, values, strict=True)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Sample]:
        name = self.name
        return (Sample(name, row, value) for row, value in self.pairs())

    def __len__(self) -> int:
        return len(self.rows) if self.keep is None else len(self.keep)

    @overload
    def __getitem__(self, index: int) -> Sample: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Sample]: ...
    def __getitem__(self, index: int | slice) -> Sample | Sequence[Sample]:
        return list(self)[index]


def counter(
    name: str,
    documentation: str,
    labels: Sequence[str],
    rows: Rows,
    values: Values,
    keep: Keep = None,
) -> Metric:
    """A counter family ``name`` (without ``_total``) with one sample per kept row."""
    family = CounterMetricFamily(name, documentation, labels=labels)
    # prometheus-client types samples as a list but only iterates it
    family.samples = SampleView(name + "_total", rows, values, keep)  # type: ignore[assignment]
    return family


def gauge(
    name: str,
    documentation: str,
    labels: Sequence[str],
    rows: Rows,
    values: Values,
    keep: Keep = None,
) -> Metric:
    """A gauge family with one sample per kept row."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    family.samples = SampleView(name, rows, values, keep)  # type: ignore[assignment]
    return family


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str],
    rows: Sequence[dict[str, str]],
    upper_bounds: Sequence[float],
    bins: np.ndarray,
    sums: Sequence[float] | None = None,
    keep: Sequence[int] | None = None,
) -> Metric:
    """A histogram family from per-row bin counts ``bins`` (rows, n_bins).

    Buckets are cumulative with ``le`` = ``upper_bounds`` (last is +Inf).
    ``_sum`` and ``_count`` are emitted only when ``sums`` gives the exact sum
    of observations (a log2 histogram alone does not know it, and OpenMetrics
    has no ``_count`` without ``_sum``); the +Inf bucket is the count."""
    family = HistogramMetricFamily(name, documentation, labels=labels)
    cumulative = np.cumsum(bins, axis=1, dtype=np.uint64).tolist()
    les = [floatToGoString(bound) for bound in upper_bounds]
    indices = range(len(rows)) if keep is None else keep
    samples = family.samples
    for i in indices:
        row = rows[i]
        for le, value in zip(les, cumulative[i], strict=True):
            samples.append(Sample(name + "_bucket", {**row, "le": le}, value))
        if sums is not None:
            samples.append(Sample(name + "_count", row, cumulative[i][-1]))
            samples.append(Sample(name + "_sum", row, sums[i]))
    return family


def merge(metrics: Sequence[Metric]) -> list[Metric]:
    """Families of the same name joined into one (first one's help and type),
    in order of first appearance: for one family fed by several stat paths."""
    joined: dict[str, Metric] = {}
    for metric in metrics:
        first = joined.get(metric.name)
        if first is None:
            joined[metric.name] = metric
        else:
            first.samples = [*first.samples, *metric.samples]
    return list(joined.values())
