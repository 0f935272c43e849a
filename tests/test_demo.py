"""scripts/demo end to end, as a user runs it: in replay mode (any machine)
and live with two VPPs (where a VPP is installed). Waits for the ready line,
then checks the exporters' health, that the real Prometheus has the
compression-ratio series and loaded the project's rules, that the topology
page draws the ipcomp tunnel between the two ends in headless Chromium, and
that after Ctrl-C (SIGINT) nothing the demo started is left: no process,
no work directory (sockets, memif socket), no listening port."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml
from browser import check_page_in_chromium
from servers import free_port, wait_for_series
from waiting import wait_for

from vppcomp.demo import services

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 420.0  # scripts/setup, and in live mode the first plugin build


@dataclass
class DemoRun:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None
    ports: list[int] = field(default_factory=list)
    reader: threading.Thread | None = None  # appends the demo's output to lines

    def descendants(self) -> set[int]:
        """Every live process below the demo (by parent pid, through /proc)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found: set[int] = set()
        frontier = {self.process.pid}
        while frontier:
            children = {pid for pid, ppid in parents.items() if ppid in frontier}
            frontier = children - found
            found |= children
        return found


def free_port_pair() -> int:
    """A port p with p + 1 also free (the two exporters)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


READY = "ready: Ctrl-C stops everything"


@contextmanager
def running_demo(*args: str, until: str = READY) -> Iterator[DemoRun]:
    """scripts/demo ARGS on free ports, yielded once a line containing
    ``until`` was printed; stopped (SIGINT) at the end if still running."""
    exporter_port, prometheus_port = free_port_pair(), free_port()
    process = subprocess.Popen(
        [
            str(ROOT / "scripts" / "demo"),
            *args,
            f"--exporter-port={exporter_port}",
            f"--prometheus-port={prometheus_port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    run = DemoRun(process, ports=[exporter_port, exporter_port + 1, prometheus_port])
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.lines.append(line.rstrip("\n"))
            lines.put(line.rstrip("\n"))
        lines.put(None)

    run.reader = threading.Thread(target=read, daemon=True)
    run.reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, f"demo exited before {until!r}:\n" + "\n".join(run.lines)
            if match := re.match(r"\[demo\] work directory (\S+)", line):
                run.workdir = Path(match[1])
            if match := re.match(r"\[demo\] ([\w ()]+?):\s+(http://\S+)", line):
                run.urls[match[1]] = match[2]
            if until in line:
                break
        yield run
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def project_rule_groups() -> int:
    return sum(len(yaml.safe_load(p.read_text())["groups"]) for p in services.rule_files())


def diagram(url: str, timeout: float = 60.0) -> str:
    """The SVG at ``url`` once its rates are collected (the first answers
    come at once and say "collecting rates")."""
    deadline = time.monotonic() + timeout
    while True:
        svg = httpx.get(url, timeout=60).text
        if "collecting rates" not in svg or time.monotonic() > deadline:
            return svg
        time.sleep(1)


def check_running_demo(run: DemoRun, mode: str) -> None:
    assert any(line.startswith(f"[demo] {mode}: ready") for line in run.lines), run.lines
    for end in ("west", "east"):
        metrics = run.urls[f"metrics ({end})"]
        assert httpx.get(metrics.replace("/metrics", "/healthz"), timeout=10).status_code == 200
    prometheus = run.urls["Prometheus"].rstrip("/")
    ratio = 'vpp_ipcomp_sa_compression_ratio{end="%s"}'
    series = [wait_for_series(prometheus, ratio % end, timeout=90) for end in ("west", "east")]
    assert all(series), series
    series = series[0] + series[1]
    assert all(0 < float(s["value"][1]) < 1 for s in series), series
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert len(rules) == project_rule_groups()
    assert httpx.get(run.urls["alerts"], timeout=10).status_code == 200
    topology = run.urls["topology page"]
    tunnels = diagram(topology + "tunnels.svg")
    assert "CPI 4660" in tunnels and "west" in tunnels and "east" in tunnels, tunnels[:2000]
    assert "west → east" in tunnels
    graph = diagram(topology + "graph.svg")
    assert "VPP graph of west" in graph and "ipcomp4&#45;compress" in graph, graph[:2000]
    check_page_in_chromium(topology, f"demo_{mode}_topology.png")


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (an exited one not yet reaped, a
    zombie, is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def check_nothing_left(
    run: DemoRun, started: set[int], stop: signal.Signals | None = signal.SIGINT, status: int = 0
) -> None:
    """Stop the demo with ``stop`` (``None``: it stops by itself) and check
    its exit ``status`` and that nothing it started is left."""
    if stop is not None:
        os.kill(run.process.pid, stop)
    assert run.process.wait(timeout=90) == status, "\n".join(run.lines)
    assert run.reader is not None
    run.reader.join(timeout=10)
    assert started, "the demo started no process?"
    # a killed process needs a moment on a loaded machine
    wait_for(
        lambda: {pid for pid in started if running(pid)},
        lambda alive: not alive,
        "every process the demo started to end",
        interval=0.2,
    )
    assert run.workdir is not None and not run.workdir.exists(), run.workdir
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        assert str(run.workdir).encode() not in cmdline, f"process {pid} uses the work dir"
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(run.workdir.name)]
    for port in run.ports:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still served"


def stop_signals_blocked(pid: int) -> set[signal.Signals]:
    """SIGINT and SIGTERM as far as ``pid`` blocks them (/proc/<pid>/status
    SigBlk); a process started with them blocked never sees a stop."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.M)[1], 16)  # type: ignore[index]
    return {s for s in (signal.SIGINT, signal.SIGTERM) if mask & (1 << (s - 1))}


def test_demo_replay_mode() -> None:
    with running_demo("--replay") as run:
        started = run.descendants()
        check_running_demo(run, "replay")
        # the demo's children take SIGTERM as a request to stop (they were
        # started with SIGINT and SIGTERM blocked, so every stop waited out
        # the grace period and ended in SIGKILL: no graceful exit, ~10 s each)
        python = [p for p in started if b"vppcomp.cli" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(python) == 5, started  # 2 replayers, 2 exporters, the shipper
        assert {p: stop_signals_blocked(p) for p in python} == {p: set() for p in python}
        check_nothing_left(run, started)


@pytest.mark.live
def test_demo_live_mode(vpp_prefix: Path) -> None:
    os.environ.setdefault("VPP_PREFIX", str(vpp_prefix))
    with running_demo("--live") as run:
        started = run.descendants()
        check_running_demo(run, "live")
        assert run.workdir is not None
        shm = [f for f in os.listdir("/dev/shm") if f.startswith(run.workdir.name)]
        assert len(shm) == 4, shm  # global_vm and vpe-api of each VPP
        east = httpx.get(run.urls["metrics (east)"], timeout=30).text
        dropped = re.search(r"^vpp_ipcomp_sa_rx_errors_packets_total\{[^}]*\} (\S+)$", east, re.M)
        assert dropped and float(dropped[1]) > 0, "malformed IPComp not counted at east"
        check_nothing_left(run, started)


def test_demo_stopped_while_starting_leaves_nothing() -> None:
    """SIGTERM half-way through the start (replayers and one exporter up)."""
    with running_demo("--replay", until="starting the exporter of east") as run:
        started = run.descendants()
        check_nothing_left(run, started, signal.SIGTERM)


@pytest.mark.live
def test_demo_stops_everything_when_a_vpp_dies(vpp_prefix: Path) -> None:
    os.environ.setdefault("VPP_PREFIX", str(vpp_prefix))
    with running_demo("--live") as run:
        started = run.descendants()
        west = [
            pid
            for pid in started
            if b"/west/startup.conf" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert len(west) == 1, started
        os.kill(west[0], signal.SIGKILL)
        check_nothing_left(run, started, stop=None, status=1)
        assert any("VPP west exited" in line for line in run.lines), run.lines


@pytest.mark.live
def test_demo_record_then_replay(vpp_prefix: Path, tmp_path: Path) -> None:
    """``--record`` makes a recording the replay mode serves, diagrams included."""
    env = {**os.environ, "VPP_PREFIX": str(vpp_prefix)}
    out = tmp_path / "recording"
    result = subprocess.run(
        [str(ROOT / "scripts" / "demo"), "--record", str(out), "--seconds", "4"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "east.api.json",
        "east.vppstats",
        "west.api.json",
        "west.vppstats",
    ]
    with running_demo("--replay", f"--recording={out}") as run:
        started = run.descendants()
        check_running_demo(run, "replay")
        check_nothing_left(run, started)
