"""The compose stack, the Prometheus configuration and the four Grafana
dashboards: files that exist, dashboards that are what
dashboards/grafana/build_dashboards.py writes, names the exporter really
exports, and every panel query and recording rule evaluated by a real
Prometheus to non-zero data on recordings of a real VPP (tests/data/, made
by record_ipcomp.py and record_scenarios.py). A panel target that stays
empty or zero fails unless EXPECTED_EMPTY names it with the reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_rules import RULE_FILES, recording_names
from servers import Service, instant_query, prometheus_server, wait_for_series

from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.collectors.ipcomp_api import ApiDirectory, IpcompApiCollector
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.recording import read_frames
from vppcomp.statseg.replay import SegmentServer, replay
from vppcomp.statseg.writer import SegmentWriter
from vppcomp.topology.api_source import RecordedSource

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "dashboards" / "grafana"
sys.path.insert(0, str(GRAFANA))  # the dashboards' build and render scripts

import build_dashboards  # noqa: E402
from render_panels import MAIN_PANELS, render_panels, substitute  # noqa: E402

DASHBOARDS = GRAFANA / "dashboards"
DATA = ROOT / "tests" / "data"
#: the recordings the dashboards are evaluated on (each replayed by its own exporter)
RECORDINGS = ["vpp-ipcomp", "vpp-ipcomp-traffic", "vpp-ipcomp-offload", "vpp-ipcomp-restart"]
#: (dashboard uid, panel title, legend) -> why it may be empty or zero on the recordings
EXPECTED_EMPTY = {
    ("vppcomp-exporter", "Shipper ring overruns", "overruns"): "the recordings' exporters run "
    "without the shipper (vppcomp exporter --ship-url adds its vpp_shipper_* families)",
    ("vppcomp-exporter", "Shipper spool", "{{instance}}"): "as above: no shipper in this test",
    ("vppcomp-exporter", "Segment reads: retries, failures, connects", "retries"): "timing: "
    "a read is retried only when it meets VPP (here the replayer) updating the segment",
    ("vppcomp-exporter", "Segment reads: retries, failures, connects", "failures"): "timing: "
    "reads fail only when the replayer is restarting or the machine is starved",
    (
        "vppcomp-offload",
        "Late operations and reordered packets / s",
        "late {{device}} qp {{queue_pair}}",
    ): "no op times out in the recorded scenarios (a device that never "
    "returns is a test hook, tests/test_plugin_compressdev.py)",
    (
        "vppcomp-offload",
        "Late operations and reordered packets / s",
        "reordered {{device}} qp {{queue_pair}}",
    ): "the order queue (8,192 per thread) never fills in the recordings",
    ("vppcomp-offload", "Engine SAs and in-flight operations", "in flight on {{engine}}"): (
        "compress_isal0 does the work inside the enqueue call (vpp-notes.md): an op is in "
        "flight only until the next dequeue dispatch, so the engine's in-flight gauge is 0 "
        "at every sample"
    ),
    ("vppcomp-dataplane", "Interface drops / s", "rx error {{interface}}"): "packet-generator "
    "interfaces have no receive errors",
    ("vppcomp-dataplane", "Interface drops / s", "tx error {{interface}}"): "packet-generator "
    "interfaces have no transmit errors",
    ("vppcomp-dataplane", "Interface drops / s", "no buffer {{interface}}"): "the recordings "
    "never exhaust the buffer pool",
}
#: names outside the exporter's table that panels may use
PROMETHEUS_NAMES = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS"}
SHIPPER_NAMES = {"vpp_shipper_ring_overrun_records_total", "vpp_shipper_spool_bytes"}

needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None, reason="prometheus not installed (Debian package)"
)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def boards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panel_queries() -> list[tuple[tuple[str, str, str], str]]:
    """((uid, panel title, legend), PromQL) of every target of every dashboard."""
    queries = []
    for board in boards().values():
        variables = [v["name"] for v in board["templating"]["list"]]
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                key = (board["uid"], panel["title"], target["legendFormat"])
                queries.append((key, substitute(target["expr"], variables)))
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


def test_dashboards_are_what_the_builder_writes() -> None:
    assert build_dashboards.dashboards() == boards(), "run dashboards/grafana/build_dashboards.py"


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/vppcomp.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert any(m.endswith(f":{path}:ro") and "dashboards/grafana/dashboards" in m for m in mounts)


def test_four_linked_dashboards_with_their_variables() -> None:
    found = {b["uid"]: b for b in boards().values()}
    wanted = {
        "vppcomp-overview": {"instance", "sa"},
        "vppcomp-offload": {"instance", "engine", "device"},
        "vppcomp-dataplane": {"instance", "interface"},
        "vppcomp-exporter": {"instance"},
    }
    assert set(found) == set(wanted)
    for uid, board in found.items():
        variables = {v["name"] for v in board["templating"]["list"]} - {"datasource"}
        assert variables == wanted[uid], uid
        assert "vppcomp" in board["tags"]
        (link,) = board["links"]  # every vppcomp dashboard, keeping time and variables
        assert link["type"] == "dashboards" and link["tags"] == ["vppcomp"]
        assert link["includeVars"] and link["keepTime"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), uid
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                for name in re.findall(r"\$(\w+)", target["expr"]):
                    assert name == "__rate_interval" or name in variables, (uid, name)


def test_sas_are_shown_with_cpi_and_peer() -> None:
    """Every per-SA panel joins vpp_ipcomp_sa_info for the CPI and the peer."""
    overview = next(b for b in boards().values() if b["uid"] == "vppcomp-overview")
    per_sa = [p for p in overview["panels"] if "per SA" in p["title"] or p["title"] == "SAs"]
    assert len(per_sa) >= 4
    for panel in per_sa:
        for target in panel["targets"]:
            assert "vpp_ipcomp_sa_info" in target["expr"], panel["title"]
            assert "peer" in target["expr"] and "cpi" in target["expr"], panel["title"]


def test_expected_empty_names_real_panel_targets() -> None:
    keys = {key for key, _ in panel_queries()}
    assert set(EXPECTED_EMPTY) <= keys, set(EXPECTED_EMPTY) - keys


def test_dashboards_use_only_exported_metrics_and_rules() -> None:
    known = exported_families() | recording_names() | PROMETHEUS_NAMES | SHIPPER_NAMES
    assert "vpp_ipcomp_sa_saved_bytes_total" in known
    for key, expr in panel_queries():
        for name in re.findall(r"\b(?:vpp_|vppcomp[_:])[a-z0-9_:]+|\b[A-Za-z_]+(?=\{)", expr):
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in known or family in known, f"{key}: {name}"


@contextmanager
def recordings_stack(workdir: Path) -> Iterator[list[Service]]:
    """One exporter per recording in RECORDINGS, each replaying its recording
    in real time, looping, with the recorded binary-API answers when there are."""
    stop = threading.Event()
    players = []
    with ExitStack() as stack:
        services = []
        for name in RECORDINGS:
            frames = list(read_frames(DATA / f"{name}.vppstats"))
            size = max(SegmentWriter.required_size(f.snapshot) for f in frames)
            segment = stack.enter_context(SegmentServer(workdir / f"{name}.sock", size))
            segment.publish(frames[0].snapshot)

            def loop(segment: SegmentServer = segment, frames: list[Any] = frames) -> None:
                while not stop.is_set():
                    replay(segment, frames, speed=1.0, stop=stop)

            players.append(threading.Thread(target=loop, daemon=True))
            collectors = build_collectors()
            api = DATA / f"{name}_api.json"
            if api.exists():
                collectors.append(IpcompApiCollector(ApiDirectory(RecordedSource(api))))
            client = StatsClient(segment.socket_path)
            services.append(stack.enter_context(Service(Exporter(client, collectors))))
        for player in players:
            player.start()
        try:
            yield services
        finally:
            stop.set()
            for player in players:
                player.join(timeout=10)


@pytest.fixture
def exporters_on_recordings(tmp_path: Path) -> Iterator[list[Service]]:
    with recordings_stack(tmp_path) as services:
        yield services


def nonzero(answer: dict[str, Any]) -> bool:
    """Whether an instant-query answer has a series with a non-zero value."""
    if answer.get("status") != "success":
        return False
    return any(float(r["value"][1]) not in (0.0,) for r in answer["data"]["result"])


@needs_prometheus
def test_every_panel_and_recording_rule_evaluates_on_real_recordings(
    exporters_on_recordings: list[Service], tmp_path: Path
) -> None:
    targets = [f"127.0.0.1:{s.port}" for s in exporters_on_recordings]
    queries = panel_queries()
    rules = [(("rule", name, ""), name) for name in sorted(recording_names())]
    with prometheus_server(tmp_path / "prometheus", targets, rule_files=RULE_FILES) as url:
        started = time.time()
        assert wait_for_series(url, "count(up == 1) == 4"), "Prometheus does not scrape"
        pending = dict(queries + rules)
        for key, expr in pending.items():  # every query is valid PromQL
            answer = instant_query(url, expr)
            assert answer.get("status") == "success", (key, expr, answer)
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            pending = {k: e for k, e in pending.items() if not nonzero(instant_query(url, e))}
            if set(pending) - set(EXPECTED_EMPTY):
                time.sleep(2)
            else:
                break
        # SAs joined with vpp_ipcomp_sa_info: one series per SA, the CPI where the API was
        for key, expr in queries:
            if "vpp_ipcomp_sa_info" in expr and " or on " in expr:
                result = instant_query(url, expr)["data"]["result"]
                sas = [(r["metric"]["instance"], r["metric"]["sa"]) for r in result]
                assert len(sas) == len(set(sas)), (key, result)
                assert {r["metric"]["cpi"] for r in result} >= {"4660", "?"}, (key, result)
        # the README's pictures come from these answers (render_panels.py)
        pictures = render_panels(url, tmp_path / "png", started, time.time())
    assert len(pictures) == len(MAIN_PANELS)
    for picture in pictures:
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000
    unexpected = sorted(set(pending) - set(EXPECTED_EMPTY))
    assert not unexpected, "empty or zero, not marked expected-empty:\n" + "\n".join(
        f"  {k}: {pending[k]}" for k in unexpected
    )
