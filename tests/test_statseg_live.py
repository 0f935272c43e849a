"""The stats-segment reader against a real VPP (skipped without one)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from statseg_helpers import assert_matches_papi
from vpp_papi.vpp_stats import VPPStats
from waiting import wait_for

from vppcomp.demo.vpp_process import VppInstance
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import StatsUnavailable, StatType
from vppcomp.statseg.recording import read_frames, record
from vppcomp.statseg.replay import SegmentServer

PG_TRAFFIC = (
    "create loopback interface",
    "set interface state loop0 up",
    "set interface ip address loop0 10.10.1.1/24",
    "packet-generator new name udp limit {packets} rate 1e4 size 100-100 node ip4-input"
    " data {{ UDP: 10.10.1.2 -> 10.10.2.2 UDP: 1234 -> 2345 incrementing 100 }}",
    "packet-generator enable-stream udp",
)


def start_traffic(vpp: VppInstance, packets: int) -> None:
    """A loopback and a packet-generator stream of ``packets`` UDP packets."""
    for command in PG_TRAFFIC:
        vpp.cli(command.format(packets=packets))


def papi(path: str | Path) -> VPPStats:
    stats = VPPStats(str(path))
    stats.connect()
    return stats


def test_reader_agrees_with_vpp_papi_on_a_real_segment(vpp: VppInstance, tmp_path: Path) -> None:
    """Freeze a consistent copy of the live segment; both readers read it."""
    start_traffic(vpp, 500)
    time.sleep(0.5)
    client = StatsClient(str(vpp.stats_socket))
    image = client.image()
    with SegmentServer(tmp_path / "frozen.sock", len(image)) as server:
        server.load_image(image)
        ours = StatsClient(server.socket_path).snapshot(ring_records=True)
        stats = papi(server.socket_path)
        try:
            compared = assert_matches_papi(ours, stats)
        finally:
            stats.disconnect()
    assert compared > 1000
    kinds = {ours.type(n) for n in ours}
    assert {StatType.SYMLINK, StatType.COUNTER_VECTOR_COMBINED, StatType.NAME_VECTOR} <= kinds
    assert "loop0" in ours["/if/names"]


def test_counters_follow_the_traffic(vpp: VppInstance) -> None:
    client = StatsClient(str(vpp.stats_socket))
    start_traffic(vpp, 1000)

    def ip4_input_vectors() -> int:
        """ip4-input's vectors as the collector last published them (0 before)."""
        snap = client.snapshot()
        nodes = snap["/sys/node/names"]
        if "ip4-input" not in nodes:
            return 0
        return int(snap["/sys/node/vectors"].sum(axis=0)[nodes.index("ip4-input")])

    counted = wait_for(
        ip4_input_vectors,
        lambda vectors: vectors >= 1000,
        "ip4-input to count the 1000 generated packets",
        interval=0.2,
    )
    assert counted == 1000


def test_record_then_replay_reads_the_same_through_vpp_papi(
    vpp: VppInstance, tmp_path: Path
) -> None:
    start_traffic(vpp, 2000)
    path = tmp_path / "live.vppstats"
    with StatsClient(str(vpp.stats_socket)) as client:
        frames_written = record(client, path, interval=0.3, duration=1.5)
    frames = list(read_frames(path))
    assert len(frames) == frames_written >= 4
    size = max(len(StatsClient(str(vpp.stats_socket)).image()), 1 << 20)
    with SegmentServer(tmp_path / "replay.sock", size) as server:
        for frame in frames:
            server.publish(frame.snapshot)
            stats = papi(server.socket_path)
            try:
                assert assert_matches_papi(frame.snapshot, stats) == len(frame.snapshot)
            finally:
                stats.disconnect()
        dump = subprocess.run(
            [str(vpp.prefix / "bin" / "vpp_get_stats"), "socket-name", server.socket_path, "dump"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    assert "/if/names" in dump or "loop0" in dump


def test_restart_of_real_vpp_is_seen(vpp_prefix: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "vpp"
    client = StatsClient(str(workdir / "stats.sock"), liveness_interval=0)
    with VppInstance(workdir, vpp_prefix):
        first = client.snapshot()
    with pytest.raises(StatsUnavailable):
        client.snapshot()
    with VppInstance(workdir, vpp_prefix):
        second = client.snapshot()
    assert client.stats.restarts == 1
    assert first.segment_id != second.segment_id


def test_live_tests_skip_with_a_reason_without_vpp(tmp_path: Path) -> None:
    env = {**os.environ, "VPP_PREFIX": str(tmp_path / "no-vpp-here")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-q", __file__, "-k", "restart_of_real"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent.parent,
        timeout=300,
    )
    assert "1 skipped" in result.stdout, result.stdout
    assert "no VPP: set VPP_PREFIX" in result.stdout
