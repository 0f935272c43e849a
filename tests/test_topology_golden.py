"""DOT output from recorded real-VPP answers, compared with golden files.

The recordings (tests/data/topology_*) come from bench/topology_record_fixtures.py
run against VPP 26.06 with the ipcomp plugin. They replay through the same
code path as a live VPP (RecordedSource instead of PapiSource, stats
recording frames instead of live snapshots). ``VPPCOMP_UPDATE_GOLDEN=1``
rewrites the golden files instead of comparing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vppcomp.cli import main as vppcomp_main
from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.api_source import RecordedSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import InventoryError, load_inventory, recorded_pair
from vppcomp.topology.render import graph_dot, tunnels_dot
from vppcomp.topology.tunnel_collect import collect_tunnels

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("VPPCOMP_UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs (VPPCOMP_UPDATE_GOLDEN=1 to accept)"


def graph_stats() -> tuple[Snapshot, Snapshot]:
    return recorded_pair(str(DATA / "topology_graph_stats.vcr"))


def graph_source() -> RecordedSource:
    return RecordedSource(DATA / "topology_graph_api.json")


@pytest.mark.parametrize(
    ("golden", "filt", "expected"),
    [
        ("topology_graph_from_pg0.dot", GraphFilter(from_interface="pg0"), "ipcomp4-compress"),
        (
            "topology_graph_ip4_unicast.dot",
            GraphFilter(arc="ip4-unicast", show_all=True),
            "ip4-input-no-checksum",
        ),
    ],
)
def test_graph_from_recorded_vpp(golden: str, filt: GraphFilter, expected: str) -> None:
    view = collect_graph(
        graph_source(), recorded_pair(str(DATA / "topology_graph_stats.vcr")), filt
    )
    assert not view.problems, view.problems
    assert expected in {n.name for n in view.nodes}
    check_golden(golden, graph_dot(view))


def test_graph_command_writes_the_same_dot(tmp_path: Path) -> None:
    out = tmp_path / "graph.dot"
    status = vppcomp_main(
        [
            "topology",
            "graph",
            "--api-recording",
            str(DATA / "topology_graph_api.json"),
            "--stats-recording",
            str(DATA / "topology_graph_stats.vcr"),
            "--from-interface",
            "pg0",
            "--format",
            "dot",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    view = collect_graph(
        graph_source(),
        recorded_pair(str(DATA / "topology_graph_stats.vcr")),
        GraphFilter(from_interface="pg0"),
    )
    assert out.read_text() == graph_dot(view)


def test_partial_recording_gives_a_marked_diagram(tmp_path: Path) -> None:
    """Answers stop after node 40 and one node's details are garbage."""
    document = json.loads((DATA / "topology_graph_api.json").read_text())
    calls = [
        c for c in document["calls"] if c["method"] != "graph_node_get" or c["args"]["index"] < 40
    ]
    calls[5]["details"] = [{"index": "five"}]
    document["calls"] = calls
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(document))
    view = collect_graph(
        RecordedSource(partial),
        recorded_pair(str(DATA / "topology_graph_stats.vcr")),
        GraphFilter(),
    )
    assert any(
        "stopped at node 40: graph_node_get: not in the recording" in p for p in view.problems
    )
    assert any(p.startswith("node 5: malformed details") for p in view.problems)
    check_golden("topology_graph_partial.dot", graph_dot(view))


def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.toml"
    lines = []
    for name in ("west", "east"):
        lines += [
            "[[host]]",
            f'name = "{name}"',
            f'api_recording = "{DATA / f"topology_{name}_api.json"}"',
            f'stats_recording = "{DATA / f"topology_{name}_stats.vcr"}"',
        ]
    lines += [
        "[[host]]",
        'name = "south"',
        f'api_recording = "{DATA / "topology_south_api.json"}"',
        'addresses = ["192.168.10.3"]',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tunnels_from_recorded_hosts(tmp_path: Path) -> None:
    specs = load_inventory(inventory(tmp_path))
    pairs = {s.name: recorded_pair(str(s.stats_recording)) for s in specs if s.stats_recording}
    tmap = collect_tunnels([(s, s.api_source()) for s in specs], pairs, {})
    links = sorted((link.a.kind, link.a.host, link.b and link.b.host) for link in tmap.links)
    assert [k for k, _, _ in links] == ["gre", "ipcomp", "ipip", "ipsec", "ipsec", "vxlan"]
    assert all({a, b} == {"west", "east"} for _, a, b in links)
    ipcomp = next(link for link in tmap.links if link.a.kind == "ipcomp")
    sender = ipcomp.a if ipcomp.a.host == "west" else ipcomp.b
    assert sender is not None and sender.ratio is not None and 0 < sender.ratio < 1
    assert sender.tx is not None and sender.tx[0] > 0
    south = next(h for h in tmap.hosts if h.name == "south")
    assert not south.reachable
    check_golden("topology_tunnels.dot", tunnels_dot(tmap))


def test_tunnels_command(tmp_path: Path) -> None:
    out = tmp_path / "t.svg"
    assert (
        vppcomp_main(
            ["topology", "tunnels", "--inventory", str(inventory(tmp_path)), "-o", str(out)]
        )
        == 0
    )
    assert out.read_bytes().startswith(b"<?xml")
    assert vppcomp_main(["topology", "tunnels", "--host", "bad"]) == 2


def test_graph_command_records_answers_that_replay_the_same(tmp_path: Path) -> None:
    common = ["--stats-recording", str(DATA / "topology_graph_stats.vcr"), "--format", "dot"]
    first, second, answers = tmp_path / "1.dot", tmp_path / "2.dot", tmp_path / "answers.json"
    args = ["topology", "graph", "--api-recording", str(DATA / "topology_graph_api.json")]
    assert vppcomp_main([*args, *common, "-o", str(first), "--record-api", str(answers)]) == 0
    args = ["topology", "graph", "--api-recording", str(answers)]
    assert vppcomp_main([*args, *common, "-o", str(second)]) == 0
    assert first.read_text() == second.read_text()
    assert "ipcomp4-compress" in second.read_text()


def test_inventory_errors_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[host]]\nname = "x"\n')
    assert vppcomp_main(["topology", "tunnels", "--inventory", str(bad)]) == 2
    with pytest.raises(InventoryError, match="needs api_socket or api_recording"):
        load_inventory(bad)
