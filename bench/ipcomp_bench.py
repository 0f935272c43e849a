#!/usr/bin/env python3
"""Clocks per packet of the ipcomp nodes beside the raw engines.

For each engine (isal, zlib), inner packet size (64, 512, 1400 bytes) and
payload kind (text-like "compressible", "random"), in one run:

  * node:   ``ipcomp4-compress`` clocks/packet (``show runtime``) in VPP A
            while the packet generator pushes N copies of the packet through
            an ipip tunnel with ipcomp protect; ``ipcomp4-decompress`` clocks/packet in VPP B
            fed N copies of what A sent;
  * engine: the same codec code (plugin/ipcomp/codec_*.c) on the same bytes in
            a tight C loop (bench/ipcomp_codec_bench.c), one context reused,
            warm, as many calls as the node has packets, best of as many
            runs as the node (interleaved with them), with the settings the
            node used for that packet (``level auto``: what it picks for the
            size, below 4096 bytes ISA-L 0 with tables learned from the
            packet); the settings are printed per row (``loop`` column);
  * ratio:  node / engine and the compression ratio.

Every engine sees the same packet per (size, kind).  Each SA first sends a
warm-up burst (so ``level auto`` has learned its tables) before the packet
that is captured, measured for bytes saved and fed to the receiver.

64-byte packets are below the default 90-byte threshold: their "node" figure
is the bypass cost (goal < 60 clocks); the "64 0" rows force compression
(threshold 0).  After the table, the goals of issue 10 read from this run:
``level auto`` against ISA-L level 1 on the text mix (64, 512, 1400 bytes at
threshold 90, one packet of each) and the node over the tight loop.

  VPP_PREFIX=/opt/vpp python3 bench/ipcomp_bench.py [--packets 20000]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ipcomp_traffic import BCAST, CPI, ether, inner_packet  # noqa: E402
from plugin_vpp import SENDER_OVER_IPIP, build_ipcomp_plugin, cli_script, pg_replay, stats_client  # noqa: E402

from vppcomp.demo.vpp_process import VppInstance, vpp_prefix  # noqa: E402

# (engine, level); "auto": the plugin's level auto, whose tight-loop twin runs
# the level auto picks for the size (ISA-L 0 below 4096 bytes, else 1)
ENGINES = [("isal", 0), ("isal", 1), ("isal", "auto"), ("zlib", 1)]
CASES = [(64, 90), (64, 0), (512, 90), (1400, 90)]  # (size, threshold)
KINDS = ["text", "random"]
REPEAT = 5


def build_codec_bench() -> Path:
    out = ROOT / ".build" / "bench" / "ipcomp_codec_bench"
    out.parent.mkdir(parents=True, exist_ok=True)
    src = ROOT / "bench" / "ipcomp_codec_bench.c"
    codecs = sorted((ROOT / "plugin" / "ipcomp").glob("codec_*.c"))
    subprocess.run(
        [
            "cc",
            "-O2",
            "-march=native",
            f"-I{ROOT / 'plugin' / 'ipcomp'}",
            str(src),
            *map(str, codecs),
            "-lz",
            "-lisal",
            "-o",
            str(out),
        ],
        check=True,
    )
    return out


ENGINE_INDEX = {"zlib": 0, "isal": 1}
AUTO_SPLIT = 4096  # plugin/ipcomp/ipcomp.h IPCOMP_AUTO_SPLIT
WARM_UP = 64  # packets an SA sends before the captured one (auto learns from 4)
WINDOW_BITS = 15


def loop_settings(engine: str, level: int | str, size: int) -> list[str]:
    """The tight loop's engine settings for a packet of ``size`` bytes: the
    SA's, or what level auto uses (below 4096 bytes ISA-L level 0 with tables
    learned from the SA's packets, else level 1)."""
    if level != "auto":
        return [engine, str(level), str(WINDOW_BITS)]
    if size < AUTO_SPLIT:
        return [engine, "0", str(WINDOW_BITS), "learned"]
    return [engine, "1", str(WINDOW_BITS)]


def engine_totals(stats, op: str, index: int) -> tuple[int, int]:
    """(calls, clocks) of one engine so far, from the stats segment."""
    calls = sum(row[index][0] for row in stats[f"/net/ipcomp/engine/calls/{op}"])
    clocks = sum(row[index] for row in stats[f"/net/ipcomp/engine/clocks/{op}"])
    return calls, clocks


def node_clocks(vpp: VppInstance, node: str) -> tuple[float, int]:
    """(clocks per packet, packets) of ``node`` from ``show runtime``."""
    out = vpp.cli(f"show runtime {node}")
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == node:
            # Name State Calls Vectors Suspends Clocks Vectors/Call
            return float(f[5]), int(f[3])
    return float("nan"), 0


def run(
    prefix: Path, n_packets: int, workdir: Path, engines: list[tuple[str, int | str]]
) -> list[dict]:
    plugin = build_ipcomp_plugin(prefix)
    codec_bench = build_codec_bench()
    kw = dict(plugins=("ipcomp",), plugin_dirs=[plugin.plugin_dir], api_dirs=[plugin.api_dir])
    rows = []
    with (
        VppInstance(workdir / "a", prefix, **kw) as a,
        VppInstance(workdir / "b", prefix, **kw) as b,
    ):
        cli_script(
            a,
            SENDER_OVER_IPIP,
        )
        cli_script(
            b,
            """
            create packet-generator interface pg0
            create packet-generator interface pg1
            set interface ip address pg0 192.168.1.2/24
            set interface ip address pg1 10.1.0.1/24
            set interface state pg0 up
            set interface state pg1 up
            ip neighbor pg1 10.1.0.2 02:00:00:00:00:03
            create ipip tunnel src 192.168.1.2 dst 192.168.1.1 instance 0
            set interface state ipip0 up
            set interface unnumbered ipip0 use pg0
            ip route add 172.16.0.0/16 via 10.1.0.2 pg1
        """,
        )
        sa, sb = stats_client(a), stats_client(b)
        for engine, level in engines:
            for size, threshold in CASES:
                for kind in KINDS:
                    if size == 64 and threshold == 90 and kind == "random":
                        continue
                    # the same bytes for every engine and level
                    rng = random.Random(size * 10 + KINDS.index(kind))
                    inner = inner_packet(4, size, kind, 1, rng)
                    opts = f"engine {engine} level {level} threshold {threshold}"
                    for v, local, peer in (
                        (a, "192.168.1.1", "192.168.1.2"),
                        (b, "192.168.1.2", "192.168.1.1"),
                    ):
                        cli_script(
                            v,
                            f"""
                            ipcomp sa add local {local} peer {peer} cpi {CPI} id 0 {opts}
                            ipcomp protect ipip0 sa-out 0 sa-in 0
                        """,
                        )
                    # warm up (level auto learns), then capture the
                    # compressed form of one packet
                    _pg_run(a, "warm", ether(BCAST, 0x0800, inner), WARM_UP, workdir)
                    got = pg_replay(
                        a, "one", [ether(BCAST, 0x0800, inner)], "pg0", capture={"pg1": 1}
                    )["pg1"]
                    outer = BCAST + got[0][6:]
                    # interleave node and engine runs, keep the best of REPEAT
                    # (the machine is shared: the minimum is the least disturbed)
                    payload = workdir / "payload.bin"
                    payload.write_bytes(inner)
                    c_clocks = d_clocks = e_c = e_d = float("inf")
                    c_n = d_n = 0
                    in_node_c = in_node_d = float("inf")
                    for _ in range(REPEAT):
                        a.cli("clear runtime")
                        e0 = engine_totals(sa, "compress", ENGINE_INDEX[engine])
                        _pg_run(a, "many", ether(BCAST, 0x0800, inner), n_packets, workdir)
                        e1 = engine_totals(sa, "compress", ENGINE_INDEX[engine])
                        c, c_n = node_clocks(a, "ipcomp4-compress")
                        if c < c_clocks and e1[0] > e0[0]:
                            # the engine share of the least disturbed node run
                            in_node_c = (e1[1] - e0[1]) / (e1[0] - e0[0])
                        b.cli("clear runtime")
                        e0 = engine_totals(sb, "decompress", ENGINE_INDEX[engine])
                        _pg_run(b, "many", outer, n_packets, workdir)
                        e1 = engine_totals(sb, "decompress", ENGINE_INDEX[engine])
                        d, d_n = node_clocks(b, "ipcomp4-decompress")
                        if d < d_clocks and e1[0] > e0[0]:
                            in_node_d = (e1[1] - e0[1]) / (e1[0] - e0[0])
                        settings = loop_settings(engine, level, size)
                        res = subprocess.run(
                            [
                                str(codec_bench),
                                *settings[:3],
                                str(n_packets),
                                str(payload),
                                *settings[3:],
                            ],
                            capture_output=True,
                            text=True,
                            check=True,
                        ).stdout
                        eng = dict(kv.split("=") for kv in res.split())
                        c_clocks, d_clocks = min(c_clocks, c), min(d_clocks, d)
                        e_c = min(e_c, float(eng["compress_clocks"]))
                        e_d = min(e_d, float(eng["decompress_clocks"]))
                    compressed = outer[23] == 108
                    rows.append(
                        dict(
                            engine=engine,
                            level=level,
                            size=size,
                            threshold=threshold,
                            kind=kind,
                            sent_compressed=compressed,
                            wire_len=len(got[0]) - 14,
                            node_c=c_clocks,
                            node_c_n=c_n,
                            node_d=d_clocks,
                            node_d_n=d_n,
                            eng_c=e_c,
                            eng_d=e_d,
                            in_node_c=in_node_c,
                            in_node_d=in_node_d,
                            ratio=float(eng["ratio"]),
                            loop="/".join(settings[1:]),
                        )
                    )
                    for v in (a, b):
                        v.cli("ipcomp protect ipip0 del")
                        v.cli("ipcomp sa del id 0")
    return rows


def _pg_run(vpp: VppInstance, name: str, frame: bytes, n: int, workdir: Path) -> None:
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    path = Path(vpp.workdir) / f"{name}.pcap"
    wrpcap(str(path), [Ether(frame)])
    vpp.cli(
        f"packet-generator new {{ name {name} limit {n} node ethernet-input "
        f"interface pg0 pcap {path} }}"
    )
    vpp.cli(f"packet-generator enable-stream {name}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = vpp.cli("show packet-generator")
        line = next((ln for ln in out.splitlines() if ln.split()[:1] == [name]), "")
        if not line or "No" in line.split():
            break
        time.sleep(0.1)
    vpp.cli(f"packet-generator delete {name}")


def report(rows: list[dict]) -> str:
    head = (
        f"{'engine':6} {'lvl':>4} {'size':>5} {'thr':>3} {'kind':6} {'sent':5} {'ratio':>6} "
        f"{'node-c':>7} {'in-c':>7} {'loop-c':>7} {'n/in':>5} {'n/loop':>6} "
        f"{'node-d':>7} {'in-d':>7} {'loop-d':>7} {'n/in':>5} {'n/loop':>6} {'loop':12}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        sent = "comp" if r["sent_compressed"] else "plain"
        tried = r["sent_compressed"] or r["threshold"] == 0 or r["kind"] == "random"
        nan = float("nan")
        ci = r["node_c"] / r["in_node_c"] if tried else nan
        cl = r["node_c"] / r["eng_c"] if tried else nan
        di = r["node_d"] / r["in_node_d"] if r["sent_compressed"] else nan
        dl = r["node_d"] / r["eng_d"] if r["sent_compressed"] else nan
        lines.append(
            f"{r['engine']:6} {r['level']:>4} {r['size']:5} {r['threshold']:3} {r['kind']:6} "
            f"{sent:5} {r['ratio']:6.3f} "
            f"{r['node_c']:7.0f} {r['in_node_c']:7.0f} {r['eng_c']:7.0f} {ci:5.2f} {cl:6.2f} "
            f"{r['node_d']:7.0f} {r['in_node_d']:7.0f} {r['eng_d']:7.0f} {di:5.2f} {dl:6.2f} "
            f"{r['loop']:12}"
        )
    return "\n".join([*lines, "", *goals(rows)])


def goals(rows: list[dict]) -> list[str]:
    """Issue 10's level-auto and node-vs-loop goals, read from the rows."""
    mix = [(64, 90), (512, 90), (1400, 90)]

    def pick(engine: str, level: int | str) -> list[dict]:
        return [
            r
            for r in rows
            if (r["engine"], r["level"], r["kind"]) == (engine, level, "text")
            and (r["size"], r["threshold"]) in mix
        ]

    def saved(r: dict) -> int:
        # outer IPv4 (20) + inner packet, less what went on the wire
        return 20 + r["size"] - r["wire_len"]

    out = []
    auto, one = pick("isal", "auto"), pick("isal", 1)
    if len(auto) == len(one) == len(mix):
        s_auto, s_one = sum(map(saved, auto)), sum(map(saved, one))
        c_auto, c_one = sum(r["node_c"] for r in auto), sum(r["node_c"] for r in one)
        d_auto, d_one = sum(r["node_d"] for r in auto), sum(r["node_d"] for r in one)
        out += [
            "level auto vs isal level 1, text mix 64+512+1400 bytes"
            " (threshold 90, one packet each):",
            f"  bytes saved {s_auto} vs {s_one} = {s_auto / s_one:.0%} (goal >= 90%)",
            f"  compress node clocks {c_auto:.0f} vs {c_one:.0f} = {c_auto / c_one:.0%}"
            " (goal <= 50%)",
            f"  receiver's decompress node clocks {d_auto:.0f} vs {d_one:.0f}"
            f" = {d_auto / d_one:.0%}",
        ]
    compressed = [r for r in rows if r["sent_compressed"]]
    if compressed:
        out.append("compress node / tight loop (same bytes, same settings), compressed rows:")
        for r in compressed:
            out.append(
                f"  {r['engine']} {r['level']} {r['size']}: {r['node_c'] / r['eng_c']:.2f}"
                f" (loop {r['engine']}/{r['loop']})"
            )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=int, default=20000)
    ap.add_argument("--prefix", type=Path, default=None)
    ap.add_argument(
        "--engines",
        default=",".join(f"{e}:{lvl}" for e, lvl in ENGINES),
        help="engine:level,... (default: %(default)s)",
    )
    args = ap.parse_args()
    engines = [
        (e, lvl if lvl == "auto" else int(lvl))
        for e, lvl in (x.split(":") for x in args.engines.split(","))
    ]
    prefix = args.prefix or vpp_prefix()
    if prefix is None:
        print("no VPP: set VPP_PREFIX", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ipcomp-bench-") as tmp:
        rows = run(prefix, args.packets, Path(tmp), engines)
    print(report(rows))
    print(
        "TSC clocks per packet, best of REPEAT runs. node: the VPP node (show runtime);"
        " in: the engine call inside that node (from /net/ipcomp/engine/clocks/*, same runs);"
        " loop: the same engine on the same bytes in a tight C loop."
        " n/in = node / in-node engine (node overhead, robust to machine load);"
        " n/loop = node / tight loop."
        " -d columns: decompress. 'plain' rows were sent uncompressed (below threshold"
        " or incompressible): node-c is then the bypass / try-and-give-up cost."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
