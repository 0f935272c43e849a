"""The stats-segment reader, writer, recordings and replaying socket, checked
against vpp_papi's VPPStats on the same segments (no VPP needed)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from statseg_helpers import assert_matches_papi, every_type_snapshot
from vpp_papi.vpp_stats import VPPStats

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import (
    HEADER_IN_PROGRESS_OFFSET,
    SegmentBusy,
    SegmentError,
    StatsUnavailable,
    StatType,
)
from vppcomp.statseg.reader import SegmentReader
from vppcomp.statseg.recording import (
    RecordingError,
    RecordingWriter,
    read_frames,
)
from vppcomp.statseg.replay import SegmentServer, replay
from vppcomp.statseg.writer import SegmentWriter, build_segment


@pytest.fixture
def server(tmp_path: Path):
    with SegmentServer(tmp_path / "stats.sock", 4 << 20) as srv:
        yield srv


def papi(socket_path: str) -> VPPStats:
    stats = VPPStats(socket_path)
    stats.connect()
    return stats


def test_every_type_agrees_with_vpp_papi(server: SegmentServer) -> None:
    snapshot = every_type_snapshot(interfaces=5, threads=3, tag=2)
    server.publish(snapshot)
    ours = StatsClient(server.socket_path).snapshot()
    assert set(ours) == set(snapshot)
    stats = papi(server.socket_path)
    try:
        assert assert_matches_papi(ours, stats) == len(snapshot)
    finally:
        stats.disconnect()


def test_symlinks_resolve_to_target_columns() -> None:
    snapshot = SegmentReader(build_segment(every_type_snapshot(tag=5))).read()
    link = snapshot.symlink("/interfaces/if0/rx")
    assert link is not None and link.target == "/if/rx" and link.index == 0
    np.testing.assert_array_equal(snapshot["/interfaces/if0/rx"], snapshot["/if/rx"][:, 0])
    assert snapshot.total("/err/ip4-input/no-route") == 5 * 2


def test_values_update_in_place_without_new_epoch(server: SegmentServer) -> None:
    client = StatsClient(server.socket_path)
    server.publish(every_type_snapshot(tag=1))
    first = client.snapshot()
    server.publish(every_type_snapshot(tag=9))
    second = client.snapshot()
    assert first.epoch == second.epoch
    assert client.stats.plans == 1
    assert second["/sys/heartbeat"] == 109
    assert int(second["/if/drops"][0, 0]) == 9


def test_segment_grows_and_shrinks(server: SegmentServer) -> None:
    client = StatsClient(server.socket_path)
    for interfaces in (2, 40, 1, 7):
        server.publish(every_type_snapshot(interfaces=interfaces))
        snap = client.snapshot()
        assert len(snap["/if/names"]) == interfaces
        assert snap["/if/rx"].shape == (2, interfaces, 2)
    assert client.stats.plans == 4


def test_epoch_change_during_reads_is_never_torn(server: SegmentServer) -> None:
    """A writer changes the layout continuously (every publish bumps the
    epoch); every snapshot must come from exactly one published tag."""
    stop = threading.Event()

    def churn() -> None:
        tag = 0
        while not stop.is_set():
            tag += 1
            server.publish(every_type_snapshot(interfaces=2 + tag % 5, tag=tag))

    server.publish(every_type_snapshot(interfaces=2, tag=0))
    writer = threading.Thread(target=churn)
    writer.start()
    client = StatsClient(server.socket_path, max_retries=10_000, retry_sleep=0.0001)
    try:
        for _ in range(200):
            snap = client.snapshot()
            tag = snap["/sys/heartbeat"] - 100
            assert snap["/sys/vector_rate"] == 7 + tag
            assert len(snap["/if/names"]) == 2 + tag % 5
            assert set(np.unique(snap["/node/errors"]).tolist()) == {tag}
    finally:
        stop.set()
        writer.join()
    assert client.stats.snapshots == 200


def test_locked_segment_gives_up_after_bounded_retries(server: SegmentServer) -> None:
    server.publish(every_type_snapshot())
    client = StatsClient(server.socket_path, max_retries=20, retry_sleep=0.001)
    client.snapshot()
    assert server.writer is not None
    server.writer.buf[HEADER_IN_PROGRESS_OFFSET] = 1
    started = time.monotonic()
    with pytest.raises(SegmentBusy):
        client.snapshot()
    assert time.monotonic() - started < 5
    assert client.stats.retries >= 20 and client.stats.failures == 1
    server.writer.buf[HEADER_IN_PROGRESS_OFFSET] = 0
    assert client.snapshot()["/sys/heartbeat"] == 100


def test_restart_is_detected_and_counted(server: SegmentServer) -> None:
    client = StatsClient(server.socket_path, liveness_interval=0)
    server.publish(every_type_snapshot(tag=3))
    before = client.snapshot()
    server.restart()
    server.publish(every_type_snapshot(tag=0))
    after = client.snapshot()
    assert client.stats.restarts == 1
    assert before.segment_id != after.segment_id
    assert after["/sys/heartbeat"] == 100


def test_vanished_vpp_raises_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "stats.sock"
    client = StatsClient(str(path), liveness_interval=0)
    with pytest.raises(StatsUnavailable):
        client.snapshot()
    with SegmentServer(path, 1 << 20) as srv:
        srv.publish(every_type_snapshot(tag=1))
        assert client.snapshot()["/sys/heartbeat"] == 101
    with pytest.raises(StatsUnavailable):
        client.snapshot()
    assert not client.connected
    with SegmentServer(path, 1 << 20) as srv:
        srv.publish(every_type_snapshot(tag=2))
        assert client.snapshot()["/sys/heartbeat"] == 102
    assert client.stats.restarts == 1


def test_bad_version_is_a_clear_error() -> None:
    image = build_segment(every_type_snapshot())
    image[0] = 3
    with pytest.raises(SegmentError, match="version 3"):
        SegmentReader(image)


def test_corrupt_segments_never_crash_or_hang() -> None:
    """Flip random bytes of valid segments: every read ends quickly, with a
    snapshot or a SegmentError/SegmentBusy."""
    pristine = build_segment(every_type_snapshot(interfaces=6, threads=2, tag=4))
    rng = random.Random(7)
    outcomes = {"ok": 0, "error": 0}
    started = time.monotonic()
    for _ in range(3000):
        image = bytearray(pristine)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(image))
            if rng.random() < 0.5:
                image[position] = rng.randrange(256)
            else:  # aim at pointers and lengths: overwrite a whole word
                word = position // 8 * 8
                image[word : word + 8] = rng.randrange(1 << 64).to_bytes(8, "little")
        image[:8] = (2).to_bytes(8, "little")
        try:
            SegmentReader(image, max_retries=2, retry_sleep=0).read()
            outcomes["ok"] += 1
        except (SegmentError, SegmentBusy):
            outcomes["error"] += 1
    assert outcomes["error"] > 100 and outcomes["ok"] > 100, outcomes
    assert time.monotonic() - started < 120


def test_overlapping_vectors_are_rejected_not_copied_forever() -> None:
    """1,024 thread pointers all aimed at one large vector would copy the
    segment a thousand times; the reader refuses instead."""
    snap = every_type_snapshot(interfaces=2000, threads=1)
    image = build_segment(snap)
    reader = SegmentReader(image)
    reader.read()
    plan = reader._plan
    assert plan is not None
    _, vector = plan.counters["/if/rx"]
    data_ptr = SegmentWriter(bytearray(8)).base + vector.word_offsets[0] * 8
    threads_vec = _find_pointer_vector(image, data_ptr)
    image[threads_vec - 8 : threads_vec - 4] = (1024).to_bytes(4, "little")
    for t in range(1024):
        image[threads_vec + 8 * t : threads_vec + 8 * t + 8] = data_ptr.to_bytes(8, "little")
    with pytest.raises(SegmentError):
        SegmentReader(image, max_retries=0).read()


def _find_pointer_vector(image: bytearray, pointer: int) -> int:
    """Offset of the (first) 8-byte word in ``image`` that holds ``pointer``."""
    words = np.frombuffer(bytes(image), dtype="<u8")
    return int(np.flatnonzero(words == pointer)[0]) * 8


def test_recording_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rec.vppstats"
    written = [every_type_snapshot(interfaces=n, tag=t) for n, t in ((3, 1), (3, 2), (5, 3))]
    with RecordingWriter(path, source="test", interval=1) as writer:
        for index, snap in enumerate(written):
            snap.taken_at = 1000.0 + index
            writer.add(snap, instance=0 if index < 2 else 1)
    frames = list(read_frames(path))
    assert [f.instance for f in frames] == [0, 0, 1]
    for frame, original in zip(frames, written, strict=True):
        assert frame.snapshot.taken_at == original.taken_at
        image = build_segment(frame.snapshot)
        again = SegmentReader(image).read()
        for name in original:
            if original.type(name) in (StatType.COUNTER_VECTOR_SIMPLE,):
                np.testing.assert_array_equal(again[name], original[name])
        assert again["/if/names"] == original["/if/names"]
        assert again["/ipcomp/events"] == original["/ipcomp/events"]


def test_recording_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"not a recording at all")
    with pytest.raises(RecordingError, match="magic"):
        list(read_frames(bad))
    newer = tmp_path / "newer"
    newer.write_bytes(b"VPPCSTAT" + (9).to_bytes(2, "little") + bytes(6))
    with pytest.raises(RecordingError, match="version 9"):
        list(read_frames(newer))


def test_truncated_recording_ends_at_last_whole_frame(tmp_path: Path) -> None:
    path = tmp_path / "rec.vppstats"
    with RecordingWriter(path) as writer:
        for tag in range(3):
            writer.add(every_type_snapshot(tag=tag), instance=0)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    assert len(list(read_frames(path))) == 2


def test_replay_steps_through_frames_and_restarts(tmp_path: Path, server: SegmentServer) -> None:
    path = tmp_path / "rec.vppstats"
    with RecordingWriter(path) as writer:
        for tag in range(4):
            snap = every_type_snapshot(tag=tag)
            snap.taken_at = float(tag)
            writer.add(snap, instance=tag // 2)
    seen: list[int] = []
    client = StatsClient(server.socket_path, liveness_interval=0)
    original_publish = server.publish

    def publish_and_read(snapshot):  # type: ignore[no-untyped-def]
        original_publish(snapshot)
        seen.append(client.snapshot()["/sys/heartbeat"])

    server.publish = publish_and_read  # type: ignore[method-assign]
    assert replay(server, read_frames(path), speed=0) == 4
    assert seen == [100, 101, 102, 103]
    assert client.stats.restarts == 1


RECORDINGS = sorted((Path(__file__).parent / "data").glob("*.vppstats"))


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_shipped_recordings_replay_faithfully(path: Path, server: SegmentServer) -> None:
    """Recordings of real VPPs: each frame, replayed, reads the same through
    vpp_papi's VPPStats and through this reader."""
    frames = list(read_frames(path))
    assert frames, f"{path} holds no frame"
    server.stop()
    size = max(SegmentWriter.required_size(f.snapshot) for f in frames)
    with SegmentServer(server.socket_path, size) as replayed:
        client = StatsClient(replayed.socket_path, liveness_interval=0)
        for frame in frames:
            replayed.publish(frame.snapshot)
            ours = client.snapshot()
            stats = papi(replayed.socket_path)
            try:
                assert assert_matches_papi(ours, stats) == len(frame.snapshot)
            finally:
                stats.disconnect()
