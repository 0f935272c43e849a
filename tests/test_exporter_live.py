"""The exporter against real VPPs (skipped without VPP): its values equal what
vpp_papi's VPPStats, VPP's ``show`` CLIs and VPP's own
``vpp_prometheus_export`` report for the same, quiesced, moment.

Counters are compared after the traffic has stopped, so "the same moment" is
any moment; per-node runtime counters and memory gauges keep moving on an
idle VPP and are not compared.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from exporter_helpers import Series, parse
from plugin_cdev import cdev_plugin  # noqa: F401 - fixture
from plugin_vpp import (
    cli_script,
    error_counter,
    ipcomp_plugin,  # noqa: F401 - fixture
    pg_replay,
    start_ipcomp_vpp,
    stats_client,
    wait_collector_passes,
)
from prometheus_client.utils import floatToGoString
from waiting import wait_for

from vppcomp.demo.plugin_build import PluginBuild
from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.collectors.ipcomp import engine_names
from vppcomp.exporter.metrics.collectors.ipcomp_api import ApiDirectory, IpcompApiCollector
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.metrics.exposition import render_text
from vppcomp.exporter.metrics.options import Options
from vppcomp.statseg.client import StatsClient
from vppcomp.topology.api_source import PapiSource, PersistentSource

pytestmark = pytest.mark.live

DEVICE = "compress_isal0"
IF_SIMPLE = ("drops", "punt", "ip4", "ip6", "rx-no-buf", "rx-miss", "rx-error", "tx-error")


def udp_frames(count: int, dst: str = "10.0.0.9") -> list[bytes]:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    return [
        bytes(
            Ether(dst="02:fe:00:00:00:00", src="02:00:00:00:00:01")
            / IP(src="10.0.0.2", dst=dst)
            / UDP(sport=1000 + i, dport=2000)
            / (b"x" * (20 + i))
        )
        for i in range(count)
    ]


def setup_interfaces(vpp: Any) -> None:
    cli_script(
        vpp,
        """
        create packet-generator interface pg0
        set interface ip address pg0 10.0.0.1/24
        set interface state pg0 up
        create loopback interface
        create loopback interface
        set interface state loop0 up
        """,
    )


def scrape(socket: Path, **options: object) -> Series:
    exporter = Exporter(StatsClient(str(socket)), build_collectors(), Options(**options))
    return parse(render_text(exporter.collect()).decode())


def quiesce(vpp: Any) -> None:
    """Let VPP's periodic stats collector run once after the traffic."""
    wait_collector_passes(vpp)


def test_interfaces_and_errors_equal_vpp_papi_and_cli(vpp: Any) -> None:
    setup_interfaces(vpp)
    pg_replay(vpp, "udp", udp_frames(25), "pg0")
    quiesce(vpp)
    series = scrape(vpp.stats_socket)
    stats = stats_client(vpp)
    try:
        names = stats["/if/names"]
        rx = stats["/if/rx"]
        compared = 0
        for index, name in enumerate(names):
            if not name or name == "deleted":
                continue
            packets = sum(row[index]["packets"] for row in rx)
            octets = sum(row[index]["bytes"] for row in rx)
            label = frozenset({("interface", name)})
            assert series[("vpp_interface_rx_packets_total", label)] == packets
            assert series[("vpp_interface_rx_bytes_total", label)] == octets
            for counter, family in zip(IF_SIMPLE, _simple_families(), strict=True):
                value = sum(row[index] for row in stats[f"/if/{counter}"])
                assert series[(family, label)] == value, (name, counter)
            compared += 1
        assert compared >= 4  # local0, pg0, loop0, loop1
        pg0 = frozenset({("interface", "pg0")})
        assert series[("vpp_interface_rx_packets_total", pg0)] == 25
        errors = 0
        for path in stats.ls(["^/err/"]):
            node, _, reason = path[len("/err/") :].partition("/")
            value = int(stats[path].sum())
            key = ("vpp_node_errors_total", frozenset({("node", node), ("reason", reason)}))
            assert series.get(key, 0) == value, path
            errors += 1
        assert errors > 100
    finally:
        stats.disconnect()
    show = vpp.cli("show interface pg0")
    match = re.search(r"rx packets\s+(\d+)\s*\n\s*rx bytes\s+(\d+)", show)
    assert match, show
    assert series[("vpp_interface_rx_packets_total", pg0)] == int(match.group(1))
    assert series[("vpp_interface_rx_bytes_total", pg0)] == int(match.group(2))
    for line in vpp.cli("show errors").splitlines():
        fields = re.match(r"\s*(\d+)\s+(\S+)\s+(.+?)\s+(error|info|warn|unknown)\s*$", line)
        if fields:
            count, node, reason = int(fields.group(1)), fields.group(2), fields.group(3)
            candidates = [
                v
                for (name, labels), v in series.items()
                if name == "vpp_node_errors_total" and ("node", node) in labels
            ]
            assert count in candidates, line


def _simple_families() -> list[str]:
    from vppcomp.exporter.metrics.collectors.interfaces import SIMPLE

    return [SIMPLE[c][0] + "_total" for c in IF_SIMPLE]


def test_clear_interfaces_exports_vpp_values(vpp: Any) -> None:
    """After ``clear interfaces`` the exported counter is what ``show
    interface`` counts again (no offsets kept by the exporter)."""
    setup_interfaces(vpp)
    exporter = Exporter(StatsClient(str(vpp.stats_socket)), build_collectors())
    pg_replay(vpp, "one", udp_frames(10), "pg0")
    before = parse(render_text(exporter.collect()).decode())
    vpp.cli("clear interfaces")
    pg_replay(vpp, "two", udp_frames(4), "pg0")
    after = parse(render_text(exporter.collect()).decode())
    pg0 = ("vpp_interface_rx_packets_total", frozenset({("interface", "pg0")}))
    assert before[pg0] == 10 and after[pg0] == 4
    shown = vpp.cli("show interface pg0")
    assert re.search(r"rx packets\s+4\b", shown), shown


def test_ipcomp_values_equal_vpp_papi(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    from ipcomp_traffic import BCAST, ether, make_traffic, setup_a

    vpp = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_a(vpp, 4, "isal")
    frames = [ether(BCAST, 0x0800, packet) for packet in make_traffic(4)]
    pg_replay(vpp, "inner", frames, "pg0", capture={"pg1": len(frames) + 8})
    quiesce(vpp)
    series = scrape(vpp.stats_socket)
    stats = stats_client(vpp)
    try:
        names = stats["/net/ipcomp/sa/names"]
        sa_checked = 0
        for counter in ("compressed-in", "compressed-out", "bypass", "incompressible"):
            rows = stats[f"/net/ipcomp/sa/{counter}"]
            family = "vpp_ipcomp_sa_" + counter.replace("-", "_")
            for index, name in enumerate(names):
                if not name:
                    continue
                label = frozenset({("sa", name)})
                packets = sum(row[index]["packets"] for row in rows)
                assert series[(f"{family}_packets_total", label)] == packets
                assert series[(f"{family}_bytes_total", label)] == sum(
                    row[index]["bytes"] for row in rows
                )
                sa_checked += 1
        assert sa_checked >= 4
        sa = frozenset({("sa", next(n for n in names if n))})
        saved = (
            series[("vpp_ipcomp_sa_compressed_in_bytes_total", sa)]
            - series[("vpp_ipcomp_sa_compressed_out_bytes_total", sa)]
        )
        assert series[("vpp_ipcomp_sa_saved_bytes_total", sa)] == saved > 0
        hist = stats["/net/ipcomp/hist/compress-in-bytes"]  # vpp_papi StatsHistogramLog2
        per_bin = [sum(column) for column in zip(*hist.bins, strict=True)]
        cumulative = 0
        for index, count in enumerate(per_bin):
            cumulative += count
            last = index == len(per_bin) - 1
            le = "+Inf" if last else floatToGoString(2 ** (hist.min_exp + index + 1) - 1)
            key = frozenset({("op", "compress"), ("le", le)})
            assert series[("vpp_ipcomp_payload_size_bytes_bucket", key)] == cumulative, le
        assert cumulative == hist.sum() >= len(frames)
    finally:
        stats.disconnect()
    shown = 0
    sa_label: frozenset[tuple[str, str]] = frozenset()
    for line in vpp.cli("show ipcomp sa").splitlines():
        header = re.match(r"\[(\d+)\] sa (\d+) cpi", line.strip())
        if header:
            sa_label = frozenset({("sa", header.group(2))})
            continue
        row = re.match(r"\s+([a-z-]+)\s+(\d+) packets\s+(\d+) bytes", line)
        if row and sa_label:
            family = "vpp_ipcomp_sa_" + row.group(1).replace("-", "_")
            assert series[(f"{family}_packets_total", sa_label)] == int(row.group(2)), line
            assert series[(f"{family}_bytes_total", sa_label)] == int(row.group(3)), line
            shown += 1
    assert shown >= 8  # the SA counters of plugin/README.md


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root for netns")
def test_interface_counters_equal_vpp_prometheus_export(vpp: Any, vpp_prefix: Path) -> None:
    tool = vpp_prefix / "bin" / "vpp_prometheus_export"
    if not tool.exists():
        pytest.skip(f"{tool} not installed")
    setup_interfaces(vpp)
    pg_replay(vpp, "udp", udp_frames(12), "pg0")
    quiesce(vpp)
    netns = f"vppcomp-test-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    inside = ["ip", "netns", "exec", netns]
    process = None
    try:
        subprocess.run([*inside, "ip", "link", "set", "lo", "up"], check=True)
        process = subprocess.Popen(
            # this order only: VPP 26.06's parser crashes otherwise (see bench/exporter_bench.py)
            [*inside, str(tool), "port", "9482", "socket-name", str(vpp.stats_socket), "/if"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        text = wait_for(
            lambda: (
                subprocess.run(
                    [*inside, "curl", "-sf", "http://127.0.0.1:9482/metrics"],
                    capture_output=True,
                    text=True,
                ).stdout
            ),
            lambda text: "_if_rx_packets" in text,
            "vpp_prometheus_export to serve the interface counters",
            interval=0.2,
        )
        ours = scrape(vpp.stats_socket)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        subprocess.run(["ip", "netns", "delete", netns], check=False)
    theirs: dict[tuple[str, int], int] = {}
    for match in re.finditer(
        r'^(_if_[a-z_0-9]+)\{thread="\d+",interface="(\d+)"\} (\d+)$', text, re.M
    ):
        key = (match.group(1), int(match.group(2)))
        theirs[key] = theirs.get(key, 0) + int(match.group(3))
    assert theirs, text[:2000]
    names = [dict(labels) for name, labels in ours if name == "vpp_interface_info"]
    by_index = {int(n["sw_if_index"]): n["interface"] for n in names}
    compared = 0
    for (metric, index), value in theirs.items():
        if index not in by_index:
            continue
        ours_name = {
            "_if_rx_packets": "vpp_interface_rx_packets_total",
            "_if_rx_bytes": "vpp_interface_rx_bytes_total",
            "_if_tx_packets": "vpp_interface_tx_packets_total",
            "_if_tx_bytes": "vpp_interface_tx_bytes_total",
            "_if_drops": "vpp_interface_drop_packets_total",
            "_if_ip4": "vpp_interface_rx_ip4_packets_total",
        }.get(metric)
        if ours_name:
            assert ours[(ours_name, frozenset({("interface", by_index[index])}))] == value
            compared += 1
    assert compared >= 6 * 3


def test_offload_values_equal_vpp_papi(
    vpp_factory: Callable[..., Any],
    cdev_plugin: PluginBuild,  # noqa: F811
) -> None:
    """The compressdev engine on compress_isal0 with one worker and a queue
    pair of 4 ops: a burst (device and queue-full fallback), traffic while
    the device is marked failed (device-error fallback), then recovered.
    Every offload family equals VPPStats' values, per SA and reason, per
    device and queue pair (the worker's is 1, the idle main thread's 0)."""
    from ipcomp_traffic import setup_a
    from plugin_cdev import cdev_conf, have_pmd, send_compressible, wait_drained

    if not have_pmd(DEVICE):
        pytest.skip(f"no DPDK PMD for {DEVICE}")
    vpp = start_ipcomp_vpp(
        vpp_factory,
        cdev_plugin,
        startup_extra=cdev_conf(DEVICE, "queue-size 4") + "\ncpu { workers 1 }",
    )
    setup_a(vpp, 4, "compressdev")
    assert len(send_compressible(vpp, 200, "burst")) == 200
    vpp.cli("set ipcomp offload fail")
    assert len(send_compressible(vpp, 20, "failed")) == 20
    vpp.cli("set ipcomp offload recover")
    assert len(send_compressible(vpp, 20, "recovered")) == 20
    wait_drained(vpp)
    quiesce(vpp)
    series = scrape(vpp.stats_socket)
    stats = stats_client(vpp)
    try:
        _check_offload_sa(series, stats)
        _check_offload_devices(series, stats)
        calls = stats["/net/ipcomp/engine/calls/compress"]
        index = engine_names(StatsClient(str(vpp.stats_socket)).snapshot()).index("compressdev")
        key = frozenset({("engine", "compressdev"), ("op", "compress")})
        assert series[("vpp_ipcomp_engine_ops_total", key)] == sum(r[index][0] for r in calls)
        drops = frozenset({("node", "ipcomp4-compress"), ("reason", "offload-drop")})
        assert series[("vpp_node_errors_total", drops)] == error_counter(
            stats, "ipcomp4-compress", "offload-drop"
        )
    finally:
        stats.disconnect()
    hw = sum(
        v for (name, _), v in series.items() if name == "vpp_ipcomp_sa_offload_hw_packets_total"
    )
    fallback: dict[str, float] = {}
    for (name, labels), value in series.items():
        if name == "vpp_ipcomp_sa_offload_fallback_packets_total":
            reason = dict(labels)["reason"]
            fallback[reason] = fallback.get(reason, 0) + value
    assert hw >= 2 and fallback["queue-full"] >= 1 and fallback["device-error"] == 20
    assert hw + sum(fallback.values()) == 240


def _check_offload_sa(series: Series, stats: Any) -> None:
    """Per-SA offload families against VPPStats, every reason included."""
    from vppcomp.exporter.metrics.collectors.ipcomp import (
        FALLBACK,
        FALLBACK_REASONS,
        SA_OFFLOAD_COUNTERS,
    )

    names = stats["/net/ipcomp/sa/names"]
    paths = {f"/net/ipcomp/sa/{c}": (stem, None) for c, (stem, *_) in SA_OFFLOAD_COUNTERS.items()}
    for reason in FALLBACK_REASONS:
        paths[f"{FALLBACK}{reason}"] = ("vpp_ipcomp_sa_offload_fallback", reason)
    checked = 0
    for path, (stem, reason) in paths.items():
        rows = stats[path]
        for index, name in enumerate(names):
            if not name:
                continue
            labels = {("sa", name)} | ({("reason", reason)} if reason else set())
            for unit, column in (("packets", 0), ("bytes", 1)):
                value = sum(row[index][column] for row in rows)
                assert series[(f"{stem}_{unit}_total", frozenset(labels))] == value, path
            checked += 1
    assert checked == len(paths) == 8


def _check_offload_devices(series: Series, stats: Any) -> None:
    """Device families per device and queue pair, and the latency buckets
    per queue pair, against VPPStats."""
    from vppcomp.exporter.metrics.collectors.ipcomp import OFFLOAD_COUNTERS

    devices = stats["/net/ipcomp/offload/devices"]
    assert devices == [DEVICE]
    families = {c: f"{family}_total" for c, (family, _) in OFFLOAD_COUNTERS.items()}
    assert not any(name == "vpp_ipcomp_offload_inflight_ops" for name, _ in series)
    for counter, family in families.items():
        rows = stats[f"/net/ipcomp/offload/{counter}"]
        assert len(rows) == 2  # main thread and one worker: two queue pairs
        for qp, row in enumerate(rows):
            key = frozenset({("device", DEVICE), ("queue_pair", str(qp))})
            assert series[(family, key)] == row[0], (counter, qp)
    enqueued = "vpp_ipcomp_offload_enqueued_ops_total"
    assert series[(enqueued, frozenset({("device", DEVICE), ("queue_pair", "0")}))] == 0
    assert series[(enqueued, frozenset({("device", DEVICE), ("queue_pair", "1")}))] > 0
    hist = stats["/net/ipcomp/offload/latency-clocks"]
    for qp, bins in enumerate(hist.bins):
        cumulative = 0
        for index, count in enumerate(bins):
            cumulative += count
            last = index == len(bins) - 1
            le = "+Inf" if last else floatToGoString(2 ** (hist.min_exp + index + 1) - 1)
            key = frozenset({("queue_pair", str(qp)), ("le", le)})
            assert series[("vpp_ipcomp_offload_latency_clocks_bucket", key)] == cumulative, le
    assert sum(map(sum, hist.bins)) > 0


def test_sa_and_engine_info_from_the_binary_api(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,  # noqa: F811
) -> None:
    """``--api-socket`` adds the CPI and the engine indices; the indices
    agree with the order the exporter reads engine names from the segment."""
    from ipcomp_traffic import CPI, setup_a

    vpp = start_ipcomp_vpp(vpp_factory, ipcomp_plugin)
    setup_a(vpp, 4, "zlib")
    source = PapiSource(str(vpp.api_socket), [str(d) for d in vpp.api_dirs])
    directory = ApiDirectory(PersistentSource(source))
    exporter = Exporter(
        StatsClient(str(vpp.stats_socket)), [*build_collectors(), IpcompApiCollector(directory)]
    )
    series = parse(render_text(exporter.collect()).decode())
    directory.refresh_interval = 0.0
    exporter.collect()  # asked again on the same connection, definitions parsed once
    assert (source.definition_loads, source.connects) == (1, 1)
    info = [dict(labels) for name, labels in series if name == "vpp_ipcomp_sa_info"]
    assert len(info) == 1 and info[0]["cpi"] == str(CPI) and info[0]["mode"] == "tunnel"
    assert info[0]["engine"] == "zlib" and info[0]["peer"] == "192.168.1.2"
    sa = frozenset({("sa", info[0]["sa"])})
    assert ("vpp_ipcomp_sa_compressed_in_packets_total", sa) in series
    engines = {
        int(dict(labels)["engine_index"]): dict(labels)["engine"]
        for name, labels in series
        if name == "vpp_ipcomp_engine_info"
    }
    stats = StatsClient(str(vpp.stats_socket)).snapshot()
    assert [engines[i] for i in sorted(engines)] == engine_names(stats)
    assert directory.failures == 0
