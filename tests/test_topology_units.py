"""Unit tests of the topology package on small hand-made inputs."""

from __future__ import annotations

import enum
import ipaddress
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
from statseg_helpers import every_type_snapshot
from topology_data import NAMES, NODES, graph_recording, host_recording, node_snapshot, write_json

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.ipcomp import SA_PREFIX
from vppcomp.statseg.layout import StatsUnavailable, StatType
from vppcomp.statseg.replay import SegmentServer
from vppcomp.topology.api_source import (
    ApiError,
    ApiUnavailable,
    RecordedSource,
    normalise,
    to_jsonable,
)
from vppcomp.topology.feature_arcs import known_arcs, scan_source
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_model import GraphNode, NodeGraph, read_graph
from vppcomp.topology.graph_view import (
    GraphFilter,
    build_view,
    estimate_arc_rates,
    select_nodes,
)
from vppcomp.topology.node_rates import NodeRate, Rates, rates_between, sample_pairs
from vppcomp.topology.render import (
    FAST_LAYOUT_NODES,
    RenderError,
    colour_index,
    error_svg,
    graph_dot,
    render,
    si,
    tunnels_dot,
)
from vppcomp.topology.tunnel_map import join
from vppcomp.topology.tunnel_model import Host, Interface, TunnelEnd
from vppcomp.topology.tunnel_readers import read_host


def rates_for(vectors: list[int], calls: list[int] | None = None, seconds: float = 2.0):
    zero = [0] * len(NAMES)
    calls = calls or [max(1, v // 4) if v else 0 for v in vectors]
    a = node_snapshot(NAMES, zero, zero, zero, taken_at=100.0)
    b = node_snapshot(
        NAMES, vectors, calls, [v * 50 for v in vectors], taken_at=100.0 + seconds, heartbeat=2
    )
    return a, b


def graph() -> NodeGraph:
    g = NodeGraph()
    for i, (name, flags, arcs) in enumerate(NODES):
        g.nodes[i] = GraphNode(i, name, flags, arcs)
    return g


class Color(enum.IntEnum):
    RED = 3


def test_to_jsonable_flattens_what_vpp_papi_returns() -> None:
    Inner = namedtuple("Inner", "src flag")
    Details = namedtuple("Details", "context sw_if_index tunnel raw names")
    value = Details(7, 1, Inner(ipaddress.ip_address("192.0.2.1"), Color.RED), b"\x01\xff", [1])
    assert to_jsonable(value) == {
        "sw_if_index": 1,
        "tunnel": {"src": "192.0.2.1", "flag": 3},
        "raw": "01ff",
        "names": [1],
    }
    Reply = namedtuple("Reply", "retval")
    answer = normalise((Reply(0), [Details(1, 2, None, b"", [])]))
    assert answer.retval == 0 and answer.details[0]["sw_if_index"] == 2


def test_recorded_source_rejects_non_recordings_and_unknown_questions(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ApiUnavailable, match="cannot read recording"):
        RecordedSource(bad).open()
    good = RecordedSource(write_json(tmp_path / "g.json", graph_recording(NODES)))
    good.open()
    with pytest.raises(ApiError, match="not in the recording"):
        good.call("show_version")


def test_read_graph_node_by_node_until_no_such_entry(tmp_path: Path) -> None:
    source = RecordedSource(write_json(tmp_path / "g.json", graph_recording(NODES)))
    source.open()
    g = read_graph(source)
    assert [n.name for n in g.nodes.values()] == NAMES
    assert g.nodes[1].arcs == [2, 3, 6]
    assert g.problems == []


def test_malformed_and_missing_answers_become_problems(tmp_path: Path) -> None:
    document = graph_recording(NODES)
    document["calls"][2]["details"][0]["arcs_out"] = ["x"]  # bad arc
    del document["calls"][3]["details"][0]["name"]  # no name
    document["calls"][4]["details"] = "garbage"  # not a list
    source = RecordedSource(write_json(tmp_path / "g.json", document))
    view = collect_graph(source, rates_for([0] * len(NAMES)), GraphFilter(show_all=True))
    text = "\n".join(view.problems)
    assert "ip4-lookup: arc 'x' is not a node index" in text
    assert "node 3: malformed details" in text
    assert "malformed details in the recording" in text
    assert "ip4-input" in [n.name for n in view.nodes]
    dot = graph_dot(view)
    assert "Problems:" in dot and "color=red" in dot


def test_graph_without_graph_node_get_uses_stats_names_and_probes_arcs(tmp_path: Path) -> None:
    probes = [
        {
            "method": "get_next_index",
            "args": {"node_name": a, "next_name": b},
            "reply": {"retval": 0 if (a, b) == ("pg-input", "ip4-input") else -6},
            "details": [],
        }
        for a in ("pg-input", "ip4-input", "ipcomp4-compress")
        for b in ("pg-input", "ip4-input", "ipcomp4-compress")
        if a != b
    ]
    document = graph_recording(
        [], extra_calls=tuple(probes), methods={"get_next_index": True, "graph_node_get": False}
    )
    source = RecordedSource(write_json(tmp_path / "g.json", document))
    vectors = [100, 100, 0, 0, 0, 0, 0, 0, 0]
    view = collect_graph(source, rates_for(vectors), GraphFilter())
    assert sorted(n.name for n in view.nodes) == ["ip4-input", "ipcomp4-compress", "pg-input"]
    assert [(a, b) for a, b, _ in view.arcs] == [("pg-input", "ip4-input")]
    assert any("tracedump plugin not loaded" in p for p in view.problems)


def test_default_selection_is_active_nodes_plus_ipcomp() -> None:
    #          pg  ip4in look drop ipcomp rewr errdrop pg0out ip6in
    vectors = [1000, 1000, 900, 100, 0, 900, 100, 900, 0]
    rates = rates_between(*rates_for(vectors))
    chosen = select_nodes(graph(), rates, GraphFilter(), {}, [])
    assert {NAMES[i] for i in chosen} == set(NAMES) - {"ip6-input"}
    only_ip4 = select_nodes(graph(), rates, GraphFilter(patterns=("ip4-*",)), {}, [])
    assert {NAMES[i] for i in only_ip4} == {"ip4-input", "ip4-lookup", "ip4-drop", "ip4-rewrite"}
    arc = select_nodes(graph(), rates, GraphFilter(arc="ip4-unicast"), {}, [])
    assert {NAMES[i] for i in arc} == {"ip4-input", "ip4-lookup"}
    path = select_nodes(graph(), rates, GraphFilter(from_interface="pg0"), {"pg0": "pg"}, [])
    assert "pg-input" in {NAMES[i] for i in path} and 8 not in path
    problems: list[str] = []
    select_nodes(graph(), rates, GraphFilter(arc="no-such-arc"), {}, problems)
    assert problems == ["unknown feature arc 'no-such-arc'"]


def test_idle_plugin_nodes_are_hidden_by_default() -> None:
    """The -post twins, the async dequeue node and idle ipcomp nodes do not
    crowd out the path that carries traffic; without ipcomp traffic (or
    without rates) the plugin's compress/decompress nodes still show."""
    extra = [
        ("ipcomp4-compress-post", 0, [5]),
        ("ipcomp-async-dequeue", 0, [9]),
        ("ipcomp4-decompress", 0, [2]),
        ("ipcomp-stats-process", 0, []),
    ]
    g = graph()
    for i, (name, flags, arcs) in enumerate(extra, start=len(NODES)):
        g.nodes[i] = GraphNode(i, name, flags, arcs)
    names = [n.name for n in g.nodes.values()]
    zero = [0] * len(names)

    def chosen(vectors: list[int], filt: GraphFilter | None = None) -> set[str]:
        before = node_snapshot(names, zero, zero, zero, taken_at=100.0)
        after = node_snapshot(
            names, vectors, [max(1, v // 4) if v else 0 for v in vectors], vectors,
            taken_at=102.0, heartbeat=2,
        )  # fmt: skip
        rates = rates_between(before, after)
        return {names[i] for i in select_nodes(g, rates, filt or GraphFilter(), {}, [])}

    #          pg  ip4in look drop ipcomp rewr errdrop pg0out ip6in post async decomp stats
    busy = [1000, 1000, 900, 0, 900, 900, 0, 900, 0, 0, 0, 0, 0]
    assert chosen(busy) == {"pg-input", "ip4-input", "ip4-lookup", "ipcomp4-compress",
                            "ip4-rewrite", "pg0-output"}  # fmt: skip
    no_ipcomp = [1000, 1000, 900, 0, 0, 900, 0, 900, 0, 0, 0, 0, 0]
    assert {n for n in chosen(no_ipcomp) if "ipcomp" in n} == {
        "ipcomp4-compress",
        "ipcomp4-decompress",
    }
    assert chosen(busy, GraphFilter(show_all=True)) == set(names)
    without_rates = select_nodes(g, None, GraphFilter(), {}, [])
    assert {names[i] for i in without_rates} == {"ipcomp4-compress", "ipcomp4-decompress"}


def test_arc_estimates_add_up_to_each_nodes_rate() -> None:
    vectors = [1000, 1000, 900, 100, 300, 900, 100, 900, 0]
    rates = rates_between(*rates_for(vectors))
    estimates = estimate_arc_rates(graph(), rates)
    assert estimates[(0, 1)] == pytest.approx(500.0)  # single predecessor: exact
    for v in {v for _, v in estimates}:
        incoming = sum(r for (_, w), r in estimates.items() if w == v)
        assert incoming == pytest.approx(rates.nodes[NAMES[v]].vectors_per_second)


def test_rates_refuse_counters_that_went_backwards() -> None:
    a, b = rates_for([10] * len(NAMES))
    rates = rates_between(b, a)
    assert rates.nodes == {} and rates.problems
    c = node_snapshot(NAMES, [0] * 9, [0] * 9, [0] * 9, taken_at=200.0)
    assert "went backwards" in " ".join(rates_between(b, c).problems)


def test_visual_language_follows_vpp(tmp_path: Path) -> None:
    assert [colour_index(v) for v in (1, 32, 33, 64, 65, 224, 225, 256)] == [
        1, 1, 2, 2, 3, 7, 8, 8,
    ]  # fmt: skip
    assert si(1234, "pps") == "1.23 kpps" and si(5, "pps") == "5 pps"
    vectors = [1000, 1000, 900, 100, 300, 900, 100, 900, 0]
    a, b = rates_for(vectors)
    source = RecordedSource(write_json(tmp_path / "g.json", graph_recording(NODES)))
    view = collect_graph(source, (a, b), GraphFilter())
    dot = graph_dot(view)
    assert 'n3 [label="ip4-drop' in dot and "shape=octagon" in dot
    assert "subgraph cluster_ipcomp" in dot and "fill: vectors per call" in dot
    assert "~450 pps" in dot  # pg-input -> ip4-input over 2 s
    assert render(dot, "svg").startswith(b"<?xml")
    assert render(dot, "png", "neato")[:4] == b"\x89PNG"
    assert render(dot, "pdf")[:4] == b"%PDF"


def _host(name: str, address: str, *ends: TunnelEnd) -> Host:
    host = Host(name, interfaces={1: Interface(1, "eth0", True, [address])})
    host.tunnels.extend(ends)
    return host


def test_join_pairs_mirrored_tunnel_ends_into_one_link() -> None:
    west = _host("west", "10.0.0.1", TunnelEnd("gre", "west", "10.0.0.1", "10.0.0.2", "", "gre0"))
    east = _host("east", "10.0.0.2", TunnelEnd("gre", "east", "10.0.0.2", "10.0.0.1", "", "gre7"))
    tmap = join([west, east])
    assert len(tmap.links) == 1
    link = tmap.links[0]
    assert (link.a.label, link.b and link.b.label, link.problem) == ("gre0", "gre7", None)
    dot = tunnels_dot(tmap)
    edges = [line for line in dot.splitlines() if " -> " in line and "invis" not in line]
    assert len(edges) == 1 and "dir=both" in edges[0]
    assert '"end/west|gre|gre0|' in edges[0] and '"end/east|gre|gre7|' in edges[0]


def test_join_sa_sender_first_and_half_links_explained() -> None:
    sa = dict(kind="ipsec", src="10.0.0.1", dst="10.0.0.2", ident="ESP SPI 0x100", directional=True)
    west = _host("west", "10.0.0.1", TunnelEnd(host="west", label="SA 1", **sa))
    east = _host("east", "10.0.0.2", TunnelEnd(host="east", label="SA 9", **sa))
    lonely = TunnelEnd("vxlan", "east", "10.0.0.2", "10.9.9.9", "VNI 5", "vxlan0")
    east.tunnels.append(lonely)
    down = Host("south", reason="no API socket at /run/south.sock", declared=["10.0.0.3"])
    east.tunnels.append(TunnelEnd("ipip", "east", "10.0.0.2", "10.0.0.3", "", "ipip0"))
    tmap = join([east, west, down])
    by_kind = {link.a.kind: link for link in tmap.links}
    assert by_kind["ipsec"].a.host == "west" and by_kind["ipsec"].b is not None
    assert by_kind["vxlan"].problem == "10.9.9.9 is on no known host"
    assert by_kind["ipip"].problem == "south is unreachable"
    dot = tunnels_dot(tmap)
    assert "south: unreachable" in dot and "no API socket at /run/south.sock" in dot


def ipcomp_sa(index: int, sa_id: int, local: str, peer: str, sw_if_index: int) -> dict[str, object]:
    sa = {"sa_id": sa_id, "cpi": 300, "local": local, "peer": peer, "table_id": 0}
    return {"sa_index": index, "sa": sa, "is_tunnel": True, "sw_if_index": sw_if_index}


def test_ipcomp_sas_pair_with_rates_and_ratio_from_plugin_counters(tmp_path: Path) -> None:
    def counters(sent: tuple[int, int, int, int]) -> dict[str, tuple[StatType, object]]:
        cin_p, cin_b, cout_p, cout_b = sent
        vectors = {
            "compressed-in": [[0, 0], [cin_p, cin_b]],
            "compressed-out": [[0, 0], [cout_p, cout_b]],
        }
        return {
            SA_PREFIX + name: (StatType.COUNTER_VECTOR_COMBINED, np.array([v], dtype=np.uint64))
            for name, v in vectors.items()
        }

    zero = counters((0, 0, 0, 0))
    busy = counters((2000, 2_000_000, 2000, 800_000))
    west_pair = (
        node_snapshot([], [], [], [], taken_at=0.0, extra=zero),
        node_snapshot([], [], [], [], taken_at=2.0, extra=busy),
    )
    west = host_recording(
        "west",
        [(1, "memif0/0", "memif", ["10.0.0.1"]), (2, "ipcomp0", "ipcomp", [])],
        {"ipcomp_sa_dump": [ipcomp_sa(1, 7, "10.0.0.1", "10.0.0.2", 2)]},
    )
    east = host_recording(
        "east",
        [(1, "memif0/0", "memif", ["10.0.0.2"]), (4, "ipcomp3", "ipcomp", [])],
        {"ipcomp_sa_dump": [ipcomp_sa(0, 8, "10.0.0.2", "10.0.0.1", 4)]},
    )
    hosts = [
        read_host(RecordedSource(write_json(tmp_path / "w.json", west)), west_pair),
        read_host(RecordedSource(write_json(tmp_path / "e.json", east)), None),
    ]
    tmap = join(hosts)
    assert len(tmap.links) == 1 and tmap.links[0].b is not None
    sender = tmap.links[0].a
    assert sender.label == "ipcomp0 (ipcomp SA 7)" and sender.ident == "CPI 300"
    assert sender.tx == pytest.approx((1000.0, 3_200_000.0))
    assert sender.ratio == pytest.approx(0.4)
    assert "west \u2192 east: 1 kpps, 3.2 Mbit/s, compressed to 40%" in tunnels_dot(tmap)


def test_graphviz_failure_is_an_error_not_a_crash() -> None:
    with pytest.raises(RenderError, match="Graphviz dot failed"):
        render("digraph { a -> }", "svg")
    assert b"Graphviz dot failed" in error_svg("Graphviz dot failed: syntax error")
    with pytest.raises(ValueError, match="unknown layout engine"):
        render("digraph {}", "svg", "bogus")


def test_feature_arcs_are_read_from_source(tmp_path: Path) -> None:
    (tmp_path / "a.c").write_text(
        'VNET_FEATURE_ARC_INIT (x, static) = {\n  .arc_name = "my-arc",\n'
        '  .start_nodes = VNET_FEATURES ("in-a", "in-b"),\n  .last_in_arc = "out",\n};\n'
        'VNET_FEATURE_INIT (f) = {\n  .arc_name = "my-arc",\n  .node_name = "feat",\n'
        '  .runs_before = VNET_FEATURES ("out"),\n};\n'
    )
    assert scan_source([tmp_path]) == {
        "my-arc": {"start_nodes": ["in-a", "in-b"], "last": "out", "features": ["feat"]}
    }
    arc = known_arcs()["ip4-output"]
    assert "ipcomp4-transport-compress" in arc.features and "ip4-rewrite" in arc.start_nodes


def test_large_graphs_get_the_bounded_layout() -> None:
    big = NodeGraph()
    rates = Rates(seconds=1.0)
    for i in range(FAST_LAYOUT_NODES + 1):
        big.nodes[i] = GraphNode(i, f"node-{i}", 0, [i + 1] if i < FAST_LAYOUT_NODES else [])
        rates.nodes[f"node-{i}"] = NodeRate(100.0, 10.0, 10.0, 50.0)
    view = build_view("big", big, rates, set(big.nodes))
    assert "splines=line" in graph_dot(view) and "fast layout" in graph_dot(view)
    small = build_view("small", big, rates, {0, 1, 2})
    assert "splines" not in graph_dot(small) and "fast layout" not in graph_dot(small)


def test_sample_pairs_share_one_wait_and_report_unreadable_hosts(tmp_path: Path) -> None:
    with (
        SegmentServer(tmp_path / "a.sock", 1 << 20) as a,
        SegmentServer(tmp_path / "b.sock", 1 << 20) as b,
    ):
        a.publish(every_type_snapshot(tag=1))
        b.publish(every_type_snapshot(tag=2))
        clients = {name: StatsClient(str(tmp_path / f"{name}.sock")) for name in ("a", "b", "gone")}
        started = time.monotonic()
        pairs, failed = sample_pairs(clients, 0.5)
        elapsed = time.monotonic() - started
    assert set(pairs) == {"a", "b"} and set(failed) == {"gone"}
    assert isinstance(failed["gone"], StatsUnavailable)
    assert elapsed >= 0.5
    # one wait for all hosts: every first snapshot, then the wait, then every
    # second one (waits per host would take b's first after a's second); an
    # order, not a duration, so that a slow machine cannot fail it
    firsts = [first.taken_at for first, _ in pairs.values()]
    seconds = [second.taken_at for _, second in pairs.values()]
    assert max(firsts) + 0.5 <= min(seconds), (firsts, seconds)
    for name, tag in (("a", 1), ("b", 2)):
        first, second = pairs[name]
        assert first["/sys/heartbeat"] == second["/sys/heartbeat"] == 100 + tag
