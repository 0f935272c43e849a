"""The topology router in a FastAPI app: HTTP answers, and the page in headless Chromium."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import check_page_in_chromium
from fastapi.testclient import TestClient
from servers import serve_topology, topology_app
from topology_data import (
    NAMES,
    NODES,
    graph_recording,
    host_recording,
    node_snapshot,
    write_json,
    write_stats,
)

from vppcomp.topology.inventory import HostSpec
from vppcomp.topology.web import TopologySettings


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
