"""Make tests/data/vpp-ipcomp.vppstats: a recording of a real VPP running the
ipcomp plugin with traffic compressed and decompressed in both directions.

Two VPPs joined by memif, each with an ipip tunnel protected by ipcomp to the other; the
packet generator of each sends a mix of compressible, incompressible and
small (below threshold) packets through its tunnel. The stats segment of the
first VPP is recorded.

    VPP_PREFIX=/opt/vpp .venv/bin/python tests/data/record_ipcomp.py [OUT] [--seconds N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

from plugin_vpp import cli_script  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

from vppcomp.demo.plugin_build import build_ipcomp_plugin  # noqa: E402
from vppcomp.demo.vpp_process import VppInstance, vpp_prefix  # noqa: E402
from vppcomp.statseg.client import StatsClient  # noqa: E402
from vppcomp.statseg.recording import record  # noqa: E402

SIDES = {  # name: (memif role, tunnel address, inner network of this side)
    "a": ("master", "192.168.1.1", "10.0.0"),
    "b": ("slave", "192.168.1.2", "10.1.0"),
}


def traffic_pcap(path: Path, src_net: str, dst_net: str, seed: int) -> None:
    """Packets of three kinds: text (compresses), random (does not), tiny
    (below the 90-byte threshold)."""
    rng = random.Random(seed)
    words = b"telemetry compression tunnel gateway packet vector node counter "
    frames = []
    for i in range(60):
        kind = i % 3
        if kind == 0:
            size = rng.choice([256, 512, 1000, 1400])
            body = (words * 30)[:size]
        elif kind == 1:
            size = rng.choice([256, 1000, 1400])
            body = rng.randbytes(size)
        else:
            body = b"x" * rng.randint(4, 40)
        frames.append(
            Ether(dst="ff:ff:ff:ff:ff:ff")
            / IP(src=f"{src_net}.2", dst=f"{dst_net}.{2 + i % 50}")
            / UDP(sport=4000 + i, dport=5000)
            / body
        )
    wrpcap(str(path), frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=str(TESTS / "data" / "vpp-ipcomp.vppstats"))
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    prefix = vpp_prefix()
    if prefix is None:
        print("no VPP: set VPP_PREFIX", file=sys.stderr)
        return 2
    plugin = build_ipcomp_plugin(prefix)
    work = Path(tempfile.mkdtemp(prefix="vppcomp-rec-"))
    sock = work / "memif.sock"
    instances = {
        side: VppInstance(
            work / side,
            prefix,
            plugins=("ipcomp", "memif", "ping"),
            plugin_dirs=[plugin.plugin_dir],
            api_dirs=[plugin.api_dir],
        )
        for side in SIDES
    }
    try:
        for side, vpp in instances.items():
            vpp.start()
            role, local, net = SIDES[side]
            other = "b" if side == "a" else "a"
            _, peer, other_net = SIDES[other]
            cli_script(
                vpp,
                f"""
                create memif socket id 1 filename {sock}
                create interface memif id 0 socket-id 1 {role}
                set interface ip address memif1/0 {local}/24
                set interface mtu packet 9216 memif1/0
                set interface state memif1/0 up
                create packet-generator interface pg0
                set interface ip address pg0 {net}.1/24
                set interface state pg0 up
                ip neighbor pg0 {net}.2 02:00:00:00:00:0{1 if side == "a" else 2}
                create ipip tunnel src {local} dst {peer} instance 0
                ipcomp sa add local {local} peer {peer} cpi 4660 id 0
                ipcomp protect ipip0 sa-out 0 sa-in 0
                set interface state ipip0 up
                set interface unnumbered ipip0 use pg0
                ip route add {other_net}.0/24 via ipip0
                """,
            )
        time.sleep(2)
        instances["a"].cli("ping 192.168.1.2 repeat 3 interval 0.1")
        for side, vpp in instances.items():
            _, _, net = SIDES[side]
            other_net = SIDES["b" if side == "a" else "a"][2]
            pcap = work / f"{side}.pcap"
            traffic_pcap(pcap, net, other_net, seed=ord(side))
            vpp.cli(
                f"packet-generator new {{ name mix limit 1000000 rate 300 node ethernet-input "
                f"interface pg0 pcap {pcap} }}"
            )
            vpp.cli("packet-generator enable-stream mix")
        time.sleep(1)
        with StatsClient(str(instances["a"].stats_socket)) as client:
            frames = record(
                client,
                args.output,
                interval=1.0,
                duration=args.seconds,
                source="VPP v26.06 + ipcomp plugin, two instances over memif, pg traffic",
            )
        print(f"{frames} frames -> {args.output} ({os.path.getsize(args.output)} bytes)")
        print(instances["a"].cli("show ipcomp sa"))
    finally:
        for vpp in instances.values():
            vpp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
