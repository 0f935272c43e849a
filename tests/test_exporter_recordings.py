"""The exporter over recordings of real VPPs (tests/data/*.vppstats), replayed
frame by frame through a stats socket: golden expositions of the last frame,
promtool, counters that only rise, and values equal to the recorded segment."""

from __future__ import annotations

import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from exporter_helpers import (
    Series,
    check_golden,
    make_exporter,
    parse,
    scrape,
    without_self_metrics,
)

from vppcomp.statseg.recording import read_frames
from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.writer import SegmentWriter

DATA = Path(__file__).parent / "data"
RECORDINGS = {
    "vpp-pg.vppstats": "exporter_recording_pg.prom",
    "vpp-ipcomp.vppstats": "exporter_recording_ipcomp.prom",
}


def replay_and_scrape(recording: Path, tmp_path: Path) -> tuple[list[Series], str]:
    """Scrape once per frame (used-only, threads summed); returns the parsed
    scrapes and the last exposition."""
    frames = list(read_frames(recording))
    size = 2 * max(SegmentWriter.required_size(f.snapshot) for f in frames)
    scrapes: list[Series] = []
    text = ""
    with SegmentServer(tmp_path / "stats.sock", size) as server:
        exporter = make_exporter(tmp_path / "stats.sock", used_only=True)
        instance = frames[0].instance
        for frame in frames:
            if frame.instance != instance:
                server.restart()
                instance = frame.instance
            server.publish(frame.snapshot)
            text = scrape(exporter)
            scrapes.append(parse(text))
    return scrapes, text


@pytest.fixture(params=sorted(RECORDINGS))
def recording(request: pytest.FixtureRequest) -> Path:
    path = DATA / request.param
    if not path.exists():
        pytest.skip(f"{path} not recorded yet")
    return path


def test_golden_of_a_real_segment(recording: Path, tmp_path: Path) -> None:
    _, text = replay_and_scrape(recording, tmp_path)
    check_golden(RECORDINGS[recording.name], without_self_metrics(text))


def test_counters_only_rise_through_a_recording(recording: Path, tmp_path: Path) -> None:
    scrapes, _ = replay_and_scrape(recording, tmp_path)
    assert len(scrapes) > 1
    for before, after in pairwise(scrapes):
        assert after[("vpp_up", frozenset())] == 1
        for key, value in before.items():
            counter = key[0].endswith(("_total", "_bucket", "_count", "_sum"))
            if counter and not key[0].startswith("vpp_exporter_") and key in after:
                assert after[key] >= value, key
    last = scrapes[-1]
    assert last[("vpp_exporter_vpp_restarts_total", frozenset())] == 0


def test_values_equal_the_recorded_segment(recording: Path, tmp_path: Path) -> None:
    scrapes, _ = replay_and_scrape(recording, tmp_path)
    snap = list(read_frames(recording))[-1].snapshot
    series = scrapes[-1]
    rx = snap["/if/rx"].sum(axis=0, dtype=np.uint64)
    checked = 0
    for index, name in enumerate(snap["/if/names"]):
        if name and name != "deleted" and rx[index, 0]:
            key = ("vpp_interface_rx_packets_total", frozenset({("interface", name)}))
            assert series[key] == rx[index, 0]
            checked += 1
    assert checked
    for path in snap:
        if path.startswith("/err/"):
            value = int(snap.total(path))
            node, _, reason = path[len("/err/") :].partition("/")
            key = ("vpp_node_errors_total", frozenset({("node", node), ("reason", reason)}))
            assert series.get(key, 0) == value, path
    if "/net/ipcomp/sa/names" in snap:
        into = snap["/net/ipcomp/sa/compressed-in"].sum(axis=0, dtype=np.uint64)
        out = snap["/net/ipcomp/sa/compressed-out"].sum(axis=0, dtype=np.uint64)
        for index, name in enumerate(snap["/net/ipcomp/sa/names"]):
            if name and into[index, 1]:
                sa = frozenset({("sa", name)})
                assert series[("vpp_ipcomp_sa_compressed_in_bytes_total", sa)] == into[index, 1]
                saved = int(into[index, 1]) - int(out[index, 1])
                assert series[("vpp_ipcomp_sa_saved_bytes_total", sa)] == saved > 0


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_a_real_segment(recording: Path, tmp_path: Path) -> None:
    _, text = replay_and_scrape(recording, tmp_path)
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
