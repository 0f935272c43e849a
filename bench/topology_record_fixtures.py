"""Record real VPP answers for the offline topology tests (tests/data/topology_*).

Starts the same VPPs as tests/test_topology_live.py (VPP from $VPP_PREFIX,
the ipcomp plugin built by tests/plugin_vpp.py), lets traffic run, and saves:

* ``topology_graph_api.json`` and ``topology_graph_stats.vcr``: the API
  answers behind one graph diagram and two stats snapshots (only the entries
  the diagrams read);
* ``topology_{west,east}_api.json`` and ``topology_{west,east}_stats.vcr``:
  two hosts joined by memif with IPIP, GRE, VXLAN and ipcomp tunnels and two
  IPsec SAs, ipcomp traffic from west to east;
* ``topology_south_api.json``: a host that could not be reached.

Then regenerate the golden files with
``VPPCOMP_UPDATE_GOLDEN=1 pytest tests/test_topology_golden.py``.

    VPP_PREFIX=/opt/vpp /work/venv/bin/python bench/topology_record_fixtures.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from plugin_vpp import cli_script  # noqa: E402
from topology_vpp import setup_compressing_vpp, setup_tunnel_host  # noqa: E402

from vppcomp.demo.plugin_build import build_ipcomp_plugin  # noqa: E402
from vppcomp.demo.vpp_process import VppInstance, vpp_prefix  # noqa: E402
from vppcomp.statseg.client import StatsClient  # noqa: E402
from vppcomp.statseg.recording import RecordingWriter  # noqa: E402
from vppcomp.statseg.snapshot import Snapshot, snapshot_from_mapping  # noqa: E402
from vppcomp.topology.api_source import PapiSource, RecordingSource  # noqa: E402
from vppcomp.topology.graph_collect import collect_graph  # noqa: E402
from vppcomp.topology.graph_view import GraphFilter  # noqa: E402
from vppcomp.topology.node_rates import sample_pair, sample_pairs  # noqa: E402
from vppcomp.topology.tunnel_readers import read_host  # noqa: E402

DATA = ROOT / "tests" / "data"
KEEP = ("/sys/heartbeat", "/sys/node/", "/if/names", "/if/rx", "/if/tx", "/net/ipcomp/sa/",
        "/net/ipsec/sa")  # fmt: skip


def slim(snap: Snapshot) -> Snapshot:
    """Only the entries the diagrams read (no symlinks)."""
    entries = {
        name: (snap.type(name), snap[name])
        for name in snap.matching(KEEP)
        if snap.symlink(name) is None
    }
    return snapshot_from_mapping(
        entries, epoch=snap.epoch, taken_at=snap.taken_at, segment_id=snap.segment_id
    )


def save_stats(path: Path, pair: tuple[Snapshot, Snapshot]) -> None:
    with RecordingWriter(path, source="bench/topology_record_fixtures.py") as writer:
        for snap in pair:
            writer.add(slim(snap), 0)


def source(vpp: VppInstance, name: str) -> RecordingSource:
    return RecordingSource(
        PapiSource(str(vpp.api_socket), [str(d) for d in vpp.api_dirs], name=name)
    )


def start(workdir: Path, prefix: Path, plugin: Any, plugins: tuple[str, ...]) -> VppInstance:
    return VppInstance(
        workdir,
        prefix,
        plugins=("ipcomp", *plugins),
        plugin_dirs=[plugin.plugin_dir],
        api_dirs=[plugin.api_dir],
    ).start()


def record_graph(prefix: Path, plugin: Any, work: Path) -> None:
    vpp = start(work / "graph", prefix, plugin, ("tracedump",))
    try:
        setup_compressing_vpp(vpp)
        time.sleep(1.5)
        with StatsClient(str(vpp.stats_socket)) as client:
            pair = sample_pair(client, 2.0)
        recorder = source(vpp, "vpp-graph")
        collect_graph(recorder, pair, GraphFilter(from_interface="pg0"))
        recorder.save(DATA / "topology_graph_api.json")
        save_stats(DATA / "topology_graph_stats.vcr", pair)
    finally:
        vpp.stop()


def record_tunnels(prefix: Path, plugin: Any, work: Path) -> None:
    hosts = {}
    try:
        for name, role in (("west", "master"), ("east", "slave")):
            hosts[name] = start(work / name, prefix, plugin, ("memif", "gre", "vxlan"))
            setup_tunnel_host(hosts[name], role, work / "memif.sock", ipcomp=True)
        # compressible traffic west -> east through ipip0 (ipcomp protect)
        cli_script(
            hosts["west"],
            """
            create packet-generator interface pg0
            set interface ip address pg0 10.0.0.1/24
            set interface state pg0 up
            set interface state ipip0 up
            set interface unnumbered ipip0 use pg0
            ip route add 172.16.0.0/16 via ipip0
            packet-generator new { name t limit 0 rate 500 size 800-800 interface pg0 node ip4-input data { UDP: 10.0.0.2 -> 172.16.0.5 UDP: 1234 -> 5678 length 800 checksum 0 incrementing 1 } }
            packet-generator enable-stream t
            """,  # noqa: E501 - one CLI command
        )
        time.sleep(1.0)
        clients = {n: StatsClient(str(v.stats_socket)) for n, v in hosts.items()}
        pairs, failed = sample_pairs(clients, 2.0)
        for client in clients.values():
            client.close()
        if failed:
            raise RuntimeError(f"no stats from {failed}")
        for name, vpp in hosts.items():
            pair = pairs[name]
            recorder = source(vpp, name)
            read_host(recorder, pair)
            recorder.save(DATA / f"topology_{name}_api.json")
            save_stats(DATA / f"topology_{name}_stats.vcr", pair)
        south = RecordingSource(PapiSource(str(work / "south" / "api.sock"), name="south"))
        read_host(south, None)
        south.save(DATA / "topology_south_api.json")
    finally:
        for vpp in hosts.values():
            vpp.stop()


def main() -> int:
    prefix = vpp_prefix()
    if prefix is None:
        print("no VPP: set VPP_PREFIX", file=sys.stderr)
        return 1
    plugin = build_ipcomp_plugin(prefix)
    with tempfile.TemporaryDirectory(prefix="topology-fixtures-") as tmp:
        record_graph(prefix, plugin, Path(tmp))
        record_tunnels(prefix, plugin, Path(tmp))
    for path in sorted(DATA.glob("topology_*")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
