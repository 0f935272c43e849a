#!/usr/bin/env python3
"""What ``ipcomp protect`` adds to ipip for packets it leaves uncompressed.

One VPP, one ipip tunnel, 64-byte inner packets (below the 90-byte
threshold).  Alternating in one run: the tunnel without protection (ipip's
own encapsulation) and with ``ipcomp protect``; each time the packet
generator pushes N packets and ``show runtime`` gives the clocks of every node
on the send path.  Reported: clocks per packet summed over the path (all
nodes but pg-input), best of REPEAT, and the difference.

  VPP_PREFIX=/opt/vpp python3 bench/ipcomp_ipip_overhead.py [--packets 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from ipcomp_bench import _pg_run  # noqa: E402
from ipcomp_traffic import BCAST, CPI, ether, inner_packet  # noqa: E402
from plugin_vpp import SENDER_OVER_IPIP, build_ipcomp_plugin, cli_script  # noqa: E402

from vppcomp.demo.vpp_process import VppInstance, vpp_prefix  # noqa: E402

REPEAT = 5
PATH_SKIP = {"pg-input", "unix-epoll-input", "ipcomp-stats-process"}


def path_clocks(vpp: VppInstance, n: int) -> tuple[float, dict[str, float]]:
    """Clocks per packet of the internal nodes that handled the packets."""
    per_node = {}
    for line in vpp.cli("show runtime").splitlines():
        f = line.split()
        # Name State Calls Vectors Suspends Clocks Vectors/Call
        if len(f) == 7 and f[1] == "active" and f[0] not in PATH_SKIP:
            vectors = int(f[3])
            if vectors >= n:
                per_node[f[0]] = float(f[5]) * vectors / n
    return sum(per_node.values()), per_node


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=20000)
    args = ap.parse_args()
    prefix = vpp_prefix()
    if prefix is None:
        raise SystemExit("set VPP_PREFIX")
    plugin = build_ipcomp_plugin(prefix)
    frame = ether(BCAST, 0x0800, inner_packet(4, 64, "text", 1, random.Random(1)))
    best = {"ipip": float("inf"), "protect": float("inf")}
    nodes: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with VppInstance(
            work / "a",
            prefix,
            plugins=("ipcomp",),
            plugin_dirs=[plugin.plugin_dir],
            api_dirs=[plugin.api_dir],
        ) as a:
            cli_script(
                a,
                f"""
                {SENDER_OVER_IPIP}
                ipcomp sa add local 192.168.1.1 peer 192.168.1.2 cpi {CPI} id 0
                """,
            )
            for _ in range(REPEAT):
                for mode in ("ipip", "protect"):
                    if mode == "protect":
                        a.cli("ipcomp protect ipip0 sa-out 0 sa-in 0")
                    a.cli("clear runtime")
                    _pg_run(a, "many", frame, args.packets, work)
                    total, per = path_clocks(a, args.packets)
                    if total < best[mode]:
                        best[mode], nodes[mode] = total, per
                    if mode == "protect":
                        a.cli("ipcomp protect ipip0 del")
    for mode in ("ipip", "protect"):
        detail = ", ".join(f"{k} {v:.0f}" for k, v in sorted(nodes[mode].items()))
        print(f"{mode:8} {best[mode]:7.0f} clocks/packet  ({detail})")
    print(f"added by ipcomp protect: {best['protect'] - best['ipip']:.0f} clocks/packet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
