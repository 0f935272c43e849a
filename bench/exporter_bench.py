"""Full-scrape time of the vppcomp exporter, VPP's vpp_prometheus_export and a
naive vpp_papi loop, side by side on the same stats segment.

For each size (default 1,000 and 10,000 interfaces x 8 threads, plus the
ipcomp plugin's entries for 64 SAs) a :class:`SegmentServer` serves a
synthetic segment of a real VPP's shape; then, each timed ``--runs`` times
after one warm-up, median reported:

* ``vppcomp``: ``vppcomp exporter`` in its own process, ``curl`` fetching
  ``/metrics`` over loopback (threads summed, names as labels), once plain
  and once with gzip (``curl --compressed``: Accept-Encoding gzip, as
  Prometheus sends it; MB on the wire); again with ``--per-thread`` (one
  series per thread, as the C exporter emits);
* ``vpp_prometheus_export``: VPP's C exporter (``$VPP_PREFIX/bin``) with the
  patterns ``/if /err /sys /buffer-pools /mem /net``, run inside a network
  namespace created for the run (it binds ``[::]`` and offers no address
  option), fetched the same way from inside the namespace; per-thread series
  labelled by index, as it does;
* ``naive vpp_papi``: ``VPPStats.dump(VPPStats.ls(...))`` of the same paths
  and Python string formatting of one line per thread and index.

Also reported: the exporter process' resident memory after the scrapes
(VmRSS), of which the pages of VPP's shared stats segment (RssShmem),
and its peak (VmHWM). Run as root for the namespace; without VPP's C
tool or root that column says why it is missing. Nothing is asserted: this
prints figures and ratios.

    python bench/exporter_bench.py [--sizes 1000 10000] [--threads 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# shared segment builders live with the tests
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from exporter_shapes import with_ipcomp
from synthetic import synthetic_snapshot

from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.writer import SegmentWriter

CURL_FORMAT = "%{time_total} %{size_download}"
C_PATTERNS = ("/if", "/err", "/sys", "/buffer-pools", "/mem", "/net")
PAPI_PATTERNS = [f"^{p}/" for p in C_PATTERNS]


def c_exporter_args(sock: str) -> list[str]:
    """vpp_prometheus_export's options in the one order its VPP 26.06 parser
    survives: a failed ``socket-name %s`` match clobbers the default socket
    name (SIGSEGV), so ``socket-name`` must come after ``port`` and be
    followed by a pattern in the same pass."""
    return ["port", "9482", "socket-name", sock]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def curl_time(url: str, prefix: tuple[str, ...] = (), *options: str) -> tuple[float, int]:
    """Seconds and bytes of one GET with curl (optionally under ``prefix``)."""
    result = subprocess.run(
        [*prefix, "curl", "-sS", *options, "-o", "/dev/null", "-w", CURL_FORMAT, url],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    seconds, size = result.stdout.split()
    return float(seconds), int(size)


def wait_http(url: str, prefix: tuple[str, ...] = (), timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run([*prefix, "curl", "-sf", "-o", "/dev/null", url]).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer")
        time.sleep(0.2)


def median_of(runs: int, measure: Callable[[], tuple[float, int]]) -> tuple[float, int]:
    measure()  # warm-up: connection, plans, caches
    results = [measure() for _ in range(runs)]
    return statistics.median(r[0] for r in results), results[-1][1]


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssShmem"):
            fields[key] = int(value.split()[0])
    return fields


def bench_vppcomp(
    sock: str, runs: int, *extra: str
) -> tuple[float, int, dict[str, int], tuple[float, int]]:
    """(seconds, bytes, memory after the plain scrapes, (seconds, bytes) with gzip)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "vppcomp.cli", "--log-level", "WARNING", "exporter",
         "--listen", f"127.0.0.1:{port}", "--stats-socket", sock, *extra],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        wait_http(f"http://127.0.0.1:{port}/healthz")
        seconds, size = median_of(runs, lambda: curl_time(url))
        memory = memory_kib(process.pid)
        zipped = median_of(runs, lambda: curl_time(url, (), "--compressed"))
        return seconds, size, memory, zipped
    finally:
        process.terminate()
        process.wait(timeout=30)


def bench_c_exporter(sock: str, runs: int) -> tuple[float, int] | str:
    prefix = Path(os.environ.get("VPP_PREFIX", "/opt/vpp"))
    tool = prefix / "bin" / "vpp_prometheus_export"
    if not tool.exists():
        return f"not found: {tool}"
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 for a network namespace"
    netns = f"vppcomp-bench-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    inside = ("ip", "netns", "exec", netns)
    process = None
    try:
        subprocess.run([*inside, "ip", "link", "set", "lo", "up"], check=True)
        process = subprocess.Popen(
            [*inside, str(tool), *c_exporter_args(sock), *C_PATTERNS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = "http://127.0.0.1:9482/metrics"
        wait_http(url, inside)
        return median_of(runs, lambda: curl_time(url, inside))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        subprocess.run(["ip", "netns", "delete", netns], check=False)


def bench_papi(sock: str, runs: int) -> tuple[float, int]:
    from vpp_papi.vpp_stats import VPPStats

    stats = VPPStats(socketname=sock)
    stats.connect()
    names = stats["/if/names"]

    def scrape() -> tuple[float, int]:
        started = time.perf_counter()
        data = stats.dump(stats.ls(PAPI_PATTERNS))
        lines = []
        for path, value in data.items():
            metric = "vpp" + path.replace("/", "_").replace("-", "_").replace(" ", "_")
            if isinstance(value, list) and value and isinstance(value[0], list):
                for thread, row in enumerate(value):
                    for index, item in enumerate(row):
                        label = names[index] if path.startswith("/if/") else index
                        if isinstance(item, dict):
                            for key in ("packets", "bytes"):
                                lines.append(
                                    f'{metric}_{key}{{thread="{thread}",interface="{label}"}} '
                                    f"{item[key]}\n"
                                )
                        else:
                            lines.append(f'{metric}{{thread="{thread}",index="{label}"}} {item}\n')
            elif isinstance(value, list):
                lines.extend(f'{metric}{{thread="{t}"}} {v}\n' for t, v in enumerate(value))
            elif isinstance(value, int | float):
                lines.append(f"{metric} {value}\n")
        body = "".join(lines).encode()
        return time.perf_counter() - started, len(body)

    try:
        return median_of(runs, scrape)
    finally:
        stats.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sas", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-papi", action="store_true", help="skip the naive vpp_papi loop")
    args = parser.parse_args()
    print(f"{'interfaces':>10} {'threads':>7} | {'vppcomp s':>9} {'MB':>6} | "
          f"{'gzip s':>6} {'MB':>5} {'C/gzip':>6} | "
          f"{'per-thread s':>12} {'MB':>6} {'RSS MiB':>7} | "
          f"{'C export s':>10} {'MB':>6} {'vppcomp/C':>9} | {'papi s':>8} {'papi/vppcomp':>12} | "
          f"{'RSS MiB':>7} {'shm MiB':>7} {'peak MiB':>8}")  # fmt: skip
    for size in args.sizes:
        snapshot = with_ipcomp(synthetic_snapshot(size, args.threads), args.sas, args.threads)
        with tempfile.TemporaryDirectory() as tmp:
            sock = str(Path(tmp) / "stats.sock")
            with SegmentServer(sock, SegmentWriter.required_size(snapshot) * 2) as server:
                server.publish(snapshot)
                ours, our_size, memory, zipped = bench_vppcomp(sock, args.runs)
                threaded = bench_vppcomp(sock, args.runs, "--per-thread")
                c_result = bench_c_exporter(sock, args.runs)
                papi = None if args.skip_papi else bench_papi(sock, args.runs)
        if isinstance(c_result, str):
            c_cols = f"{'n/a':>10} {'':>6} {'':>9}"
            note = f"  (C exporter: {c_result})"
        else:
            c_cols = f"{c_result[0]:>10.3f} {c_result[1] / 1e6:>6.1f} {ours / c_result[0]:>9.2f}"
            note = ""
        gzip_ratio = "" if isinstance(c_result, str) else f"{c_result[0] / zipped[0]:.2f}"
        papi_cols = (
            f"{'skipped':>8} {'':>12}"
            if papi is None
            else f"{papi[0]:>8.2f} {papi[0] / ours:>12.1f}"
        )
        print(
            f"{size:>10} {args.threads:>7} | {ours:>9.3f} {our_size / 1e6:>6.1f} | "
            f"{zipped[0]:>6.3f} {zipped[1] / 1e6:>5.2f} {gzip_ratio:>6} | "
            f"{threaded[0]:>12.3f} {threaded[1] / 1e6:>6.1f} {threaded[2]['VmRSS'] / 1024:>7.0f} | "
            f"{c_cols} | "
            f"{papi_cols} | {memory['VmRSS'] / 1024:>7.0f} {memory['RssShmem'] / 1024:>7.0f} "
            f"{memory['VmHWM'] / 1024:>8.0f}{note}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
