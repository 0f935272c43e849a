"""The exporter's HTTP service over a replayed segment: content negotiation,
health, JSON views, many parallel scrapes while counters move, VPP vanishing
mid-scrape, and the ``vppcomp exporter`` command with flags and variables."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from exporter_helpers import SIZE, parse
from exporter_shapes import exporter_snapshot
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from servers import Service, free_port

from vppcomp import __version__
from vppcomp.cli import build_parser
from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.metrics.options import Options
from vppcomp.exporter.web.commands import options_from, parse_listen
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.replay import SegmentServer

ROOT = Path(__file__).resolve().parent.parent

LOOP0_RX = ("vpp_interface_rx_packets_total", frozenset({("interface", "loop0")}))
UP: tuple[str, frozenset[tuple[str, str]]] = ("vpp_up", frozenset())


@pytest.fixture
def segment(tmp_path: Path) -> Iterator[SegmentServer]:
    with SegmentServer(tmp_path / "stats.sock", SIZE) as srv:
        srv.publish(exporter_snapshot())
        yield srv


@pytest.fixture
def service(segment: SegmentServer) -> Iterator[Service]:
    client = StatsClient(segment.socket_path, liveness_interval=0.0)
    with Service(Exporter(client, build_collectors(), Options())) as svc:
        yield svc


def test_metrics_content_negotiation(service: Service) -> None:
    text = httpx.get(f"{service.url}/metrics")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert parse(text.text)[UP] == 1
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    om = httpx.get(f"{service.url}/metrics", headers={"Accept": accept})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")
    names = {f.name for f in parse_openmetrics(om.text)}
    assert {"vpp_interface_rx_packets", "vpp_ipcomp_engine_op_clocks", "vpp_up"} <= names


def test_healthz_is_liveness_and_readyz_follows_vpp(
    service: Service, segment: SegmentServer
) -> None:
    """/healthz says the exporter serves (200 even without VPP: a liveness
    probe must not restart a healthy exporter); /readyz follows VPP."""
    httpx.get(f"{service.url}/metrics")
    ok = httpx.get(f"{service.url}/readyz")
    assert ok.status_code == 200
    assert ok.json()["vpp_reachable"] is True
    assert ok.json()["last_success_age_seconds"] >= 0
    assert httpx.get(f"{service.url}/healthz").status_code == 200
    segment.stop()
    down = httpx.get(f"{service.url}/readyz")
    assert down.status_code == 503
    assert down.json()["vpp_reachable"] is False and down.json()["error"]
    assert down.json()["last_success"] == ok.json()["last_success"]
    alive = httpx.get(f"{service.url}/healthz")
    assert alive.status_code == 200 and alive.json()["status"] == "serving"


def test_metrics_gzip_when_accepted(service: Service) -> None:
    """gzip when the scraper accepts it (as Prometheus does), identity otherwise."""
    with httpx.Client() as http:
        raw = http.get(f"{service.url}/metrics", headers={"Accept-Encoding": "identity"})
        zipped = http.get(f"{service.url}/metrics", headers={"Accept-Encoding": "gzip"})
        stream = http.build_request("GET", f"{service.url}/metrics")
        stream.headers["Accept-Encoding"] = "gzip"
        response = http.send(stream, stream=True)
        wire = b"".join(response.iter_raw())
        response.close()
    assert "content-encoding" not in raw.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.text.count("\n") == raw.text.count("\n")
    assert parse(zipped.text)[LOOP0_RX] == parse(raw.text)[LOOP0_RX]
    assert wire[:2] == b"\x1f\x8b" and len(wire) * 4 < len(raw.content)


@pytest.mark.parametrize(
    "accept",
    [
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        "application/openmetrics-text;version=0.0.1,text/plain;version=0.0.4;q=0.5",
        "text/plain;version=1.0.0;escaping=allow-utf-8",
        "*/*",
        "",
    ],
)
def test_content_type_is_prometheus_clients_choice(service: Service, accept: str) -> None:
    """Negotiation is prometheus-client's ``choose_encoder``: OpenMetrics
    exactly when it picks OpenMetrics (with its content type), else text."""
    response = httpx.get(f"{service.url}/metrics", headers={"Accept": accept})
    chosen = choose_encoder(accept)[1]
    if chosen.startswith("application/openmetrics-text"):
        assert response.headers["content-type"] == chosen
        assert response.text.endswith("# EOF\n")
    else:
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert parse(response.text)[UP] == 1


def test_landing_page_links_and_versions(service: Service) -> None:
    page = httpx.get(f"{service.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for link in ("/metrics", "/healthz", "/readyz", "/api/interfaces", "/api/ipcomp/sas"):
        assert f'href="{link}"' in page.text, link
    assert f"vppcomp {__version__}" in page.text
    assert f"prometheus-client {version('prometheus-client')}" in page.text
    assert "VPP reachable: yes" in page.text


def test_json_views(service: Service) -> None:
    snap = exporter_snapshot()
    interfaces = httpx.get(f"{service.url}/api/interfaces").json()["items"]
    assert [i["name"] for i in interfaces] == ["local0", "loop0", "ipcomp0"]
    loop0 = interfaces[1]
    assert loop0["sw_if_index"] == 1
    assert loop0["counters"]["rx"]["bytes"] == snap["/if/rx"].sum(axis=0)[1, 1]
    assert loop0["counters"]["drops"] == snap["/if/drops"].sum(axis=0)[1]
    sas = httpx.get(f"{service.url}/api/ipcomp/sas").json()["items"]
    assert [s["sa"] for s in sas] == ["100", "200"]
    into = snap["/net/ipcomp/sa/compressed-in"].sum(axis=0)[0, 1]
    out = snap["/net/ipcomp/sa/compressed-out"].sum(axis=0)[0, 1]
    assert sas[0]["saved_bytes"] == into - out
    assert sas[0]["compression_ratio"] == pytest.approx(out / into)
    engines = httpx.get(f"{service.url}/api/ipcomp/engines").json()["items"]
    assert [e["engine"] for e in engines] == ["zlib", "isal", "compressdev"]
    calls = snap["/net/ipcomp/engine/calls/compress"].sum(axis=0)
    assert engines[1]["ops"]["compress"]["ops"] == calls[1, 0]
    assert engines[2]["ops"]["compress"]["ops"] == calls[2, 0]
    assert engines[2]["gauges"]["inflight"] == snap["/net/ipcomp/engine/compressdev/inflight"]
    assert engines[0]["gauges"]["priority"] == snap["/net/ipcomp/engine/zlib/priority"]
    events = httpx.get(f"{service.url}/api/ipcomp/events", params={"limit": 2}).json()["items"]
    assert len(events) == 2
    assert events[0]["timestamp_ns"] >= events[1]["timestamp_ns"]
    assert events[0]["src"] == "10.0.0.1" and events[0]["dst"] == "10.0.0.2"
    assert events[0]["type"] in ("sa-add", "decompress-failure")


def test_json_views_without_vpp(service: Service, segment: SegmentServer) -> None:
    segment.stop()
    response = httpx.get(f"{service.url}/api/interfaces")
    assert response.status_code == 503 and response.json()["error"]


def test_parallel_scrapes_while_counters_move(service: Service, segment: SegmentServer) -> None:
    """Sixteen clients scrape while VPP's counters rise: every answer is
    complete and, per client, no counter ever goes backwards."""
    stop = threading.Event()

    def publish() -> None:
        tick = 0
        while not stop.is_set():
            tick += 1
            segment.publish(exporter_snapshot(tick=tick))
            time.sleep(0.002)

    def client(_: int) -> list[dict]:
        seen = []
        with httpx.Client(base_url=service.url, timeout=60) as http:
            for _ in range(8):
                response = http.get("/metrics")
                assert response.status_code == 200
                seen.append(parse(response.text))
        return seen

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(client, range(16)))
    finally:
        stop.set()
        publisher.join()
    for seen in results:
        for before, after in pairwise(seen):
            assert after[UP] == 1
            for key, value in before.items():
                if key[0].endswith("_total") and not key[0].startswith("vpp_exporter_"):
                    assert after[key] >= value, key
    last = parse(httpx.get(f"{service.url}/metrics").text)
    assert last[("vpp_exporter_scrapes_total", frozenset())] >= 16 * 8


def test_vpp_vanishing_during_parallel_scrapes(service: Service, segment: SegmentServer) -> None:
    def client(_: int) -> list[int]:
        with httpx.Client(base_url=service.url, timeout=60) as http:
            return [http.get("/metrics").status_code for _ in range(6)]

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client, i) for i in range(8)]
        time.sleep(0.05)
        segment.stop()
        codes = [code for f in futures for code in f.result()]
    assert set(codes) == {200}
    assert parse(httpx.get(f"{service.url}/metrics").text)[UP] == 0


def test_command_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPPCOMP_EXPORTER_INCLUDE", "/if/*,/err/*")
    monkeypatch.setenv("VPPCOMP_EXPORTER_USED_ONLY", "yes")
    monkeypatch.setenv("VPPCOMP_STATS_SOCKET", "/tmp/elsewhere.sock")
    monkeypatch.setenv("VPPCOMP_API_SOCKET", "/tmp/api.sock")
    args = build_parser().parse_args(["exporter", "--exclude", "/err/ip6-*", "--per-thread"])
    assert options_from(args) == Options(
        per_thread=True, used_only=True, include=("/if/*", "/err/*"), exclude=("/err/ip6-*",)
    )
    assert args.stats_socket == "/tmp/elsewhere.sock"
    assert args.api_socket == "/tmp/api.sock"
    assert parse_listen(args.listen) == ("127.0.0.1", 9482)
    assert parse_listen("[::1]:9100") == ("::1", 9100)
    with pytest.raises(ValueError):
        parse_listen("localhost")


def test_vppcomp_exporter_command_serves(segment: SegmentServer, tmp_path: Path) -> None:
    """The command serves /metrics, and with --api-socket the topology pages
    (here with no VPP API behind it: the diagram says so instead of failing)."""
    port = free_port()
    env = {**os.environ, "VPPCOMP_STATS_SOCKET": segment.socket_path}
    api_socket = tmp_path / "no-api.sock"
    beating = threading.Event()

    def heartbeat() -> None:  # VPP refreshes /sys/heartbeat; rates wait for it
        snapshot = exporter_snapshot()
        while not beating.wait(0.2):
            snapshot.values["/sys/heartbeat"] += 1
            segment.publish(snapshot)

    threading.Thread(target=heartbeat, daemon=True).start()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vppcomp.cli",
            "exporter",
            "--listen",
            f"127.0.0.1:{port}",
            "--api-socket",
            str(api_socket),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert parse(response.text)[LOOP0_RX] == exporter_snapshot()["/if/rx"].sum(axis=0)[1, 0]
        page = httpx.get(f"http://127.0.0.1:{port}/topology/", timeout=30)
        assert page.status_code == 200 and "graph.svg" in page.text
        tunnels = httpx.get(f"http://127.0.0.1:{port}/topology/tunnels.svg", timeout=60)
        assert tunnels.headers["content-type"].startswith("image/svg+xml")
        drawn = html.unescape(tunnels.text)
        assert "unreachable" in drawn and str(api_socket) in drawn
    finally:
        beating.set()
        process.terminate()
        process.wait(timeout=10)


def test_busy_timeout_flag_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["exporter"]).busy_timeout == 1.0
    assert build_parser().parse_args(["exporter", "--busy-timeout", "0.25"]).busy_timeout == 0.25
    monkeypatch.setenv("VPPCOMP_STATS_BUSY_TIMEOUT", "3")
    assert build_parser().parse_args(["exporter"]).busy_timeout == 3.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["exporter", "--busy-timeout", "-1"])
