"""Helpers shared by the exporter tests: an exporter on a stats socket, one
scrape as text, the exposition parsed into samples, golden files."""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.metrics.exposition import render_text
from vppcomp.exporter.metrics.options import Options
from vppcomp.statseg.client import StatsClient

GOLDEN = Path(__file__).parent / "golden"
#: Size of the replayed segments the exporter tests serve.
SIZE = 4 << 20

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Series:
    """Every sample of a text exposition, keyed by name and label set."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def without_self_metrics(text: str) -> str:
    """The exposition minus ``vpp_exporter_*`` (durations and times vary)."""
    return "".join(
        line + "\n"
        for line in text.splitlines()
        if not re.match(r"(# (HELP|TYPE) )?vpp_exporter_", line)
    )


def make_exporter(socket: Path, **options: object) -> Exporter:
    """An exporter with every collector on the stats socket ``socket``."""
    return Exporter(
        StatsClient(str(socket), liveness_interval=0.0),
        build_collectors(),
        Options(**options),  # type: ignore[arg-type]
    )


def scrape(exporter: Exporter) -> str:
    """One scrape in the Prometheus text format."""
    return render_text(exporter.collect()).decode()


def check_golden(name: str, text: str) -> None:
    """``text`` equals tests/golden/``name``; ``UPDATE_GOLDEN=1`` rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(), f"exposition differs from {path}"
