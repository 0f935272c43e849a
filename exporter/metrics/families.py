"""Build prometheus-client metric families from numpy arrays, fast.

Every builder takes ``rows``, one label dict per series (shared, read-only:
callers cache them per stats epoch), values aligned with ``rows`` and an
optional ``keep`` list of row indices; samples are created directly rather
than through ``add_metric`` because a scrape at ten thousand interfaces holds
a quarter of a million of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

Rows = Sequence[dict[str, str]]


def _samples(
    name: str, rows: Rows, values: Sequence[float], keep: Sequence[int] | None
) -> list[Sample]:
    if keep is not None and len(keep) != len(rows):
        rows = [rows[i] for i in keep]
        values = [values[i] for i in keep]
    none = repeat(None)
    return list(map(Sample._make, zip(repeat(name), rows, values, none, none, none)))


def counter(
    name: str,
    documentation: str,
    labels: Sequence[str],
    rows: Rows,
    values: Sequence[float],
    keep: Sequence[int] | None = None,
) -> Metric:
    """A counter family ``name`` (without ``_total``) with one sample per kept row."""
    family = CounterMetricFamily(name, documentation, labels=labels)
    family.samples = _samples(name + "_total", rows, values, keep)
    return family


def gauge(
    name: str,
    documentation: str,
    labels: Sequence[str],
    rows: Rows,
    values: Sequence[float],
    keep: Sequence[int] | None = None,
) -> Metric:
    """A gauge family with one sample per kept row."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    family.samples = _samples(name, rows, values, keep)
    return family


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str],
    rows: Rows,
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
            first.samples.extend(metric.samples)
    return list(joined.values())
