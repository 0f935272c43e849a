#!/usr/bin/env python3
"""One tunnel's receive on one thread vs spread over two (``ipcomp
decompress-workers``), side by side in one run.

A VPP set up as the receiving end of an ipip tunnel with ipcomp protect
(tests/ipcomp_traffic.py ``setup_b``) is fed, by one packet-generator stream
into pg0, the peer's compressed packets: 1,000 different compressible
(text-like) 1400-byte inner IPv4 packets, deflated by Python's zlib at level
1, replayed ``--packets`` times in all.  The restored packets leave by pg1.
Configurations, each in a fresh VPP:

  1 thread      no workers: the stream and decompression on the main thread
  1 worker      ``cpu { workers 1 }``: stream and decompression on worker 0
                (what RSS gives one tunnel); the main thread idles
  wk0+main/32   the same, ``ipcomp decompress-workers 0 main`` (batch 32):
                worker 0 receives, worker 0 and the main thread decompress
  wk0+main/256  the same with batch 256
  main only     ``ipcomp decompress-workers main``: worker 0 receives, the
                main thread decompresses (a two-stage pipeline)
  ... s         the same with ``unix { poll-sleep-usec 100 }`` (the main
                thread sleeps 100 us on every loop; the others run VPP's
                default main loop, which sleeps only when idle)

Columns: decompressed packets/s (wall clock over the whole stream), its ratio
to "1 worker", the share of packets dropped at the frame queues
(``congestion-drop``: the stream is offered as fast as the packet generator
makes it, so the handoff rows are measured at overload), decompress clocks
per packet on each thread (``show runtime``: ipcomp4-decompress plus
ipcomp4-decompress-handed), the share of a CPU each VPP thread got during
the run (from /proc: on a shared machine a thread gets less than a core),
and the reorder of a separate captured run of 2,048 packets (packets that
arrived after a later one; largest displacement).  Best packets/s of
``--repeat`` runs.

The machine this was written on has 2 CPUs and VPP 26.06 pins one thread per
CPU (it refuses a third thread), so "two decompressing threads" are worker 0
and the main thread, each on its own core, shared with the rest of the
machine's load.

  VPP_PREFIX=/opt/vpp python3 bench/ipcomp_decompress_workers.py [--packets 500000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ipcomp_traffic import (  # noqa: E402
    compressed_frames,
    inner_frames,
    inner_packet,
    inner_sequence,
    reorder,
    setup_b,
)
from plugin_vpp import build_ipcomp_plugin, cli_ok, pg_replay, stats_client  # noqa: E402

from vppcomp.demo.vpp_process import VppInstance, vpp_prefix  # noqa: E402

# The main loop: VPP's default (the main thread sleeps only when it has
# nothing to do), or a fixed 100 us sleep on every loop (VppInstance's
# default, which keeps idle test VPPs cheap)
DEFAULT_LOOP = "unix { poll-sleep-usec 0 }"
SLEEP_LOOP = "unix { poll-sleep-usec 100 }"
WORKER = "cpu { workers 1 }"
# (label, startup.conf extra, decompress-workers argument or None)
CONFIGS = [
    ("1 thread", DEFAULT_LOOP, None),
    ("1 worker", f"{WORKER}\n{DEFAULT_LOOP}", None),
    ("wk0+main/32", f"{WORKER}\n{DEFAULT_LOOP}", "0 main batch 32"),
    ("wk0+main/32 s", f"{WORKER}\n{SLEEP_LOOP}", "0 main batch 32"),
    ("wk0+main/256", f"{WORKER}\n{DEFAULT_LOOP}", "0 main batch 256"),
    ("main only", f"{WORKER}\n{DEFAULT_LOOP}", "main"),
    ("main only s", f"{WORKER}\n{SLEEP_LOOP}", "main"),
]
BASELINE = "1 worker"
DISTINCT = 1000
REORDER_PACKETS = 2048
NODES = ("ipcomp4-decompress", "ipcomp4-decompress-handed")


def thread_counter(stats: Any, name: str) -> list[int]:
    """A node error counter per thread."""
    return [int(v) for v in stats[name]]


def decompress_clocks(vpp: VppInstance) -> dict[int, float]:
    """Clocks per packet of the decompress nodes, per thread (show runtime)."""
    clocks: dict[int, list[float]] = {}
    thread = 0
    for line in vpp.cli("show runtime").splitlines():
        f = line.split()
        if f[:1] == ["Thread"]:
            thread = int(f[1])
        elif f and f[0] in NODES and len(f) >= 7:
            # Name State Calls Vectors Suspends Clocks Vectors/Call
            vectors, per = int(f[3]), float(f[5])
            total = clocks.setdefault(thread, [0.0, 0.0])
            total[0] += vectors * per
            total[1] += vectors
    return {t: c / n for t, (c, n) in sorted(clocks.items()) if n}


def thread_lwps(vpp: VppInstance) -> dict[int, int]:
    """VPP thread index -> Linux thread id (show threads)."""
    lwps = {}
    for line in vpp.cli("show threads").splitlines():
        f = line.split()
        if f and f[0].isdigit():
            lwps[int(f[0])] = int(next(x for x in f[2:] if x.isdigit()))
    return lwps


def cpu_seconds(pid: int, lwps: dict[int, int]) -> dict[int, float]:
    """CPU time (user + system) each VPP thread has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for thread, lwp in lwps.items():
        fields = Path(f"/proc/{pid}/task/{lwp}/stat").read_text().rsplit(")", 1)[1].split()
        out[thread] = (int(fields[11]) + int(fields[12])) / tick
    return out


def stream(vpp: VppInstance, pcap: Path, n: int) -> tuple[float, int, int, dict[int, float]]:
    """Send ``n`` packets from ``pcap`` into pg0 as fast as pg makes them;
    (seconds until the last one was decompressed, decompressed, congestion
    drops, share of a CPU each VPP thread got meanwhile).  The counters are
    read every 50 ms, so that this process takes little CPU from VPP."""
    assert vpp.process is not None
    lwps = thread_lwps(vpp)
    stats = stats_client(vpp)
    try:

        def totals() -> tuple[int, int]:
            d = sum(thread_counter(stats, "/err/ipcomp4-decompress/decompressed"))
            try:
                c = sum(thread_counter(stats, "/err/ipcomp4-decompress-handoff/congestion-drop"))
            except KeyError:
                c = 0
            return d, c

        d0, c0 = totals()
        vpp.cli("clear runtime")
        cli_ok(
            vpp,
            f"packet-generator new {{ name many limit {n} node ethernet-input "
            f"interface pg0 pcap {pcap} }}",
        )
        cpu0 = cpu_seconds(vpp.process.pid, lwps)
        t0 = time.monotonic()
        cli_ok(vpp, "packet-generator enable-stream many")
        last, t_last = (d0, c0), t0
        deadline = t0 + 300
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = totals()
            if now != last:
                last, t_last = now, time.monotonic()
            if now[0] - d0 + now[1] - c0 >= n or time.monotonic() - t_last > 1.0:
                break
        cpu1 = cpu_seconds(vpp.process.pid, lwps)
        vpp.cli("packet-generator delete many")
        # threads with nothing to do sleep, so the settling time adds little
        share = {t: (cpu1[t] - cpu0[t]) / (t_last - t0) for t in cpu0}
        return t_last - t0, last[0] - d0, last[1] - c0, share
    finally:
        stats.disconnect()


def run(prefix: Path, n_packets: int, repeat: int, workdir: Path) -> list[dict]:
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    plugin = build_ipcomp_plugin(prefix)
    rng = random.Random(11)
    inners = [inner_packet(4, 1400, "text", seq, rng) for seq in range(DISTINCT)]
    frames = compressed_frames(4, inners)
    pcap = workdir / "compressed.pcap"
    wrpcap(str(pcap), [Ether(f) for f in frames])
    ordered = compressed_frames(
        4, [inner_packet(4, 1400, "text", seq, rng) for seq in range(REORDER_PACKETS)]
    )
    rows = []
    for label, startup, workers in CONFIGS:
        with VppInstance(
            workdir / f"vpp{len(rows)}",
            prefix,
            plugins=("ipcomp",),
            plugin_dirs=[plugin.plugin_dir],
            api_dirs=[plugin.api_dir],
            startup_extra=startup,
        ) as vpp:
            print(f"{label} ...", file=sys.stderr, flush=True)
            setup_b(vpp, 4, "isal")
            if workers:
                cli_ok(vpp, f"ipcomp decompress-workers {workers}")
            best: dict | None = None
            for _ in range(repeat):
                seconds, decompressed, dropped, share = stream(vpp, pcap, n_packets)
                pps = decompressed / seconds if seconds > 0 else 0.0
                if best is None or pps > best["pps"]:
                    best = dict(
                        pps=pps,
                        dropped=dropped,
                        offered=n_packets,
                        clocks=decompress_clocks(vpp),
                        share=share,
                    )
            got = pg_replay(vpp, "ordered", ordered, "pg0", capture={"pg1": len(ordered)})["pg1"]
            seqs = [inner_sequence(f) for f in inner_frames(got, 4)]
            late, distance = reorder(seqs)
            assert best is not None
            rows.append(dict(label=label, **best, arrived=len(seqs), late=late, distance=distance))
    return rows


def report(rows: list[dict]) -> str:
    base = next(r["pps"] for r in rows if r["label"] == BASELINE)
    head = (
        f"{'configuration':14} {'decomp/s':>9} {'ratio':>5} {'drop%':>6} "
        f"{'clk/pkt main':>12} {'clk/pkt wk0':>11} {'cpu main':>8} {'cpu wk0':>7} "
        f"{'arrived':>9} {'late':>5} {'displ':>5}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        c = r["clocks"]
        main = f"{c[0]:.0f}" if 0 in c else "-"
        wk0 = f"{c[1]:.0f}" if 1 in c else "-"
        cpu = {t: f"{100 * v:.0f}%" for t, v in r["share"].items()}
        lines.append(
            f"{r['label']:14} {r['pps']:9.0f} {r['pps'] / base:5.2f} "
            f"{100 * r['dropped'] / r['offered']:6.1f} {main:>12} {wk0:>11} "
            f"{cpu.get(0, '-'):>8} {cpu.get(1, '-'):>7} "
            f"{r['arrived']:>4}/{REORDER_PACKETS} {r['late']:5} {r['distance']:5}"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--prefix", type=Path, default=None)
    args = ap.parse_args()
    prefix = args.prefix or vpp_prefix()
    if prefix is None:
        print("no VPP: set VPP_PREFIX", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ipcomp-workers-bench-") as tmp:
        rows = run(prefix, args.packets, args.repeat, Path(tmp))
    print(report(rows))
    print(
        f"One tunnel, {args.packets} compressed packets (1400-byte text-like inner packets,"
        f" zlib level 1) per run, best of {args.repeat}; ratio: decompressed/s over"
        f" '{BASELINE}'. drop%: congestion drops at the frame queues of the offered packets."
        " clk/pkt: decompress node clocks per packet on that thread (show runtime)."
        " cpu: share of one CPU the thread got during the run (/proc; the machine is shared)."
        f" late/displ: reorder of a captured run of {REORDER_PACKETS} packets."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
