"""Live topology scenarios shared by tests/test_topology_live.py and
bench/topology_record_fixtures.py: one VPP compressing
packet-generator traffic into an ipcomp tunnel, and two VPPs joined by memif
with IPIP, GRE, VXLAN, IPsec and ipcomp tunnels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plugin_vpp import cli_script

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
