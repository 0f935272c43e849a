"""Make the operator recordings: stats segments of a real VPP running the
ipcomp plugin, each showing what a dashboard panel or an alert is about.

    VPP_PREFIX=/opt/vpp .venv/bin/python tests/data/record_scenarios.py [SCENARIO ...]

Scenarios (default: all), each written to ``tests/data/vpp-ipcomp-<name>.vppstats``
with the plugin's binary-API answers (``ipcomp_sa_dump``,
``ipcomp_engine_dump``) beside it as ``vpp-ipcomp-<name>_api.json``
(:class:`vppcomp.topology.api_source.RecordedSource` replays them):

* ``traffic``: software engine (isal); SA 1 carries compressible text and
  small packets, SA 2 random payloads (incompressible); the peer of SA 1 sends
  valid IPComp packets and malformed ones: unknown CPI, nested, truncated
  header, corrupt and truncated deflate, wrong inner packet, a decompression
  bomb (every drop reason of the decompressor's list that input can cause).
* ``offload``: the ``compressdev`` engine on DPDK's ``compress_isal0``
  (queue-size 4, mbuf-size 2048): bursts overflow the queue pair
  (``queue-full`` fallback), packets above 2048 bytes take the ``too-big``
  fallback, corrupt input from the peer fails on the device (``data-error``
  fallback, then ``bad-inner`` in software), random payloads run out of
  space on the device (incompressible); from 8 s to 14 s the device is
  marked failed (``set ipcomp offload fail``: ``device-error`` fallback,
  device-failure and device-recovery events), from 18 s to 21 s the policy
  is ``drop`` (``offload-drop`` instead of a fallback).
* ``restart``: zlib engine, traffic both ways; at 10 s VPP is stopped and
  started again with the same configuration, and traffic resumes.

One VPP per scenario, one main thread, no NICs: ``pg0`` is the inner side
(10.0.0.1/24), ``pg1`` the outer one (192.168.1.1/24, peers .2 and .3).
Traffic is sent in bursts, one per second, of the same packets every run
(fixed seeds); counters then differ between runs only by timing. The SA
set-up goes through :func:`add_tunnel` alone, so a change of the plugin's
tunnel CLI is a change of that function.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

from plugin_vpp import cli_script  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

from vppcomp.demo.plugin_build import PluginBuild, build_ipcomp_plugin  # noqa: E402
from vppcomp.demo.vpp_process import VppInstance, vpp_prefix  # noqa: E402
from vppcomp.statseg.client import StatsClient  # noqa: E402
from vppcomp.statseg.recording import record  # noqa: E402
from vppcomp.topology.api_source import PapiSource, RecordingSource  # noqa: E402

DATA = TESTS / "data"
LOCAL = "192.168.1.1"
CPI = {1: 0x1234, 2: 0x1235}
PEER = {1: "192.168.1.2", 2: "192.168.1.3"}
INNER_NET = {1: "172.16", 2: "172.17"}
WORDS = b"telemetry compression tunnel gateway packet vector node counter GET /index.html "


def add_tunnel(vpp: VppInstance, sa: int, engine: str) -> str:
    """Create SA ``sa`` on ``engine`` protecting an ipip tunnel from LOCAL to
    PEER[sa] and route INNER_NET[sa] through it; returns the tunnel
    interface. The only place that knows the plugin's tunnel CLI."""
    interface = f"ipip{sa - 1}"
    cli_script(
        vpp,
        f"""
        create ipip tunnel src {LOCAL} dst {PEER[sa]} instance {sa - 1}
        ipcomp sa add local {LOCAL} peer {PEER[sa]} cpi {CPI[sa]} id {sa} engine {engine}
        ipcomp protect {interface} sa-out {sa} sa-in {sa}
        set interface state {interface} up
        set interface unnumbered {interface} use pg0
        ip route add {INNER_NET[sa]}.0.0/16 via {interface}
        """,
    )
    return interface


def base_setup(vpp: VppInstance) -> None:
    """The two packet-generator interfaces and the neighbours."""
    cli_script(
        vpp,
        f"""
        create packet-generator interface pg0
        create packet-generator interface pg1
        set interface ip address pg0 10.0.0.1/24
        set interface ip address pg1 {LOCAL}/24
        set interface mtu packet 9216 pg1
        set interface state pg0 up
        set interface state pg1 up
        ip neighbor pg0 10.0.0.2 02:00:00:00:00:05
        ip neighbor pg1 {PEER[1]} 02:00:00:00:00:02
        ip neighbor pg1 {PEER[2]} 02:00:00:00:00:03
        """,
    )


# --- packets (fixed seeds) ------------------------------------------------


def text(n: int, rng: random.Random) -> bytes:
    start = rng.randrange(len(WORDS))
    return ((WORDS * (n // len(WORDS) + 2))[start:])[:n]


def inner(sa: int, size: int, body: Callable[[int], bytes], seq: int) -> Ether:
    """An inner UDP packet of ``size`` bytes from pg0 towards SA ``sa``'s network."""
    dst = f"{INNER_NET[sa]}.{seq % 200}.{1 + seq % 250}"
    return (
        Ether(dst="ff:ff:ff:ff:ff:ff")
        / IP(src="10.0.0.2", dst=dst)
        / UDP(sport=4000 + seq % 1000, dport=5000)
        / Raw(body(size - 28))
    )


def ipcomp_from_peer(payload: bytes, cpi: int = CPI[1], nh: int = 4, cut: int = 0) -> Ether:
    """An outer IPComp packet from SA 1's peer: header (nh, flags, cpi) + payload."""
    header = bytes([nh, 0]) + cpi.to_bytes(2, "big")
    data = (header + payload)[: cut or None]
    return Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src=PEER[1], dst=LOCAL, proto=108) / Raw(data)


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def to_us(seq: int, rng: random.Random, size: int = 600) -> bytes:
    """An inner packet the peer sends us (to 10.0.0.2), raw bytes."""
    packet = IP(src=f"{INNER_NET[1]}.0.9", dst="10.0.0.2") / UDP(sport=5000, dport=4000 + seq)
    return bytes(packet / Raw(text(size - 28, rng)))


#: malformed kind -> how many of it per ``bad`` (distinct, so that the
#: reasons' rates differ on the dashboards)
MALFORMED = {
    "unknown-cpi": 4,
    "corrupt": 3,
    "truncated-deflate": 2,
    "truncated": 2,
    "nested": 1,
    "bad-inner": 1,
    "too-big": 1,
}


def malformed(kind: str, rng: random.Random, seq: int) -> Ether:
    """One IPComp packet from the peer that the decompressor drops for ``kind``."""
    valid = deflate(to_us(seq, rng))
    if kind == "unknown-cpi":
        return ipcomp_from_peer(valid, cpi=0x9999)
    if kind == "nested":
        return ipcomp_from_peer(valid, nh=108)
    if kind == "truncated":  # the IPComp header itself cut
        return ipcomp_from_peer(valid, cut=3)
    if kind == "corrupt":
        corrupt = bytearray(valid)
        for k in range(4, len(corrupt), 7):
            corrupt[k] ^= 0x5A
        return ipcomp_from_peer(bytes(corrupt))
    if kind == "truncated-deflate":
        return ipcomp_from_peer(valid[: len(valid) // 2])
    if kind == "bad-inner":  # valid deflate of something that is no IP packet
        return ipcomp_from_peer(deflate(rng.randbytes(300)))
    assert kind == "too-big"  # a decompression bomb: 200 kB of zeros
    return ipcomp_from_peer(deflate(bytes(200_000)))


def received(good: int, bad: int, seed: int) -> list[Ether]:
    """``good`` valid IPComp packets from the peer and ``bad`` times
    MALFORMED of the malformed ones."""
    rng = random.Random(seed)
    frames = [ipcomp_from_peer(deflate(to_us(i, rng))) for i in range(good)]
    for kind, count in MALFORMED.items():
        frames += [malformed(kind, rng, 100 + i) for i in range(bad * count)]
    return frames


# --- scenarios ------------------------------------------------------------


@dataclass
class Scenario:
    """A VPP set-up and the traffic of one second; ``events`` maps a second
    of the recording to a CLI command or to "restart"."""

    name: str
    description: str
    startup_extra: str
    setup: Callable[[VppInstance], None]
    bursts: list[tuple[str, list[Ether]]]  # (interface, frames) sent once a second, in order
    events: dict[int, str]
    seconds: int = 24
    plugins: tuple[str, ...] = ("ipcomp",)


def traffic_scenario() -> Scenario:
    rng = random.Random(1)

    def setup(vpp: VppInstance) -> None:
        base_setup(vpp)
        add_tunnel(vpp, 1, "isal")
        add_tunnel(vpp, 2, "isal")

    sa1 = [
        inner(1, rng.choice([300, 600, 1000, 1400]), lambda n: text(n, rng), i) for i in range(30)
    ]
    sa1 += [inner(1, 60, lambda n: b"x" * n, i) for i in range(5)]  # below the threshold
    sa2 = [inner(2, rng.choice([300, 1000, 1400]), rng.randbytes, i) for i in range(20)]
    return Scenario(
        "traffic",
        "isal; SA 1 text, SA 2 random payloads; valid and malformed IPComp from SA 1's peer",
        "",
        setup,
        [("pg0", sa1 + sa2), ("pg1", received(good=20, bad=1, seed=2))],
        {},
    )


def offload_scenario() -> Scenario:
    rng = random.Random(3)

    def setup(vpp: VppInstance) -> None:
        base_setup(vpp)
        add_tunnel(vpp, 1, "compressdev")

    sends = [inner(1, 600, lambda n: text(n, rng), i) for i in range(64)]
    sends += [inner(1, 3000, lambda n: text(n, rng), 64 + i) for i in range(4)]  # > mbuf-size
    good = received(good=16, bad=0, seed=4)
    corrupt = []  # sent apart: few enough for the queue pair, so they reach the device
    for i in range(3):
        data = bytearray(deflate(to_us(200 + i, rng)))
        data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)
        corrupt.append(ipcomp_from_peer(bytes(data)))
    # incompressible on the device (out of space), few enough for the queue pair
    random_sends = [inner(1, 1000, rng.randbytes, 100 + i) for i in range(3)]
    return Scenario(
        "offload",
        "compressdev on compress_isal0, queue-size 4, mbuf-size 2048; device failed 8-14 s, "
        "policy drop 18-21 s",
        "ipcomp { compressdev { vdev compress_isal0 queue-size 4 mbuf-size 2048 } }",
        setup,
        [("pg0", sends), ("pg1", good), ("pg1", corrupt), ("pg0", random_sends)],
        {
            8: "set ipcomp offload fail",
            14: "set ipcomp offload recover",
            18: "set ipcomp offload policy drop",
            21: "set ipcomp offload policy fallback",
        },
    )


def restart_scenario() -> Scenario:
    rng = random.Random(5)

    def setup(vpp: VppInstance) -> None:
        base_setup(vpp)
        add_tunnel(vpp, 1, "zlib")

    sends = [inner(1, 800, lambda n: text(n, rng), i) for i in range(30)]
    sends += [inner(1, 800, rng.randbytes, 30 + i) for i in range(10)]
    return Scenario(
        "restart",
        "zlib, traffic both ways; VPP stopped and started again at 10 s",
        "",
        setup,
        [("pg0", sends), ("pg1", received(good=10, bad=0, seed=6))],
        {10: "restart"},
    )


SCENARIOS = {s().name: s for s in (traffic_scenario, offload_scenario, restart_scenario)}


# --- driving VPP ------------------------------------------------------------


def start(vpp: VppInstance, scenario: Scenario) -> None:
    vpp.start()
    scenario.setup(vpp)


def send_bursts(vpp: VppInstance, pcaps: list[tuple[str, Path, int]], second: int) -> None:
    """One burst of every pcap (interface, path, packets), each from its
    interface into ethernet-input, 0.2 s apart (so that an offload queue pair
    filled by one has drained for the next); the streams of two seconds ago
    are deleted."""
    for n, (interface, pcap, packets) in enumerate(pcaps):
        if n:
            time.sleep(0.2)
        name = f"b{n}s{second}"
        vpp.cli(f"packet-generator delete b{n}s{second - 2}")
        vpp.cli(
            f"packet-generator new {{ name {name} limit {packets} "
            f"node ethernet-input interface {interface} pcap {pcap} }}"
        )
        vpp.cli(f"packet-generator enable-stream {name}")


def save_api(vpp: VppInstance, out: Path) -> None:
    """The plugin's API answers the exporter asks for, recorded."""
    source = RecordingSource(PapiSource(str(vpp.api_socket), [str(d) for d in vpp.api_dirs]))
    source.open()
    try:
        for method in ("ipcomp_sa_dump", "ipcomp_engine_dump"):
            if source.has(method):
                source.call(method)
    finally:
        source.close()
    source.name = out.stem.removesuffix("_api")
    source.save(out)


def run(scenario: Scenario, plugin: PluginBuild, prefix: Path, out_dir: Path) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"vppcomp-rec-{scenario.name}-"))
    pcaps = []
    for n, (interface, packets) in enumerate(scenario.bursts):
        pcap = work / f"burst{n}.pcap"
        wrpcap(str(pcap), packets)
        pcaps.append((interface, pcap, len(packets)))
    vpp = VppInstance(
        work / "vpp",
        prefix,
        plugins=scenario.plugins,
        plugin_dirs=[plugin.plugin_dir],
        api_dirs=[plugin.api_dir],
        startup_extra=scenario.startup_extra,
    )
    output = out_dir / f"vpp-ipcomp-{scenario.name}.vppstats"
    try:
        start(vpp, scenario)
        save_api(vpp, out_dir / f"vpp-ipcomp-{scenario.name}_api.json")
        frames: list[int] = []
        with StatsClient(str(vpp.stats_socket)) as client:
            recorder = threading.Thread(
                target=lambda: frames.append(
                    record(
                        client,
                        output,
                        interval=1.0,
                        duration=scenario.seconds,
                        source=f"VPP v26.06 + ipcomp plugin, scenario {scenario.name}: "
                        + scenario.description,
                    )
                )
            )
            began = time.monotonic()
            recorder.start()
            for second in range(scenario.seconds):
                time.sleep(max(0.0, began + second + 0.5 - time.monotonic()))
                event = scenario.events.get(second)
                if event == "restart":
                    vpp.stop()
                    start(vpp, scenario)
                elif event:
                    print(f"{scenario.name} {second}s: {event}: {vpp.cli(event).strip()}")
                send_bursts(vpp, pcaps, second)
            recorder.join()
        print(f"{scenario.name}: {frames[0]} frames -> {output} ({os.path.getsize(output)} bytes)")
        print(vpp.cli("show ipcomp sa"))
        print(vpp.cli("show errors"))
        if "compressdev" in scenario.startup_extra:
            print(vpp.cli("show ipcomp offload"))
    finally:
        with contextlib.suppress(Exception):
            vpp.stop()
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    parser.add_argument("--out-dir", default=str(DATA))
    args = parser.parse_args()
    prefix = vpp_prefix()
    if prefix is None:
        print("no VPP: set VPP_PREFIX", file=sys.stderr)
        return 2
    # the compressdev tests' build directory: configured with libdpdk
    plugin = build_ipcomp_plugin(prefix, build_dir=TESTS.parent / ".build" / "plugin-cdev")
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    for name in args.scenarios or list(SCENARIOS):
        run(SCENARIOS[name](), plugin, prefix, Path(args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
