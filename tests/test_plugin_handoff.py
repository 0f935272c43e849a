"""Live tests of ``ipcomp decompress-workers``: one tunnel's receive spread
over threads (plugin/ipcomp/ipcomp_handoff.c).

One VPP (``setup_b``: the receiving end of a protected ipip tunnel) with one
worker; the packet generator feeds the peer's compressed packets (Python's
zlib) into pg0 on the worker, so without the handoff every packet of the
tunnel is decompressed there.  This machine has 2 CPUs and VPP pins one
thread per CPU, so the second decompressing thread is the main thread
(``main``), the only other thread VPP can run here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from ipcomp_traffic import (
    compressed_frames,
    forwarded,
    inner_frames,
    inner_packet,
    inner_sequence,
    reorder,
    setup_b,
    tunnel_sw_if_index,
)
from plugin_cdev import cdev_conf, cdev_plugin, have_pmd, wait_drained  # noqa: F401
from plugin_vpp import (
    cli_ok,
    error_counter,
    ipcomp_plugin,  # noqa: F401 - fixture
    pg_replay,
    pg_through,
    start_ipcomp_vpp,
    stats_client,
)

from vppcomp.demo.plugin_build import PluginBuild

ONE_WORKER = "cpu { workers 1 }"


def per_thread(stats: Any, name: str) -> list[int]:
    """A simple counter (node error) per thread: [main, worker 0, ...]."""
    return [int(v) for v in stats[name]]


def test_decompress_workers_cli_and_api(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """Off by default; a worker list (and/or ``main``) turns it on, ``off``
    turns it off; no such worker, a repeated worker and batch 0 are refused
    with a message (CLI) or an error code (API) and change nothing; the main
    thread polls exactly while it is listed."""
    vpp = start_ipcomp_vpp(vpp_factory, ipcomp_plugin, startup_extra=ONE_WORKER)
    api = vpp.api().api
    assert "decompress-workers: off (queue-size 64)" in vpp.cli("show ipcomp decompress-workers")
    reply = api.ipcomp_decompress_workers_get()
    assert (reply.n_workers, reply.main_thread, reply.queue_size) == (0, False, 64)

    poll = "show node ipcomp-decompress-main-poll"
    assert "state disabled" in vpp.cli(poll)
    cli_ok(vpp, "ipcomp decompress-workers 0 main batch 8")
    assert "decompress-workers: 0 main batch 8" in vpp.cli("show ipcomp decompress-workers")
    # the main thread, while it decompresses, polls instead of sleeping
    assert "state polling" in vpp.cli(poll)
    for bad, message in [
        ("1", "no such worker"),
        ("0 batch 0", "batch must be at least 1"),
        ("", "expected a worker list"),
        ("0 off", "expected a worker list"),
    ]:
        assert message in vpp.cli(f"ipcomp decompress-workers {bad}"), bad
    reply = api.ipcomp_decompress_workers_get()
    assert (list(reply.workers), reply.main_thread, reply.batch) == ([0], True, 8)

    assert api.ipcomp_decompress_workers_set(workers=[0, 0], n_workers=2).retval == -89
    assert api.ipcomp_decompress_workers_set(workers=[1], n_workers=1).retval == -89
    assert api.ipcomp_decompress_workers_set(workers=[0], n_workers=1, batch=0).retval == -7
    assert api.ipcomp_decompress_workers_set(workers=[0], n_workers=1, batch=4).retval == 0
    reply = api.ipcomp_decompress_workers_get()
    assert (list(reply.workers), reply.main_thread, reply.batch) == ([0], False, 4)
    assert "state disabled" in vpp.cli(poll)
    cli_ok(vpp, "ipcomp decompress-workers off")
    assert api.ipcomp_decompress_workers_get().n_workers == 0
    assert "decompress-workers: off" in vpp.cli("show ipcomp decompress-workers")


@pytest.mark.parametrize("outer", [4, 6])
def test_one_tunnel_decompressed_on_two_threads(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
    outer: int,
) -> None:
    """With ``decompress-workers 0 main batch 8`` the packets of one tunnel,
    all received by worker 0, are decompressed half on worker 0 and half on
    the main thread (runs of 8: per-thread counters exact), every one
    arrives restored, packets handed to one thread keep their order, and the
    reorder between the threads is measured (printed)."""
    b = start_ipcomp_vpp(vpp_factory, ipcomp_plugin, startup_extra=ONE_WORKER)
    setup_b(b, outer, "isal")
    rng = random.Random(7)
    n = 512
    inners = [inner_packet(4, 1400, "text", seq, rng) for seq in range(n)]
    frames = compressed_frames(outer, inners)

    # without the handoff: everything on worker 0 (thread 1)
    pg_replay(b, "before", frames[:64], "pg0")
    stats = stats_client(b)
    node = f"ipcomp{outer}-decompress"
    try:
        assert per_thread(stats, f"/err/{node}/decompressed") == [0, 64]
        cli_ok(b, "ipcomp decompress-workers 0 main batch 8")
        # the main thread's half is handed over: done once pg1 sent them all
        got = pg_through(b, "spread", frames, n)
        restored = inner_frames(got, 4)
        assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 1) for p in inners)
        # runs of 8: seq // 8 even -> worker 0 (thread 1), odd -> main
        assert per_thread(stats, f"/err/{node}/decompressed") == [n // 2, 64 + n // 2]
        sa_rows = stats["/net/ipcomp/sa/decompressed-in"]
        assert [row[0][0] for row in sa_rows] == [n // 2, 64 + n // 2]
        assert error_counter(stats, f"{node}-handoff", "handed-off") == n
        assert error_counter(stats, f"{node}-handoff", "congestion-drop") == 0
    finally:
        stats.disconnect()
    seqs = [inner_sequence(f) for f in restored]
    for thread in (0, 1):
        mine = [s for s in seqs if s // 8 % 2 == thread]
        assert mine == sorted(mine), f"order within the thread taking runs {thread}"
    late, distance = reorder(seqs)
    print(
        f"outer IPv{outer}: {n} packets, batch 8 over 2 threads: {late} arrived after a "
        f"later one, largest displacement {distance}"
    )


def test_congestion_drops_are_counted(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """A frame queue of 16 elements to a thread slower than the sender (the
    worker receives at full speed and hands everything to the main thread):
    drops are counted as ``congestion-drop``, and every packet sent is either
    decompressed and decapsulated by ipip or counted there."""
    b = start_ipcomp_vpp(
        vpp_factory,
        ipcomp_plugin,
        startup_extra=ONE_WORKER + "\nipcomp { decompress-queue-size 16 }",
    )
    setup_b(b, 4, "isal")
    cli_ok(b, "ipcomp decompress-workers main batch 256")
    assert "queue-size 16" in b.cli("show ipcomp decompress-workers")
    rng = random.Random(8)
    inners = [inner_packet(4, 1400, "text", seq, rng) for seq in range(500)]
    frames = compressed_frames(4, inners) * 40
    tunnel = tunnel_sw_if_index(b)
    stats = stats_client(b)
    try:

        def decapsulated() -> int:
            # ipip counts what it decapsulated on the tunnel (pg1 also sends ND/ARP)
            return int(stats["/if/rx"][:, tunnel].sum_packets())

        # the main thread still works through its queue when the stream ends
        pg_replay(
            b,
            "flood",
            frames,
            "pg0",
            timeout=120,
            until=lambda: (
                decapsulated() >= error_counter(stats, "ipcomp4-decompress-handoff", "handed-off")
            ),
        )
        handed = error_counter(stats, "ipcomp4-decompress-handoff", "handed-off")
        dropped = error_counter(stats, "ipcomp4-decompress-handoff", "congestion-drop")
        decompressed = per_thread(stats, "/err/ipcomp4-decompress/decompressed")
        sent_on = decapsulated()
    finally:
        stats.disconnect()
    print(
        f"{len(frames)} sent: {handed} handed off, {dropped} congestion drops, "
        f"decompressed per thread {decompressed}, {sent_on} decapsulated"
    )
    assert dropped > 0
    assert handed + dropped == len(frames)
    assert decompressed == [handed, 0]
    assert sent_on == handed


def test_handed_packets_on_an_asynchronous_engine(
    vpp_factory: Callable[..., Any],
    cdev_plugin: PluginBuild,  # noqa: F811
) -> None:
    """With the SA on the compressdev engine, packets handed to the main
    thread go to the device through the main thread's own queue pair and
    are finished by its -post twin there: every one arrives, counted under
    ipcomp4-decompress on the thread that did the work."""
    if not have_pmd("compress_isal0"):
        pytest.skip("no compress_isal PMD")
    b = start_ipcomp_vpp(
        vpp_factory,
        cdev_plugin,
        startup_extra=cdev_conf("compress_isal0") + "\n" + ONE_WORKER,
    )
    setup_b(b, 4, "compressdev")
    cli_ok(b, "ipcomp decompress-workers 0 main batch 8")
    rng = random.Random(9)
    n = 256
    inners = [inner_packet(4, 1400, "text", seq, rng) for seq in range(n)]
    got = pg_through(b, "spread", compressed_frames(4, inners), n)
    restored = inner_frames(got, 4)
    assert sorted(f[14:] for f in restored) == sorted(forwarded(p, 1) for p in inners)
    wait_drained(b)
    stats = stats_client(b)
    try:
        assert per_thread(stats, "/err/ipcomp4-decompress/decompressed") == [n // 2, n // 2]
        enq = stats["/net/ipcomp/offload/enqueued"]
        assert (int(enq[0][0]), int(enq[1][0])) == (n // 2, n // 2)
        assert error_counter(stats, "ipcomp4-decompress-handoff", "handed-off") == n
    finally:
        stats.disconnect()
