"""Stats-segment read cost, side by side in one run.

For each segment (a live VPP if --vpp-stats-socket is given, and synthetic
segments of N interfaces x 8 threads served through a replaying stats socket):

* ``vppcomp cold``: a full snapshot on a new connection (directory decoded,
  every pointer checked, then every value copied), names reused from the
  last plan in this process (as after a reconnect or an epoch change that
  renamed nothing);
* ``vppcomp first plan``: the same with no names to reuse (the first plan of
  a process, or a directory that changed throughout);
* ``vppcomp warm``: a full snapshot on the same epoch (what a scraper pays);
* ``vpp_get_stats``: VPP's C client dumping everything (process included);
* ``vpp_papi vectors``: vpp_papi's VPPStats reading every entry that is not a
  symlink, the obvious way (``stats[name]`` for each), measured;
* ``vpp_papi all``: the same plus every symlink (``/err``, ``/nodes``,
  ``/interfaces``). Each symlink makes VPPStats decode its whole target
  vector, so at 1,000+ interfaces a full dump takes minutes to hours: it is
  measured on a random sample of ``--papi-sample`` symlinks and extrapolated
  (marked ``est.``).

Usage: python bench/statseg_bench.py [--vpp-prefix /opt/vpp]
       [--vpp-stats-socket /run/vpp/stats.sock] [--sizes 1000,10000] [--threads 8]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# shared segment builders live with the tests
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from synthetic import synthetic_snapshot
from vpp_papi.vpp_stats import VPPStats

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import StatType
from vppcomp.statseg.names import NAMES
from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.writer import SegmentWriter


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``action`` in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure(socket_path: str, vpp_prefix: Path | None, papi_sample: int) -> dict[str, float]:
    results: dict[str, float] = {}

    def cold() -> None:
        with StatsClient(socket_path) as client:
            client.snapshot()

    def first_plan() -> None:
        NAMES.clear()
        cold()

    results["vppcomp first plan"] = timed(first_plan, 5)
    results["vppcomp cold"] = timed(cold, 5)
    client = StatsClient(socket_path)
    entries = len(client.snapshot())
    results["vppcomp warm"] = timed(client.snapshot, 20)
    client.close()
    if vpp_prefix is not None:
        tool = [str(vpp_prefix / "bin" / "vpp_get_stats"), "socket-name", socket_path, "dump"]
        try:
            results["vpp_get_stats"] = timed(
                lambda: subprocess.run(tool, stdout=subprocess.DEVNULL, check=True), 5
            )
        except subprocess.CalledProcessError as error:
            # vpp_get_stats has a small fixed heap: it aborts on large segments.
            print(f"  vpp_get_stats failed on this segment: {error}", file=sys.stderr)
    stats = VPPStats(socket_path)
    stats.connect()
    names = stats.ls(".*")
    links = [n for n in names if stats.directory[n].type == StatType.SYMLINK]
    vectors = [n for n in names if stats.directory[n].type != StatType.SYMLINK]
    results["vpp_papi vectors"] = timed(lambda: stats.dump(vectors), 1)
    sample = random.Random(1).sample(links, min(papi_sample, len(links)))
    per_link = timed(lambda: stats.dump(sample), 1) / max(len(sample), 1)
    results["vpp_papi all"] = results["vpp_papi vectors"] + per_link * len(links)
    results["estimated"] = float(len(sample) < len(links))
    stats.disconnect()
    results["entries"] = entries
    return results


def report(title: str, results: dict[str, float]) -> None:
    print(f"\n{title}: {int(results['entries'])} entries")
    print(f"  {'reader':<22}{'ms':>10}{'x vppcomp warm':>16}{'x vppcomp cold':>16}")
    for name in (
        "vppcomp warm",
        "vppcomp cold",
        "vppcomp first plan",
        "vpp_get_stats",
        "vpp_papi vectors",
        "vpp_papi all",
    ):
        if name in results:
            value = results[name]
            label = f"{name} est." if name == "vpp_papi all" and results["estimated"] else name
            print(
                f"  {label:<22}{value * 1e3:>10.2f}"
                f"{value / results['vppcomp warm']:>16.1f}{value / results['vppcomp cold']:>16.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vpp-prefix", type=Path, help="VPP install prefix (for vpp_get_stats)")
    parser.add_argument("--vpp-stats-socket", help="stats socket of a running VPP")
    parser.add_argument("--sizes", default="1000,10000", help="interface counts")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--papi-sample", type=int, default=300, help="symlinks timed in vpp_papi")
    args = parser.parse_args()

    if args.vpp_stats_socket:
        report(
            f"live VPP ({args.vpp_stats_socket})",
            measure(args.vpp_stats_socket, args.vpp_prefix, papi_sample=10**9),
        )
    for size in (int(s) for s in args.sizes.split(",") if s):
        snapshot = synthetic_snapshot(size, args.threads)
        with tempfile.TemporaryDirectory() as tmp:
            socket_path = f"{tmp}/stats.sock"
            required = SegmentWriter.required_size(snapshot)
            with SegmentServer(socket_path, required + (1 << 20)) as server:
                server.publish(snapshot)
                results = measure(socket_path, args.vpp_prefix, args.papi_sample)
        report(f"synthetic {size} interfaces x {args.threads} threads", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
