"""Render the main panels of the Grafana dashboards to PNG (Grafana itself
does not run here) from a real Prometheus's answers to the panels' own
queries, with matplotlib.

    .venv/bin/python dashboards/grafana/render_panels.py [--out dashboards/grafana/png]

starts one exporter per recording of tests/data (as tests/test_dashboards.py
does), a Prometheus (Debian package) scraping them every second with the
rules of dashboards/prometheus/rules/, waits ``--seconds`` and renders
:data:`MAIN_PANELS` over that time. :func:`render_panels` is the part that
draws, given a Prometheus URL; the dashboards test runs it too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards" / "grafana" / "dashboards"
PNG = ROOT / "dashboards" / "grafana" / "png"
RATE_INTERVAL = "20s"

#: (dashboard uid, panel title) of the panels rendered for the README
MAIN_PANELS = [
    ("vppcomp-overview", "Compression ratio per SA"),
    ("vppcomp-overview", "Bytes saved per SA"),
    ("vppcomp-overview", "Send side: what happened to each packet"),
    ("vppcomp-overview", "Receive failures by reason"),
    ("vppcomp-offload", "Packets / s: on the device, fallback by reason, dropped"),
    ("vppcomp-offload", "Enqueue-to-dequeue latency quantiles (clocks)"),
    ("vppcomp-dataplane", "Clocks per packet: ipcomp nodes vs the busiest others"),
    ("vppcomp-exporter", "Scrape duration"),
]
_UNIT_LABELS = {
    "Bps": "bytes/s",
    "pps": "packets/s",
    "percentunit": "ratio",
    "s": "seconds",
    "ops": "operations/s",
    "bps": "bits/s",
    "bytes": "bytes",
}


def panel(uid: str, title: str) -> tuple[dict[str, Any], list[str]]:
    """A panel of a dashboard file and the dashboard's variable names."""
    board = json.loads((DASHBOARDS / f"{uid}.json").read_text())
    variables = [v["name"] for v in board["templating"]["list"]]
    return next(p for p in board["panels"] if p["title"] == title), variables


def substitute(expr: str, variables: Sequence[str]) -> str:
    """``expr`` as Grafana sends it with every variable at "All"."""
    expr = expr.replace("$__rate_interval", RATE_INTERVAL)
    for name in variables:
        expr = expr.replace(f"${name}", ".*")
    return expr


def legend(template: str, labels: dict[str, str]) -> str:
    """Grafana's ``{{label}}`` legend substitution."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def query_range(url: str, expr: str, start: float, end: float, step: float) -> list[Any]:
    answer = httpx.get(
        f"{url}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": step},
        timeout=30,
    ).json()
    if answer.get("status") != "success":
        raise RuntimeError(f"{expr}: {answer}")
    return list(answer["data"]["result"])


def with_gaps(values: list[Any], start: float, step: float) -> tuple[list[float], list[float]]:
    """A range answer's (time since ``start``, value) lists, with NaN where
    steps are missing, so that a line breaks where Grafana's would."""
    times: list[float] = []
    out: list[float] = []
    for t, v in values:
        if times and float(t) - start - times[-1] > 1.5 * step:
            times.append(times[-1] + step)
            out.append(float("nan"))
        times.append(float(t) - start)
        out.append(float(v))
    return times, out


def render_panels(
    url: str,
    out: Path,
    start: float,
    end: float,
    panels: Sequence[tuple[str, str]] = MAIN_PANELS,
    instances: dict[str, str] | None = None,
) -> list[Path]:
    """Draw ``panels`` from ``url``'s answers between ``start`` and ``end``
    (Unix time) into ``out``/<uid>--<title>.png; returns the files.
    ``instances`` names the ``instance`` label values in legends."""
    names = instances or {}
    out.mkdir(parents=True, exist_ok=True)
    step = max((end - start) / 200, 1.0)
    written = []
    for uid, title in panels:
        spec, variables = panel(uid, title)
        fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
        for target in spec["targets"]:
            for series in query_range(url, substitute(target["expr"], variables), start, end, step):
                times, values = with_gaps(series["values"], start, step)
                labels = dict(series["metric"])
                instance = labels.get("instance", "")
                labels["instance"] = names.get(instance, instance)
                ax.plot(times, values, label=legend(target["legendFormat"], labels))
        unit = spec["fieldConfig"]["defaults"]["unit"]
        if spec["fieldConfig"]["defaults"].get("custom", {}).get("scaleDistribution"):
            ax.set_yscale("log")
        ax.set_title(f"{title}  ({uid})", fontsize=10)
        ax.set_xlabel("seconds")
        ax.set_ylabel(_UNIT_LABELS.get(unit, ""))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        path = out / f"{uid}--{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(PNG))
    parser.add_argument("--seconds", type=float, default=150.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import tempfile

    from servers import prometheus_server
    from test_dashboards import RECORDINGS, recordings_stack
    from test_rules import RULE_FILES

    with tempfile.TemporaryDirectory() as tmp, recordings_stack(Path(tmp)) as services:
        targets = [f"127.0.0.1:{s.port}" for s in services]
        instances = dict(zip(targets, RECORDINGS, strict=True))
        with prometheus_server(Path(tmp) / "prometheus", targets, rule_files=RULE_FILES) as url:
            start = time.time()
            time.sleep(args.seconds)
            for path in render_panels(url, Path(args.out), start, time.time(), instances=instances):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
