"""The stats-segment reader, writer, recordings and replaying socket, checked
against vpp_papi's VPPStats on the same segments (no VPP needed)."""

from __future__ import annotations

import random
import re
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from statseg_helpers import assert_matches_papi, every_type_snapshot
from vpp_papi.vpp_stats import VPPStats

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import (
    DIRECTORY_ENTRY_DTYPE,
    HEADER,
    HEADER_EPOCH_OFFSET,
    HEADER_IN_PROGRESS_OFFSET,
    RING_BUFFER_HEADER,
    SegmentBusy,
    SegmentError,
    StatsUnavailable,
    StatType,
)
from vppcomp.statseg.names import NAMES
from vppcomp.statseg.reader import SegmentReader
from vppcomp.statseg.recording import (
    RecordingError,
    RecordingWriter,
    read_frames,
)
from vppcomp.statseg.replay import SegmentServer, replay
from vppcomp.statseg.snapshot import RingBuffer, RingThread, snapshot_from_mapping
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
    ours = StatsClient(server.socket_path).snapshot(ring_records=True)
    assert set(ours) == set(snapshot)
    assert all(t.records for t in ours["/ipcomp/events"].threads)
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
    client = StatsClient(server.socket_path, busy_timeout=10)
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
    client = StatsClient(server.socket_path, busy_timeout=0.1)
    client.snapshot()
    assert server.writer is not None
    server.writer.buf[HEADER_IN_PROGRESS_OFFSET] = 1
    started = time.monotonic()
    with pytest.raises(SegmentBusy, match=r"\((\d+) attempts\)") as busy:
        client.snapshot()
    assert time.monotonic() - started >= 0.1  # the whole budget, however slow the machine
    # every attempt after the first was a counted retry; how many fit in the
    # budget depends on how the reader was scheduled, at least two did
    attempts = int(re.search(r"\((\d+) attempts\)", str(busy.value)).group(1))
    assert attempts >= 2 and client.stats.retries == attempts - 1
    assert attempts <= most_attempts(0.1) and client.stats.failures == 1
    server.writer.buf[HEADER_IN_PROGRESS_OFFSET] = 0
    assert client.snapshot()["/sys/heartbeat"] == 100


def most_attempts(busy_timeout: float) -> int:
    """The most attempts a read can make in ``busy_timeout`` s on the fastest
    machine: it stops at the first failed attempt past the budget, and the
    sleeps between attempts (0.5 ms doubling up to 10 ms, the reader's
    contract) alone fill it; a slow machine makes fewer."""
    attempts, slept, sleep = 2, 0.0, 0.0005  # at least two attempts
    while slept + sleep < busy_timeout:  # attempt k + 1 still within the budget
        slept += sleep
        sleep = min(sleep * 2, 0.01)
        attempts += 1
    return attempts


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
    snapshot (maybe naming bad entries it left out) or a SegmentError /
    SegmentBusy."""
    pristine = build_segment(every_type_snapshot(interfaces=6, threads=2, tag=4))
    rng = random.Random(7)
    outcomes = {"ok": 0, "partial": 0, "error": 0}
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
            snap = SegmentReader(image, busy_timeout=0).read(ring_records=True)
            outcomes["partial" if snap.bad_entries else "ok"] += 1
        except (SegmentError, SegmentBusy):
            outcomes["error"] += 1
    assert min(outcomes.values()) > 20, outcomes
    assert time.monotonic() - started < 120


def test_overlapping_vectors_are_rejected_not_copied_forever() -> None:
    """1,024 thread pointers all aimed at one large vector would copy the
    segment a thousand times; the reader leaves that vector out instead."""
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
    again = SegmentReader(image, busy_timeout=0).read()
    assert re.search(
        "overruns segment|more data than the segment holds", again.bad_entries["/if/rx"]
    )
    assert "/if/rx" not in again and again["/if/drops"].shape == (1, 2000)


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
        again = SegmentReader(image).read(ring_records=True)
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


# -- one bad entry, ring races, a lock held long ------------------------------


def _directory(image: bytearray) -> np.ndarray:
    """The directory of a segment image as a writable structured array."""
    _, base, _, _, dir_ptr = HEADER.unpack_from(image, 0)
    (count,) = struct.unpack_from("<I", image, dir_ptr - base - 8)
    return np.frombuffer(image, DIRECTORY_ENTRY_DTYPE, count, dir_ptr - base)


def _row(directory: np.ndarray, name: str) -> int:
    return [n.decode() for n in directory["name"].tolist()].index(name)


def test_dangling_symlink_is_left_out_and_named_the_rest_is_read() -> None:
    image = build_segment(every_type_snapshot(interfaces=4, tag=3))
    directory = _directory(image)
    directory["value"][_row(directory, "/err/ip4-input/no-route")] = 9999  # no such entry
    snap = SegmentReader(image).read()
    assert "/err/ip4-input/no-route" not in snap
    assert list(snap.bad_entries) == ["/err/ip4-input/no-route"]
    assert "symlink to entry 9999" in snap.bad_entries["/err/ip4-input/no-route"]
    assert snap["/sys/heartbeat"] == 103
    np.testing.assert_array_equal(snap["/interfaces/if0/rx"], snap["/if/rx"][:, 0])
    assert len(snap) == len(every_type_snapshot(interfaces=4)) - 1


def test_bad_pointer_in_one_vector_leaves_out_that_vector_and_its_symlinks() -> None:
    image = build_segment(every_type_snapshot(interfaces=4, threads=2, tag=3))
    reader = SegmentReader(image)
    plan_vector = reader.read()  # pristine
    assert not plan_vector.bad_entries
    directory = _directory(image)
    _, base, epoch, _, _ = HEADER.unpack_from(image, 0)
    threads_vec = int(directory["value"][_row(directory, "/if/rx")]) - base
    image[threads_vec + 8 : threads_vec + 16] = (base + len(image) * 2).to_bytes(8, "little")
    epoch_word = slice(HEADER_EPOCH_OFFSET, HEADER_EPOCH_OFFSET + 8)
    image[epoch_word] = (epoch + 1).to_bytes(8, "little")  # as VPP would, to re-plan
    snap = reader.read()
    assert set(snap.bad_entries) == {"/if/rx", "/interfaces/if0/rx"}
    assert "/if/rx[1]: bad vector pointer" in snap.bad_entries["/if/rx"]
    assert "/if/rx" not in snap and "/interfaces/if0/rx" not in snap
    np.testing.assert_array_equal(snap["/if/drops"], plan_vector["/if/drops"])
    assert snap.total("/err/ip4-input/no-route") == 3 * 2
    assert reader.stats.bad_entries == 2


def test_bad_directory_still_fails_the_snapshot() -> None:
    image = build_segment(every_type_snapshot())
    version, base, epoch, in_progress, _ = HEADER.unpack_from(image, 0)
    HEADER.pack_into(image, 0, version, base, epoch, in_progress, base + (1 << 40))
    with pytest.raises(SegmentError, match="directory"):
        SegmentReader(image, busy_timeout=0).read()


def _ring_segment(ring_size: int, sequence: int, entry_size: int = 32) -> bytearray:
    """A segment with one single-thread ring holding records
    ``max(0, sequence - ring_size) .. sequence - 1``; record ``k`` is the byte
    ``k % 256`` repeated (in slot ``k % ring_size``, as VPP places it)."""
    kept = range(max(sequence - ring_size, 0), sequence)
    ring = RingBuffer(
        entry_size,
        ring_size,
        1,
        b"",
        [RingThread(sequence % ring_size, sequence, [bytes([k % 256]) * entry_size for k in kept])],
    )
    return build_segment(snapshot_from_mapping({"/ring": (StatType.RING_BUFFER, ring)}))


def _ring_slots(image: bytearray) -> tuple[int, int, int]:
    """(data offset, metadata offset, ring size) of the segment's only ring."""
    directory = _directory(image)
    _, base, _, _, _ = HEADER.unpack_from(image, 0)
    ring = int(directory["value"][0]) - base
    _, ring_size, _, _, _, meta_off, data_off = RING_BUFFER_HEADER.unpack_from(image, ring)
    return ring + data_off, ring + meta_off, ring_size


def test_ring_slot_being_written_is_never_returned() -> None:
    """A full ring: VPP has copied half of record 12 into slot 12 % 8 (the
    oldest record's slot) and not yet advanced head and sequence."""
    image = _ring_segment(ring_size=8, sequence=12)
    data, _, size = _ring_slots(image)
    slot = data + 12 % size * 32
    image[slot : slot + 16] = bytes([12]) * 16  # half written
    thread = SegmentReader(image).read(ring_records=True)["/ring"].threads[0]
    assert thread.sequence == 12 and thread.first_sequence == 5
    assert thread.records == [bytes([k]) * 32 for k in range(5, 12)]


def test_ring_records_are_copied_only_when_asked() -> None:
    image = _ring_segment(ring_size=8, sequence=3)
    reader = SegmentReader(image)
    without = reader.read()["/ring"].threads[0]
    assert without.sequence == 3 and without.records == [] and without.first_sequence == 3
    with_records = reader.read(ring_records=True)["/ring"].threads[0]
    assert with_records.records == [bytes([k]) * 32 for k in range(3)]


def test_ring_reads_interleaved_with_a_producer_keep_only_whole_records() -> None:
    """A producer thread writes records the way vlib_stats_ring_produce does
    (copy into slot head in two halves, advance head, then sequence) while the
    reader reads: every record returned is whole and numbered right."""
    image = _ring_segment(ring_size=4, sequence=0)
    data, meta, size = _ring_slots(image)
    stop = threading.Event()

    def produce() -> None:
        sequence = 0
        while not stop.is_set():
            slot = data + sequence % size * 32
            image[slot : slot + 16] = bytes([sequence % 256]) * 16
            time.sleep(0)
            image[slot + 16 : slot + 32] = bytes([sequence % 256]) * 16
            image[meta : meta + 4] = ((sequence + 1) % size).to_bytes(4, "little")
            time.sleep(0)
            sequence += 1
            image[meta + 8 : meta + 16] = sequence.to_bytes(8, "little")
            time.sleep(0)

    producer = threading.Thread(target=produce)
    producer.start()
    reader = SegmentReader(image)
    reads = seen = 0
    # how many records a read finds depends on how the threads are scheduled
    # (a busy machine starves the producer), so read until enough were
    # checked rather than a fixed number of times
    deadline = time.monotonic() + 60
    try:
        while (reads < 3000 or seen < 1000) and time.monotonic() < deadline:
            thread = reader.read(ring_records=True)["/ring"].threads[0]
            for i, record in enumerate(thread.records):
                assert record == bytes([(thread.first_sequence + i) % 256]) * 32
            seen += len(thread.records)
            reads += 1
    finally:
        stop.set()
        producer.join()
    assert seen >= 1000, f"{seen} records checked in {reads} reads within 60 s"


def test_lock_held_longer_than_a_few_ms_is_waited_out(server: SegmentServer) -> None:
    """VPP holds the lock for 200 ms (config churn): the default budget waits
    it out; a shorter busy_timeout gives up while VPP still holds it, after
    that long."""
    server.publish(every_type_snapshot())
    assert server.writer is not None
    writer = server.writer

    patient = StatsClient(server.socket_path)
    patient.snapshot()
    writer.buf[HEADER_IN_PROGRESS_OFFSET] = 1
    release = threading.Timer(0.2, lambda: writer.buf.__setitem__(HEADER_IN_PROGRESS_OFFSET, 0))
    release.start()
    assert patient.snapshot()["/sys/heartbeat"] == 100
    release.join()
    assert patient.stats.failures == 0 and patient.stats.retries > 0

    # held until the reader gave up: a lock VPP did not release in time,
    # whatever the machine's speed (a timed release could come first)
    hasty = StatsClient(server.socket_path, busy_timeout=0.05)
    hasty.snapshot()
    writer.buf[HEADER_IN_PROGRESS_OFFSET] = 1
    started = time.monotonic()
    with pytest.raises(SegmentBusy, match=r"0\.05 s") as busy:
        hasty.snapshot()
    waited = time.monotonic() - started
    writer.buf[HEADER_IN_PROGRESS_OFFSET] = 0
    assert waited >= 0.05  # not before its budget ran out
    # nor long after: no more attempts than the budget's sleeps allow (a
    # duration bound would fail on a slow machine, an attempt count does not)
    attempts = int(re.search(r"\((\d+) attempts\)", str(busy.value)).group(1))
    assert 2 <= attempts <= most_attempts(0.05), str(busy.value)
    assert hasty.snapshot()["/sys/heartbeat"] == 100


def test_names_are_reused_across_plans_only_where_unchanged() -> None:
    """A renamed entry, a new tail and the whole index follow the segment
    while unchanged names are the same objects as in the last plan."""
    NAMES.clear()
    first = SegmentReader(build_segment(every_type_snapshot(interfaces=3))).read()
    again = SegmentReader(build_segment(every_type_snapshot(interfaces=3, tag=7))).read()
    assert again.types is not first.types and list(again) == list(first)
    assert again.types._rows is first.types._rows  # same names, same listed rows: one index
    image = build_segment(every_type_snapshot(interfaces=3))
    directory = _directory(image)
    row = _row(directory, "/interfaces/if0/rx")
    directory["name"][row] = b"/interfaces/renamed/rx"
    renamed = SegmentReader(image).read()
    assert "/interfaces/renamed/rx" in renamed and "/interfaces/if0/rx" not in renamed
    np.testing.assert_array_equal(renamed["/interfaces/renamed/rx"], renamed["/if/rx"][:, 0])
    bigger = every_type_snapshot(interfaces=3)
    bigger.types["/sys/extra"] = StatType.SCALAR_INDEX  # one more entry at the end
    bigger.values["/sys/extra"] = 42
    grown = SegmentReader(build_segment(bigger)).read()
    assert grown["/sys/extra"] == 42 and len(grown) == len(first) + 1


def test_combined_vector_without_threads_reads_as_empty() -> None:
    """A combined vector whose thread vector is empty (as a plan may see it
    while VPP rewrites the segment) is an empty array, not a crash."""
    image = build_segment(every_type_snapshot())
    directory = _directory(image)
    _, base, _, _, _ = HEADER.unpack_from(image, 0)
    threads_vec = int(directory["value"][_row(directory, "/if/rx")]) - base
    image[threads_vec - 8 : threads_vec - 4] = (0).to_bytes(4, "little")
    snap = SegmentReader(image).read()
    assert snap["/if/rx"].shape == (0, 0, 2)
    assert "/interfaces/if0/rx" in snap.bad_entries  # index 0 of an empty vector
