"""The topology router in a FastAPI app: HTTP answers, and the page in headless Chromium."""

from __future__ import annotations

import dataclasses
import html
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from browser import check_page_in_chromium
from exporter_shapes import exporter_snapshot
from fastapi import FastAPI
from fastapi.testclient import TestClient
from servers import serve_app, serve_topology, topology_app
from topology_data import (
    NAMES,
    NODES,
    graph_recording,
    host_recording,
    node_snapshot,
    write_json,
    write_stats,
)

from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.web.app import create_app
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import HEADER_IN_PROGRESS_OFFSET
from vppcomp.statseg.replay import SegmentServer
from vppcomp.topology.inventory import HostSpec
from vppcomp.topology.web import TopologyService, TopologySettings


def gre(index: int, src: str, dst: str) -> dict[str, object]:
    return {"tunnel": {"sw_if_index": index, "src": src, "dst": dst, "instance": 0}}


@pytest.fixture
def settings(tmp_path: Path) -> TopologySettings:
    zero = [0] * len(NAMES)
    vectors = [1000, 1000, 900, 100, 300, 900, 100, 900, 0]
    stats = write_stats(
        tmp_path / "stats.vcr",
        [
            node_snapshot(NAMES, zero, zero, zero, taken_at=10.0),
            node_snapshot(NAMES, vectors, [v // 8 for v in vectors], [v * 90 for v in vectors],
                          taken_at=12.0, heartbeat=2),
        ],
    )  # fmt: skip
    graph = write_json(tmp_path / "graph.json", graph_recording(NODES, host="west"))
    west = host_recording(
        "west",
        [(1, "memif0/0", "memif", ["10.0.0.1"]), (2, "gre0", "GRE", [])],
        {"gre_tunnel_dump": [gre(2, "10.0.0.1", "10.0.0.2")]},
    )
    east = host_recording(
        "east",
        [(1, "memif0/0", "memif", ["10.0.0.2"]), (3, "gre5", "GRE", [])],
        {"gre_tunnel_dump": [gre(3, "10.0.0.2", "10.0.0.1")]},
    )
    return TopologySettings(
        graph_host=HostSpec("west", api_recording=str(graph), stats_recording=str(stats)),
        tunnel_hosts=[
            HostSpec("west", api_recording=str(write_json(tmp_path / "west.json", west))),
            HostSpec("east", api_recording=str(write_json(tmp_path / "east.json", east))),
            HostSpec("south", api_socket=str(tmp_path / "missing.sock")),
        ],
        refresh=2.0,
    )


def text(response: httpx.Response) -> str:
    """An SVG answer's text with XML character references resolved."""
    return html.unescape(response.content.decode())


def test_router_serves_both_diagrams_and_the_page(settings: TopologySettings) -> None:
    client = TestClient(topology_app(settings))
    graph = client.get("/topology/graph.svg")
    assert graph.status_code == 200 and graph.headers["content-type"] == "image/svg+xml"
    assert "ipcomp4-compress" in text(graph) and "ip6-input" not in text(graph)
    everything = client.get("/topology/graph.svg", params={"all": "true", "engine": "neato"})
    assert "ip6-input" in text(everything)
    tunnels = text(client.get("/topology/tunnels.svg"))
    assert "gre0" in tunnels and "gre5" in tunnels
    assert "south: unreachable" in tunnels and "missing.sock" in tunnels
    assert client.get("/topology/graph.svg", params={"engine": "bogus"}).status_code == 422
    page = client.get("/topology/", params={"match": "ip4-*"}).text
    assert 'id="graph"' in page and 'id="tunnels"' in page
    assert '"?match=ip4-%2A"' in page and "const refreshMs = 2000;" in page


@pytest.fixture
def served(settings: TopologySettings) -> Iterator[str]:
    with serve_topology(settings) as url:
        yield url


def test_page_in_headless_chromium_loads_both_diagrams(served: str) -> None:
    check_page_in_chromium(served, "topology_page.png")


@pytest.fixture
def live_segment(tmp_path: Path) -> Iterator[SegmentServer]:
    """A stats segment whose counters never refresh (heartbeat frozen), as
    a VPP between two `statseg update-interval` refreshes."""
    zero = [0] * len(NAMES)
    with SegmentServer(tmp_path / "stats.sock", 1 << 20) as segment:
        segment.publish(node_snapshot(NAMES, zero, zero, zero, taken_at=time.time()))
        yield segment


@pytest.fixture
def live_settings(tmp_path: Path, live_segment: SegmentServer) -> TopologySettings:
    graph = write_json(tmp_path / "graph.json", graph_recording(NODES, host="west"))
    return TopologySettings(
        graph_host=HostSpec(
            "west", api_recording=str(graph), stats_socket=live_segment.socket_path
        ),
        tunnel_hosts=[],
        refresh=5.0,
    )


def test_first_graph_request_is_answered_at_once_collecting_rates(
    live_settings: TopologySettings,
) -> None:
    """The first request does not wait out two counter refreshes: it is
    drawn at once without rates, saying so."""
    with serve_topology(live_settings) as url:
        graph = httpx.get(f"{url}graph.svg", timeout=60)
    assert graph.status_code == 200
    assert "collecting rates" in text(graph)


def test_topology_viewers_do_not_starve_metrics(
    live_settings: TopologySettings, tmp_path: Path
) -> None:
    """Sixty viewers of the diagrams at once, and Prometheus still gets
    /metrics: diagrams render on their own bounded workers, one render per
    refresh interval shared by every viewer."""
    exporter_segment = SegmentServer(tmp_path / "exporter.sock", 4 << 20)
    with exporter_segment:
        exporter_segment.publish(exporter_snapshot())
        exporter = Exporter(StatsClient(exporter_segment.socket_path), build_collectors())
        # a refresh longer than the test: however slowly a loaded machine lets
        # the sixty requests in, they fall in one refresh interval
        service = TopologyService(dataclasses.replace(live_settings, refresh=3600.0))
        app = create_app(exporter)
        app.include_router(service.router())
        with serve_app(app) as port, ThreadPoolExecutor(61) as pool:
            base = f"http://127.0.0.1:{port}"
            viewers = [
                pool.submit(httpx.get, f"{base}/topology/graph.svg", timeout=120) for _ in range(60)
            ]
            metrics = pool.submit(httpx.get, f"{base}/metrics", timeout=10).result()
            answers = [v.result() for v in viewers]
    assert metrics.status_code == 200 and "vpp_up 1" in metrics.text
    assert {a.status_code for a in answers} == {200}
    assert service.renders == 1  # one render shared by all sixty
    assert len(service.sources) == 1  # one API source per host, kept


def test_busy_topology_answers_503_beyond_its_queue(
    live_settings: TopologySettings, live_segment: SegmentServer
) -> None:
    """Distinct diagrams beyond the bounded queue are refused with
    Retry-After instead of piling up.  VPP holds its stats segment's lock
    meanwhile, so each render waits out the stats reader's budget (1 s)
    and the queue stays full while the requests come in, however slowly a
    loaded machine sends them (renders of a few ms could each end before
    the next request)."""
    assert live_segment.writer is not None
    service = TopologyService(live_settings, workers=1, max_pending=2)
    app = FastAPI()
    app.include_router(service.router())
    live_segment.writer.buf[HEADER_IN_PROGRESS_OFFSET] = 1
    with serve_app(app) as port, ThreadPoolExecutor(12) as pool:
        base = f"http://127.0.0.1:{port}/topology/graph.svg"
        answers = list(
            pool.map(lambda i: httpx.get(base, params={"match": f"n{i}*"}, timeout=120), range(12))
        )
    live_segment.writer.buf[HEADER_IN_PROGRESS_OFFSET] = 0
    codes = [a.status_code for a in answers]
    assert 200 in codes and 503 in codes, codes
    assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 503)
