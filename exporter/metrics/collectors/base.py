"""The collector contract and stat-name helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from prometheus_client.core import Metric

from vppcomp.exporter.metrics.scrape import Scrape

_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]+")


class Collector(Protocol):
    """One area of the segment. ``collect`` builds fresh families from the
    scrape's snapshot (it keeps no metric objects between scrapes, only
    per-epoch caches of labels) and may raise: the exporter then reports the
    collector as failed for this scrape and carries on with the others.
    A collector whose class sets ``without_vpp = True`` (families not read
    from the segment, e.g. the shipper's) also runs when VPP is unreachable,
    with ``scrape`` None."""

    name: str

    def collect(self, scrape: Scrape) -> Iterable[Metric]: ...


def metric_word(stat: str) -> str:
    """A stat-path component as a metric-name word: ``rx-no-buf`` -> ``rx_no_buf``."""
    return _NOT_NAME.sub("_", stat).strip("_").lower()
