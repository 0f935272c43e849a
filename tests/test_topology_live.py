"""Topology diagrams of real VPPs (skipped without VPP; see vppcomp.demo.vpp_process).

* One VPP with the ipcomp plugin and packet-generator traffic through an
  ipip tunnel with ipcomp protect: the graph view holds the nodes the packets passed and the
  arcs between them, with rates equal to the stats segment's counters.
* Two VPPs joined by memif, with IPIP, GRE, VXLAN and ipcomp tunnels and
  IPsec SAs between them, and a third host that cannot be reached: one link
  per tunnel or SA with both ends, and the third host drawn as unreachable.

The set-up functions are shared with bench/topology_record_fixtures.py,
which records the answers these VPPs give into tests/data/topology_*.
"""

from __future__ import annotations

import html
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browser import check_page_in_chromium
from fastapi import FastAPI
from fastapi.testclient import TestClient
from plugin_vpp import cli_script, start_ipcomp_vpp
from servers import serve_topology
from topology_vpp import (
    MEMIF,
    PG_RATE,
    TRAFFIC_PATH,
    setup_compressing_vpp,
    setup_tunnel_host,
)
from waiting import wait_for

from vppcomp.demo.plugin_build import PluginBuild, build_ipcomp_plugin
from vppcomp.statseg.client import StatsClient
from vppcomp.topology.api_source import PapiSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import HostSpec, StatsPairs
from vppcomp.topology.render import graph_dot, render, tunnels_dot
from vppcomp.topology.tunnel_collect import collect_tunnels
from vppcomp.topology.web import TopologyService, TopologySettings

pytestmark = pytest.mark.live


@pytest.fixture(scope="session")
def ipcomp_build(vpp_prefix: Path) -> PluginBuild:
    return build_ipcomp_plugin(vpp_prefix)


def api_source(vpp: Any, name: str) -> PapiSource:
    return PapiSource(str(vpp.api_socket), [str(d) for d in vpp.api_dirs], name=name)


def test_graph_of_live_traffic_through_ipcomp(
    vpp_factory: Callable[..., Any],
    ipcomp_build: PluginBuild,
) -> None:
    vpp = start_ipcomp_vpp(vpp_factory, ipcomp_build, extra_plugins=("tracedump",))
    setup_compressing_vpp(vpp)
    time.sleep(1.5)  # let traffic flow through one statseg update interval
    stats = StatsPairs()
    stats.take([HostSpec("vpp", stats_socket=str(vpp.stats_socket))], 2.0, aligned=True)
    pair = stats.pairs["vpp"]
    view = collect_graph(api_source(vpp, "vpp"), pair, GraphFilter())
    assert vpp.alive(), vpp.log_tail()

    names = {n.name for n in view.nodes}
    assert set(TRAFFIC_PATH) <= names, (sorted(names), view.problems)
    arcs = {(a, b): pps for a, b, pps in view.arcs}
    for a, b in itertools.pairwise(TRAFFIC_PATH):
        assert (a, b) in arcs, (a, b, sorted(arcs))
        assert arcs[(a, b)] is not None and arcs[(a, b)] > 0
    assert not [p for p in view.problems if "graph_node_get" in p], view.problems

    # rates agree with the stats segment, node by node
    earlier, later = pair
    seconds = later.taken_at - earlier.taken_at
    stat_names = later["/sys/node/names"]
    delta = later["/sys/node/vectors"].sum(axis=0) - earlier["/sys/node/vectors"].sum(axis=0)
    for node in view.nodes:
        assert node.rate is not None
        expected = float(delta[stat_names.index(node.name)]) / seconds
        assert node.rate.vectors_per_second == pytest.approx(expected)
    by_name = {n.name: n.rate for n in view.nodes}
    pg_rate = by_name["pg-input"]
    assert pg_rate is not None and 0.5 * PG_RATE < pg_rate.vectors_per_second < 1.5 * PG_RATE
    compress, lookup = by_name["ipcomp4-compress"], by_name["ip4-lookup"]
    assert compress is not None and lookup is not None
    assert compress.vectors_per_second == pytest.approx(pg_rate.vectors_per_second, rel=0.1)
    assert lookup.vectors_per_second == pytest.approx(pg_rate.vectors_per_second, rel=0.1)
    for node in ("ip4-input", "pg1-output"):
        incoming = sum(pps or 0.0 for (_, b), pps in arcs.items() if b == node)
        rate = by_name[node]
        assert rate is not None and incoming == pytest.approx(rate.vectors_per_second)

    dot = graph_dot(view)
    assert "cluster_ipcomp" in dot
    assert render(dot, "svg").startswith(b"<?xml")

    # the same through the web router, mounted as the exporter's app would,
    # and the page in headless Chromium
    dirs = [str(d) for d in vpp.api_dirs]
    settings = TopologySettings.for_vpp(str(vpp.api_socket), str(vpp.stats_socket), api_dirs=dirs)
    service = TopologyService(settings)
    app = FastAPI()
    app.include_router(service.router())
    client = TestClient(app)
    first = html.unescape(client.get("/topology/graph.svg").text)
    assert "collecting rates" in first  # answered at once, rates to come
    # the cached render lives settings.refresh seconds, the next one has rates
    svg = wait_for(
        lambda: html.unescape(client.get("/topology/graph.svg").text),
        lambda svg: "collecting rates" not in svg,
        "a render of the graph with rates",
        interval=1.0,
    )
    assert all(name in svg for name in TRAFFIC_PATH), svg[-3000:]
    assert "Problems" not in svg
    (source,) = service.sources.values()  # one connection, definitions parsed once
    assert (source.inner.definition_loads, source.inner.connects) == (1, 1)
    with serve_topology(settings) as url:
        check_page_in_chromium(url, "topology_page_live.png")


def test_graph_without_tracedump_probes_arcs(vpp_factory: Callable[..., Any]) -> None:
    """Without graph_node_get: node names from the stats segment, arcs among
    the active nodes from get_next_index."""
    vpp = vpp_factory(plugins=("ping",))
    cli_script(
        vpp,
        f"""
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 10.0.0.1/24
        set interface ip address pg1 192.0.2.1/24
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 192.0.2.2 02:00:00:00:00:02
        ip route add 172.16.0.0/16 via 192.0.2.2 pg1
        packet-generator new {{ name plain limit 0 rate {PG_RATE} size 100-100 interface pg0 node ip4-input data {{ UDP: 10.0.0.2 -> 172.16.0.5 UDP: 1234 -> 5678 length 100 checksum 0 incrementing 1 }} }}
        packet-generator enable-stream plain
        """,  # noqa: E501 - one CLI command
    )
    time.sleep(1.5)
    stats = StatsPairs()
    stats.take([HostSpec("vpp", stats_socket=str(vpp.stats_socket))], 1.0, aligned=True)
    view = collect_graph(api_source(vpp, "vpp"), stats.pairs["vpp"], GraphFilter())
    assert "get_next_index" in view.source
    assert any("tracedump plugin not loaded" in p for p in view.problems)
    path = ("pg-input", "ip4-input", "ip4-lookup", "ip4-rewrite", "pg1-output", "pg1-tx")
    arcs = {(a, b) for a, b, _ in view.arcs}
    assert set(itertools.pairwise(path)) <= arcs, sorted(arcs)


def start_tunnel_pair(
    vpp_factory: Callable[..., Any], plugin: PluginBuild, workdir: Path
) -> dict[str, Any]:
    """Two VPPs, ``west`` and ``east``, joined by memif with tunnels."""
    socket = workdir / "memif.sock"
    hosts = {}
    for name, (role, _) in MEMIF.items():
        vpp = start_ipcomp_vpp(vpp_factory, plugin, extra_plugins=("memif", "gre", "vxlan"))
        setup_tunnel_host(vpp, role, socket, ipcomp=True)
        hosts[name] = vpp
    return hosts


def test_two_hosts_tunnels_join_into_one_link_each(
    vpp_factory: Callable[..., Any],
    ipcomp_build: PluginBuild,
    tmp_path: Path,
) -> None:
    hosts = start_tunnel_pair(vpp_factory, ipcomp_build, tmp_path)
    specs = [
        HostSpec(
            name,
            api_socket=str(vpp.api_socket),
            stats_socket=str(vpp.stats_socket),
            api_dirs=tuple(str(d) for d in vpp.api_dirs),
        )
        for name, vpp in hosts.items()
    ]
    specs.append(HostSpec("south", api_socket=str(tmp_path / "south-api.sock")))
    stats = StatsPairs()
    stats.take(specs, 0.5)
    tmap = collect_tunnels([(s, s.api_source()) for s in specs], stats.pairs, stats.problems)

    kinds = sorted(link.a.kind for link in tmap.links)
    expected = ["gre", "ipcomp", "ipip", "ipsec", "ipsec", "vxlan"]
    assert kinds == expected, [(k.a, k.b, k.problem) for k in tmap.links]
    for link in tmap.links:
        assert link.b is not None and link.problem is None
        assert {link.a.host, link.b.host} == {"west", "east"}
        if link.a.directional:  # an SA: same direction on both, sender first
            assert (link.a.src, link.a.dst) == (link.b.src, link.b.dst)
            assert MEMIF[link.a.host][1] == link.a.src
        else:
            assert (link.a.src, link.a.dst) == (link.b.dst, link.b.src)
    south = next(h for h in tmap.hosts if h.name == "south")
    assert not south.reachable and "no API socket" in (south.reason or "")
    dot = tunnels_dot(tmap)
    assert "south: unreachable" in dot
    assert render(dot, "svg").startswith(b"<?xml")


def test_stats_client_sees_heartbeat_refreshes(vpp: Any) -> None:
    """The collector refresh that sample_pair waits for does happen (update-interval 1)."""
    with StatsClient(str(vpp.stats_socket)) as client:
        first = int(client.snapshot()["/sys/heartbeat"])
        wait_for(
            lambda: int(client.snapshot()["/sys/heartbeat"]),
            lambda beat: beat != first,
            f"/sys/heartbeat to move from {first}",
        )
        assert isinstance(client.snapshot()["/sys/node/vectors"], np.ndarray)
