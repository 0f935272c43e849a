"""The services the demo runs beside the VPPs (or the replayed recording):
the exporters, a real Prometheus (Debian's ``prometheus``) with the
project's rules, and the Elasticsearch shipper.

Each ``*_argv`` function returns the command line of one service; this is
the one place that knows those command lines.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from vppcomp.demo.plugin_build import ROOT

PROMETHEUS_DIR = ROOT / "dashboards" / "prometheus"
SCRAPE_INTERVAL = "5s"


def vppcomp_argv(*args: str) -> list[str]:
    """``vppcomp ARGS`` run by this Python (the same install as the demo)."""
    return [sys.executable, "-m", "vppcomp.cli", *args]


def exporter_argv(
    listen: str,
    stats_socket: Path,
    *,
    api_socket: Path | None = None,
    api_dirs: Sequence[Path] = (),
    inventory: Path | None = None,
) -> list[str]:
    """The exporter on ``listen``; with ``inventory`` it serves /topology/."""
    argv = vppcomp_argv("exporter", "--listen", listen, "--stats-socket", str(stats_socket))
    if api_socket is not None:
        argv += ["--api-socket", str(api_socket)]
    for directory in api_dirs:
        argv += ["--api-json-dir", str(directory)]
    if inventory is not None:
        argv += ["--topology-inventory", str(inventory)]
    return argv


def rule_files(directory: Path = PROMETHEUS_DIR) -> list[Path]:
    """Every Prometheus rule file of the project (YAML with top-level ``groups:``)."""
    found = []
    for path in sorted(directory.rglob("*.y*ml")):
        if re.search(r"^groups:", path.read_text(errors="replace"), re.MULTILINE):
            found.append(path)
    return found


def prometheus_config(targets: dict[str, str], rules: Sequence[Path]) -> str:
    """A Prometheus configuration scraping ``targets`` (instance name ->
    host:port, label ``end``) every SCRAPE_INTERVAL and loading ``rules``."""
    lines = [
        "# written by vppcomp demo",
        "global:",
        f"  scrape_interval: {SCRAPE_INTERVAL}",
        f"  evaluation_interval: {SCRAPE_INTERVAL}",
        "rule_files:" if rules else "rule_files: []",
        *(f"  - {path}" for path in rules),
        "scrape_configs:",
        "  - job_name: vpp",
        "    static_configs:",
    ]
    for name, target in targets.items():
        lines += [f"      - targets: [{target!r}]", f"        labels: {{end: {name!r}}}"]
    return "\n".join(lines) + "\n"


def prometheus_argv(config: Path, data_dir: Path, listen: str) -> list[str]:
    """Debian's Prometheus; raises FileNotFoundError when it is not installed."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise FileNotFoundError("no prometheus on PATH (scripts/setup installs Debian's)")
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={listen}",
        "--storage.tsdb.retention.time=1d",
    ]


def shipper_argv(stats_socket: Path, spool: Path, es_url: str) -> list[str]:
    """``vppcomp ship`` reading ``stats_socket`` and sending to ``es_url``
    (Elasticsearch or OpenSearch) through its spool file ``spool``; while
    nothing answers at ``es_url`` the documents stay in the spool."""
    return vppcomp_argv(
        "ship", "--stats-socket", str(stats_socket), "--url", es_url, "--ship-spool", str(spool)
    )
