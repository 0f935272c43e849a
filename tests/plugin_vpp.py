"""Helpers for live tests of the ipcomp plugin: build it against an installed
VPP, start VPPs that load it, drive packet-generator traffic and read its
stats-segment entries.

The build itself is :func:`vppcomp.demo.plugin_build.build_ipcomp_plugin`
(shared with the demo); the session fixture ``ipcomp_plugin`` runs it once
per run.
"""

from __future__ import annotations

import re
import struct
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_for

from vppcomp.demo.plugin_build import PluginBuild, build_ipcomp_plugin

EVENT_FORMAT = struct.Struct("<QHHIIHBBII16s16s")
EVENT_TYPES = {
    1: "sa-add",
    2: "sa-del",
    3: "engine-failure",
    4: "decompress-failure",
    5: "protect-add",
    6: "protect-del",
    7: "device-failure",
    8: "device-recovery",
    9: "engine-switch",
}
# ipcomp4/6-decompress error codes, in the order of the node's error list
DECOMPRESS_ERRORS = [
    "decompressed",
    "truncated",
    "bad-header",
    "fragment",
    "unknown-cpi",
    "nested",
    "too-big",
    "corrupt",
    "truncated-deflate",
    "bad-inner",
    "engine",
    "no-buffer",
    "restored-too-big",
    "offload-drop",
]


#: CLI lines of the sending VPP of the benches: pg0 the inner side
#: (10.0.0.1/24), pg1 the outer (192.168.1.1/24, peer 192.168.1.2 as a
#: neighbour), ipip0 to the peer, up and unnumbered on pg0, and
#: 172.16.0.0/16 routed into it; no IPComp yet (each bench adds its SA and
#: the protection)
SENDER_OVER_IPIP = """
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 10.0.0.1/24
        set interface ip address pg1 192.168.1.1/24
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg1 192.168.1.2 02:00:00:00:00:02
        create ipip tunnel src 192.168.1.1 dst 192.168.1.2 instance 0
        set interface state ipip0 up
        set interface unnumbered ipip0 use pg0
        ip route add 172.16.0.0/16 via ipip0
        """


def protected_tunnel(
    local: str, peer: str, cpi: int, sa_options: str = "", instance: int = 0, sa_id: int = 0
) -> str:
    """CLI lines for an ipip tunnel ``ipip<instance>`` from ``local`` to
    ``peer`` protected by one IPComp SA (id ``sa_id``, both directions) with
    ``sa_options`` (engine, level, threshold ...); the tunnel is left up."""
    return f"""
        create ipip tunnel src {local} dst {peer} instance {instance}
        ipcomp sa add local {local} peer {peer} cpi {cpi} id {sa_id} {sa_options}
        ipcomp protect ipip{instance} sa-out {sa_id} sa-in {sa_id}
        set interface state ipip{instance} up
        """


@pytest.fixture(scope="session")
def ipcomp_plugin(vpp_prefix: Path) -> PluginBuild:
    """The ipcomp plugin built against the VPP under test (once per session)."""
    return build_ipcomp_plugin(vpp_prefix)


def start_ipcomp_vpp(
    vpp_factory: Callable[..., Any],
    plugin: PluginBuild,
    extra_plugins: Iterable[str] = (),
    startup_extra: str = "",
) -> Any:
    """A VPP with the ipcomp plugin loaded (buffers big enough for 9000-byte
    frames in one pg buffer are not assumed: default 2 KiB buffers)."""
    return vpp_factory(
        plugins=("ipcomp", *extra_plugins),
        plugin_dirs=[plugin.plugin_dir],
        api_dirs=[plugin.api_dir],
        startup_extra=startup_extra,
    )


def cli_ok(vpp: Any, command: str) -> str:
    """Run a CLI command; fail on an error reply."""
    out = vpp.cli(command)
    low = out.lower()
    assert "unknown input" not in low and "error" not in low, f"{command!r}: {out}"
    return out


def cli_script(vpp: Any, commands: str) -> None:
    for line in commands.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            cli_ok(vpp, line)


def pg_replay(
    vpp: Any,
    name: str,
    frames: list[bytes],
    interface: str,
    capture: dict[str, int] | None = None,
    timeout: float = 60.0,
    sends: dict[str, int] | None = None,
    until: Callable[[], bool] | None = None,
) -> dict[str, list[bytes]]:
    """Send ``frames`` (Ethernet) into ``interface`` with the packet generator
    and capture what leaves the pg interfaces in ``capture`` (name -> most
    frames kept).  Returns the captured frames per interface.

    Once the stream has ended, the frames VPP handled in the same graph
    dispatch (one thread, synchronous engines) have left; frames still held
    elsewhere (a worker's queue, a device's ops, a time-out) have not.  A
    caller that sends through such a path says when VPP is done with them:
    ``sends`` (interface -> frames it must send, counted from before the
    stream, as :func:`interface_packets` counts them) or, for anything else,
    ``until`` (a condition).  Both are waited for, ``timeout`` s at most
    (then the test fails), before the captures close."""
    from scapy.utils import rdpcap, wrpcap

    work = Path(vpp.workdir)
    src = work / f"{name}-in.pcap"
    wrpcap(str(src), [_raw_ether(f) for f in frames])
    outs: dict[str, Path] = {}
    for ifname, count in (capture or {}).items():
        out = work / f"{name}-{ifname}-out.pcap"
        out.unlink(missing_ok=True)
        outs[ifname] = out
        cli_ok(vpp, f"packet-generator capture {ifname} pcap {out} count {max(count, 1)}")
    cli_ok(
        vpp,
        f"packet-generator new {{ name {name} limit {len(frames)} node ethernet-input "
        f"interface {interface} pcap {src} }}",
    )
    sent_before = {ifname: interface_packets(vpp, ifname) for ifname in sends or {}}
    cli_ok(vpp, f"packet-generator enable-stream {name}")
    wait_for(
        lambda: vpp.cli("show packet-generator"),
        lambda out: name not in out or _stream_done(out, name),
        f"packet-generator stream {name} to send its {len(frames)} frames",
        timeout,
        interval=0.2,
    )
    for ifname, n in (sends or {}).items():
        wait_for(
            lambda ifname=ifname: interface_packets(vpp, ifname) - sent_before[ifname],
            lambda sent, n=n: sent >= n,
            f"{ifname} to send {n} frames of stream {name}",
            timeout,
        )
    if until is not None:
        wait_for(until, bool, f"VPP to be done with stream {name}'s frames", timeout)
    time.sleep(0.3)  # a moment for a stray extra frame (a duplicate) to be captured too
    result: dict[str, list[bytes]] = {}
    for ifname, out in outs.items():
        vpp.cli(f"packet-generator capture {ifname} disable")
        result[ifname] = [bytes(p) for p in rdpcap(str(out))] if out.exists() else []
    vpp.cli(f"packet-generator delete {name}")
    return result


def pg_through(vpp: Any, name: str, frames: list[bytes], sent: int | None = None) -> list[bytes]:
    """:func:`pg_replay` of ``frames`` into pg0 that waits until pg1 has sent
    ``sent`` frames (default: one per frame) and returns what pg1 sent, with
    room for a few more, so that a duplicate is seen."""
    n = len(frames) if sent is None else sent
    return pg_replay(vpp, name, frames, "pg0", capture={"pg1": n + 8}, sends={"pg1": n})["pg1"]


def _stream_done(show: str, name: str) -> bool:
    for line in show.splitlines():
        if line.split()[:1] == [name]:
            return "No" in line.split()
    return True


def _raw_ether(frame: bytes) -> Any:
    from scapy.layers.l2 import Ether

    return Ether(frame)


# --- stats segment -------------------------------------------------------


def stats_client(vpp: Any) -> Any:
    from vpp_papi.vpp_stats import VPPStats

    client = VPPStats(str(vpp.stats_socket))
    client.connect()
    return client


def interface_packets(vpp: Any, ifname: str, direction: str = "tx") -> int:
    """Packets ``ifname`` sent (``tx``) or received (``rx``) so far, as
    ``show interface`` counts them: as they pass, not at a stats refresh."""
    found = re.search(rf"\b{direction} packets\s+(\d+)", vpp.cli(f"show interface {ifname}"))
    return int(found.group(1)) if found else 0  # VPP leaves out counters still 0


def wait_collector_passes(vpp: Any, passes: int = 2) -> None:
    """Wait until VPP's stats collector has refreshed the segment ``passes``
    times after this call (``/sys/heartbeat`` moved by that much): what it
    publishes only at a refresh (``/sys/node/*``, the ``/sys`` scalars) then
    covers everything VPP did before the call.  Two by default, as the pass
    under way at the call may have begun before it."""
    stats = stats_client(vpp)
    try:
        start = int(stats["/sys/heartbeat"])
        wait_for(
            lambda: int(stats["/sys/heartbeat"]),
            lambda beat: beat >= start + passes,
            f"{passes} refreshes of VPP's stats collector after heartbeat {start}",
        )
    finally:
        stats.disconnect()


def sa_counter(stats: Any, name: str, sa_index: int) -> tuple[int, int]:
    """(packets, bytes) of /net/ipcomp/sa/<name> for one SA, summed over threads."""
    rows = stats[f"/net/ipcomp/sa/{name}"]
    packets = sum(row[sa_index][0] for row in rows)
    octets = sum(row[sa_index][1] for row in rows)
    return packets, octets


def error_counter(stats: Any, node: str, name: str) -> int:
    """A node error counter (summed over threads); 0 when absent."""
    try:
        return int(stats[f"/err/{node}/{name}"].sum())
    except KeyError:
        return 0


def assert_send_counters(stats: Any, outer: int, expect: dict[str, list[int]], frames: int) -> None:
    """SA 0's send-side counters and the compress node's counters equal what
    the capture showed: ``expect[verdict]`` is ``[packets, bytes in, bytes
    out]`` for compressed, ``[packets, bytes]`` otherwise (``incompressible``:
    sent uncompressed above the threshold, i.e. incompressible + backoff);
    every one of the ``frames`` sent was sized by the payload histogram."""
    assert sa_counter(stats, "compressed-in", 0) == tuple(expect["compressed"][:2])
    assert sa_counter(stats, "compressed-out", 0) == (
        expect["compressed"][0],
        expect["compressed"][2],
    )
    assert sa_counter(stats, "bypass", 0) == tuple(expect["bypass"])
    # above the threshold and sent uncompressed: the engine found it
    # incompressible, or the adaptive back-off skipped the engine
    tried = sa_counter(stats, "incompressible", 0)
    skipped = sa_counter(stats, "backoff", 0)
    assert (tried[0] + skipped[0], tried[1] + skipped[1]) == tuple(expect["incompressible"])
    assert sa_counter(stats, "tx-errors", 0) == (0, 0)
    node = f"ipcomp{outer}-compress"
    for verdict in ("compressed", "bypass"):
        assert error_counter(stats, node, verdict) == expect[verdict][0], verdict
    assert (
        error_counter(stats, node, "incompressible") + error_counter(stats, node, "backoff")
        == expect["incompressible"][0]
    )
    assert stats["/net/ipcomp/hist/compress-in-bytes"].sum() == frames


def engine_attempts(stats: Any, expect: dict[str, list[int]]) -> int:
    """Compress calls SA 0 made: every compressed packet plus those the engine
    found incompressible (not those the adaptive back-off skipped)."""
    return expect["compressed"][0] + sa_counter(stats, "incompressible", 0)[0]


def read_events(stats: Any) -> list[dict[str, Any]]:
    """Every record still in /net/ipcomp/events, oldest first per thread,
    decoded as README.md documents the format."""
    ring = stats.get_ring_buffer("/net/ipcomp/events")
    cfg = ring.config
    seg = ring.stats.statseg
    events = []
    for thread in range(cfg["n_threads"]):
        meta = ring._get_thread_metadata(thread)
        n = min(meta["sequence"], cfg["ring_size"])
        for i in range(n):
            slot = (meta["head"] - n + i) % cfg["ring_size"]
            off = ring.data_ptr + (thread * cfg["ring_size"] + slot) * cfg["entry_size"]
            raw = bytes(seg[off : off + EVENT_FORMAT.size])
            fields = EVENT_FORMAT.unpack(raw)
            events.append(
                {
                    "thread": thread,
                    "timestamp_ns": fields[0],
                    "type": EVENT_TYPES.get(fields[1], str(fields[1])),
                    "reason": fields[2],
                    "sa_index": fields[3],
                    "sa_id": fields[4],
                    "cpi": fields[5],
                    "is_ip6": fields[6],
                    "engine_index": fields[7],
                    "sw_if_index": fields[8],
                    "length": fields[9],
                    "src": fields[10],
                    "dst": fields[11],
                }
            )
    return events
