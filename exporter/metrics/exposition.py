"""Encode families for HTTP: Prometheus text (fast path) or OpenMetrics.

:func:`render_text` writes the layout of prometheus-client's
``generate_latest`` (HELP, TYPE, samples with labels sorted by name) but
formats each distinct label set once per scrape, however many families share
it, reads :class:`~vppcomp.exporter.metrics.families.SampleView` without making
``Sample`` objects, and prints integer values exactly (``18446744073709551615``, not a
rounded float). All names this exporter emits are legacy-valid, so no name
escaping is involved. Which format is prometheus-client's decision
(:func:`prometheus_client.exposition.choose_encoder`): OpenMetrics, with the
encoder and content type it picks, goes through prometheus-client unchanged;
everything else is this text format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder
from prometheus_client.utils import floatToGoString

from vppcomp.exporter.metrics.families import SampleView

TEXT_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

_TYPE_NAMES = {"unknown": "untyped", "info": "gauge", "stateset": "gauge"}


def encode(metrics: list[Metric], accept: str | None) -> tuple[Iterator[bytes], str]:
    """``metrics`` encoded as the ``Accept`` header asks: (body chunks,
    content type). Text is produced family by family as the chunks are
    consumed (the list is consumed with them)."""
    encoder, content_type = choose_encoder(accept or "")
    if content_type.startswith("application/openmetrics-text"):
        return iter([encoder(_Registry(metrics))]), content_type
    return encode_text(metrics), TEXT_CONTENT_TYPE


def render_text(metrics: list[Metric]) -> bytes:
    """The Prometheus text format (0.0.4) of ``metrics``, in one piece
    (consumes the list)."""
    return b"".join(encode_text(metrics))


def encode_text(metrics: list[Metric]) -> Iterator[bytes]:
    """The Prometheus text format (0.0.4) of ``metrics``, one chunk per family.

    Consumes the list: each family is released once written, so neither the
    whole body nor all families and the body are held at once."""
    labels: dict[int, tuple[dict[str, str], str]] = {}  # id(dict) -> (dict, "{...}")
    metrics.reverse()
    while metrics:
        metric = metrics.pop()
        name = metric.name + "_total" if metric.type == "counter" else metric.name
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        kind = _TYPE_NAMES.get(metric.type, metric.type)
        out = [f"# HELP {name} {doc}\n# TYPE {name} {kind}\n"]
        samples = metric.samples
        if isinstance(samples, SampleView):
            pairs: Iterable[tuple[str, dict[str, str], Any]] = (
                (samples.name, row, value) for row, value in samples.pairs()
            )
        else:
            pairs = ((s.name, s.labels, s.value) for s in samples)
        for sample_name, row, value in pairs:
            cached = labels.get(id(row))
            if cached is None or cached[0] is not row:
                cached = (row, _label_text(row))
                labels[id(row)] = cached
            shown = str(value) if type(value) is int else floatToGoString(value)
            out.append(f"{sample_name}{cached[1]} {shown}\n")
        yield "".join(out).encode()


def _label_text(row: dict[str, str]) -> str:
    if not row:
        return ""
    pairs = ",".join(f'{key}="{_escape(row[key])}"' for key in sorted(row))
    return "{" + pairs + "}"


def _escape(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


class _Registry:
    """What prometheus-client's encoders iterate: an object with ``collect()``."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics
