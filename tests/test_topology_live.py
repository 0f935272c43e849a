"""Topology diagrams of real VPPs (skipped without VPP; see tests/vpplive.py).

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
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from plugin_vpp import ROOT, PluginBuild, build_ipcomp_plugin, cli_script, start_ipcomp_vpp
from test_topology_web import check_page_in_chromium, serve

from vppcomp.statseg.client import StatsClient
from vppcomp.topology.api_source import PapiSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import HostSpec, StatsPairs
from vppcomp.topology.render import graph_dot, render, tunnels_dot
from vppcomp.topology.tunnel_collect import collect_tunnels
from vppcomp.topology.web import TopologySettings, topology_router

pytestmark = pytest.mark.live

PG_RATE = 2000
# The path of the traffic below: into pg0, routed into ipip0 (a midchain
# adjacency with ipip's rewrite), compressed (ipcomp protect), sent on the
# tunnel-output (the midchain's stacked path, no second lookup), out of pg1.
TRAFFIC_PATH = (
    "pg-input",
    "ip4-input",
    "ip4-lookup",
    "ip4-midchain",
    "ipcomp4-compress",
    "tunnel-output",
    "ip4-rewrite",
    "pg1-output",
    "pg1-tx",
)


def build_plugin(prefix: Path) -> PluginBuild:
    """The ipcomp plugin built against the VPP at ``prefix``. Works around
    build_ipcomp_plugin failing on a second run (its search for the API JSON
    can find its own earlier copy: SameFileError, after a good build)."""
    try:
        return build_ipcomp_plugin(prefix)
    except shutil.SameFileError:
        api_json = next((ROOT / ".build").glob("plugin-*/api/ipcomp.api.json"))
        build_dir = api_json.parent.parent
        plugin_so = next(build_dir.rglob("ipcomp_plugin.so"))
        return PluginBuild(build_dir, plugin_so.parent, api_json.parent)


@pytest.fixture(scope="session")
def ipcomp_build(vpp_prefix: Path) -> PluginBuild:
    return build_plugin(vpp_prefix)


def setup_compressing_vpp(vpp: Any) -> None:
    """pg0 (inner, 10.0.0.1/24) -> ipip0 with ipcomp protect (CPI 300 to 192.0.2.2) -> pg1
    (outer, 192.0.2.1/24), and a packet-generator stream of compressible
    UDP packets entering pg0 at PG_RATE packets/s towards 172.16.0.0/16."""
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
        create ipip tunnel src 192.0.2.1 dst 192.0.2.2
        ipcomp sa add local 192.0.2.1 peer 192.0.2.2 cpi 300 id 0
        ipcomp protect ipip0 sa-out 0 sa-in 0
        set interface state ipip0 up
        set interface unnumbered ipip0 use pg0
        ip route add 172.16.0.0/16 via ipip0
        packet-generator new {{ name topo limit 0 rate {PG_RATE} size 600-600 interface pg0 node ip4-input data {{ UDP: 10.0.0.2 -> 172.16.0.5 UDP: 1234 -> 5678 length 600 checksum 0 incrementing 1 }} }}
        packet-generator enable-stream topo
        """,  # noqa: E501 - one CLI command
    )


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
    app = FastAPI()
    app.include_router(topology_router(settings))
    svg = html.unescape(TestClient(app).get("/topology/graph.svg").text)
    assert all(name in svg for name in TRAFFIC_PATH), svg[-3000:]
    assert "Problems" not in svg
    with serve(settings) as url:
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


MEMIF = {"west": ("master", "192.168.10.1"), "east": ("slave", "192.168.10.2")}


def setup_tunnel_host(vpp: Any, role: str, socket: Path, ipcomp: bool) -> None:
    """memif1/0 to the other host; IPIP, GRE, VXLAN (and ipcomp) tunnels to
    it, and one tunnel-mode IPsec SA each way (both hosts hold both SAs)."""
    west, east = MEMIF["west"][1], MEMIF["east"][1]
    local, peer = (west, east) if role == "master" else (east, west)
    cli_script(
        vpp,
        f"""
        create memif socket id 1 filename {socket}
        create interface memif id 0 socket-id 1 {role} no-zero-copy
        set interface ip address memif1/0 {local}/24
        set interface state memif1/0 up
        create ipip tunnel src {local} dst {peer}
        create gre tunnel src {local} dst {peer}
        create vxlan tunnel src {local} dst {peer} vni 42
        ipsec sa add 10 spi 4096 esp tunnel src {west} dst {east}
        ipsec sa add 11 spi 4097 esp tunnel src {east} dst {west}
        """,
    )
    if ipcomp:
        # the ipip tunnel above, protected by IPComp
        cli_script(
            vpp,
            f"""
            ipcomp sa add local {local} peer {peer} cpi 300 id 0
            ipcomp protect ipip0 sa-out 0 sa-in 0
            """,
        )


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
        deadline = time.monotonic() + 10
        while int(client.snapshot()["/sys/heartbeat"]) == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert int(client.snapshot()["/sys/heartbeat"]) != first
        assert isinstance(client.snapshot()["/sys/node/vectors"], np.ndarray)
