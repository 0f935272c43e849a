"""The compose stack, the Prometheus configuration and the Grafana dashboard:
files that exist, names the exporter really exports, and PromQL that a real
Prometheus evaluates to data on a recording of a real VPP running ipcomp."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from exporter_shapes import exporter_snapshot
from servers import Service, instant_query, prometheus_server, wait_for_series

from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.metrics.options import Options
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.recording import read_frames
from vppcomp.statseg.replay import SegmentServer, replay
from vppcomp.statseg.writer import SegmentWriter

ROOT = Path(__file__).resolve().parent.parent

DASHBOARD = ROOT / "dashboards" / "grafana" / "dashboards" / "vppcomp-ipcomp.json"
RECORDING = ROOT / "tests" / "data" / "vpp-ipcomp.vppstats"
OFFLOAD_TRAFFIC = "Offload engine: device vs software fallback packets / s"
OFFLOAD_QUEUE = "Offload device queue: in-flight operations, enqueue-to-dequeue latency (p50, p99)"
needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None, reason="prometheus not installed (Debian package)"
)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target, Grafana variables substituted
    as Grafana would for 'All'."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = (
                target["expr"]
                .replace("$__rate_interval", "30s")
                .replace('=~"$instance"', '=~".*"')
                .replace('=~"$sa"', '=~".*"')
            )
            queries.append((panel["title"], expr))
    return queries


def exported_families() -> set[str]:
    """Family names of the exporter's frozen metric table."""
    table = (ROOT / "exporter" / "README.md").read_text()
    return set(re.findall(r"^\| `(vpp_[a-z0-9_]+)` \|", table, re.MULTILINE))


def test_prometheus_config_is_valid() -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    config = ROOT / "dashboards" / "prometheus" / "prometheus.yml"
    result = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    provider = yaml.safe_load(
        (ROOT / "dashboards/grafana/provisioning/dashboards/vppcomp.yml").read_text()
    )
    path = provider["providers"][0]["options"]["path"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert any(m.endswith(f":{path}:ro") and "dashboards/grafana/dashboards" in m for m in mounts)
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_uses_only_exported_metrics() -> None:
    families = exported_families()
    assert "vpp_ipcomp_sa_saved_bytes_total" in families
    for title, expr in dashboard_queries():
        for name in re.findall(r"\bvpp_[a-z0-9_]+", expr):
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in families or family in families, f"{title}: {name}"


@pytest.fixture
def exporter_on_recording(tmp_path: Path) -> Iterator[Service]:
    """The exporter reading tests/data/vpp-ipcomp.vppstats replayed in real time, looping."""
    frames = list(read_frames(RECORDING))
    size = max(SegmentWriter.required_size(f.snapshot) for f in frames)
    stop = threading.Event()
    with SegmentServer(tmp_path / "stats.sock", size) as segment:
        segment.publish(frames[0].snapshot)

        def loop() -> None:
            while not stop.is_set():
                replay(segment, frames, speed=1.0, stop=stop)

        player = threading.Thread(target=loop, daemon=True)
        player.start()
        client = StatsClient(segment.socket_path)
        try:
            with Service(Exporter(client, build_collectors(), Options())) as service:
                yield service
        finally:
            stop.set()
            player.join(timeout=10)


@needs_prometheus
def test_every_dashboard_query_evaluates_on_real_data(
    exporter_on_recording: Service, tmp_path: Path
) -> None:
    target = f"127.0.0.1:{exporter_on_recording.port}"
    with prometheus_server(tmp_path / "prometheus", [target]) as url:
        saved = 'sum(rate(vpp_ipcomp_sa_saved_bytes_total{instance=~".*"}[30s]))'
        assert wait_for_series(url, f"{saved} > 0"), "no compression seen by Prometheus"
        empty = []
        for title, expr in dashboard_queries():
            answer = instant_query(url, expr)
            assert answer["status"] == "success", f"{title}: {expr}: {answer}"
            if not answer["data"]["result"]:
                empty.append(title)
        # the recording has no drops, no in-flight async ops; everything else has data
        allowed_empty = {"Decompression drops / s", "ipcomp drops by reason"}
        # it was recorded on a VPP without a compressdev section and before the
        # plugin published /net/ipcomp/sa/offload-* and /net/ipcomp/offload/*:
        # the offload panels have no series (test_exporter.py covers their names)
        allowed_empty |= {OFFLOAD_TRAFFIC, OFFLOAD_QUEUE}
        assert set(empty) <= allowed_empty, empty


@pytest.fixture
def exporter_on_offload_shape(tmp_path: Path) -> Iterator[Service]:
    """The exporter on bench/exporter_shapes.py's segment (an offload device
    with traffic), its counters growing every half second."""
    stop = threading.Event()
    first = exporter_snapshot()
    with SegmentServer(tmp_path / "stats.sock", 2 * SegmentWriter.required_size(first)) as segment:
        segment.publish(first)

        def grow() -> None:
            tick = 0
            while not stop.wait(0.5):
                tick += 1
                segment.publish(exporter_snapshot(tick=tick))

        writer = threading.Thread(target=grow, daemon=True)
        writer.start()
        try:
            with Service(Exporter(StatsClient(segment.socket_path), build_collectors())) as service:
                yield service
        finally:
            stop.set()
            writer.join(timeout=10)


@needs_prometheus
def test_offload_panels_evaluate_on_an_offload_segment(
    exporter_on_offload_shape: Service, tmp_path: Path
) -> None:
    """The offload panels, empty on the recording, have data for every
    target where a device works: hardware and fallback rates by reason,
    in-flight operations and latency quantiles per queue pair."""
    target = f"127.0.0.1:{exporter_on_offload_shape.port}"
    offload = [(t, e) for t, e in dashboard_queries() if t in (OFFLOAD_TRAFFIC, OFFLOAD_QUEUE)]
    assert len(offload) == 6
    with prometheus_server(tmp_path / "prometheus", [target]) as url:
        for title, expr in offload:
            assert wait_for_series(url, expr), f"{title}: {expr}"
        reasons = wait_for_series(url, next(e for _, e in offload if "by (reason)" in e))
        assert {r["metric"]["reason"] for r in reasons} == {
            "queue_full",
            "device_error",
            "no_device",
            "too_big",
            "data_error",
        }
