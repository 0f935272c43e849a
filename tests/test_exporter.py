"""The exporter against replayed segments: golden exposition files, the README
table, promtool, counter monotonicity, restarts, a missing VPP, a corrupt
segment, filters and the text encoder.

Golden files live in tests/golden/; ``UPDATE_GOLDEN=1 pytest ...`` rewrites
them (review the diff: a changed name or label is a breaking change).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from exporter_helpers import (
    SIZE,
    Series,
    check_golden,
    make_exporter,
    parse,
    scrape,
    without_self_metrics,
)
from exporter_shapes import exporter_snapshot
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)

from vppcomp.exporter.metrics.collectors import COLLECTORS, build_collectors
from vppcomp.exporter.metrics.collectors.ipcomp_api import ApiDirectory, IpcompApiCollector
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.metrics.exposition import render_text
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import DIRECTORY_ENTRY_DTYPE, HEADER, StatType
from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.snapshot import snapshot_from_mapping
from vppcomp.statseg.writer import SegmentWriter, build_segment
from vppcomp.topology.api_source import PapiSource

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "exporter" / "README.md"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SegmentServer]:
    """A stats socket serving :func:`exporter_snapshot`."""
    with SegmentServer(tmp_path / "stats.sock", SIZE) as srv:
        srv.publish(exporter_snapshot())
        yield srv


@pytest.mark.parametrize(
    ("golden", "options"),
    [
        ("exporter_default.prom", {}),
        ("exporter_per_thread.prom", {"per_thread": True}),
        ("exporter_used_only.prom", {"used_only": True}),
    ],
)
def test_golden_exposition(server: SegmentServer, golden: str, options: dict) -> None:
    exporter = make_exporter(Path(server.socket_path), **options)
    check_golden(golden, without_self_metrics(scrape(exporter)))


def test_golden_openmetrics(server: SegmentServer) -> None:
    exporter = make_exporter(Path(server.socket_path))
    body, content_type = exporter.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    text = body.decode()
    assert text.endswith("# EOF\n")
    list(parse_openmetrics(text))  # the strict OpenMetrics parser accepts it
    check_golden("exporter_openmetrics.txt", without_self_metrics(text))


def readme_table() -> dict[str, str]:
    """Family name -> type, from the metric table in exporter/README.md."""
    table = {}
    row = re.compile(r"^\| `(vpp_[a-z0-9_]+)` \| (\w+) \|.*$", re.M)
    for match in row.finditer(README.read_text()):
        if "binary API" not in match.group(0):  # needs a live VPP: test_exporter_live.py
            table[match.group(1)] = match.group(2)
    return table


def test_readme_table_is_the_exposition(server: SegmentServer) -> None:
    """Every family exported is in the frozen README table with its type, and
    every family in the table is exported by the golden segment."""
    exporter = make_exporter(Path(server.socket_path))
    exported = {
        m.name + ("_total" if m.type == "counter" else ""): m.type for m in exporter.collect()
    }
    assert exported == readme_table()


def test_text_encoder_agrees_with_prometheus_client(server: SegmentServer) -> None:
    exporter = make_exporter(Path(server.socket_path), per_thread=True)
    metrics = exporter.collect()
    ours = parse(render_text(list(metrics)).decode())
    reference = parse(generate_latest(_Registry(metrics)).decode())
    assert ours == reference
    lines = render_text(list(metrics)).decode().splitlines()
    assert [ln for ln in lines if ln.startswith("#")] == [
        ln for ln in generate_latest(_Registry(metrics)).decode().splitlines() if ln.startswith("#")
    ]


class _Registry:
    def __init__(self, metrics: list) -> None:
        self.metrics = metrics

    def collect(self) -> list:
        return self.metrics


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
@pytest.mark.parametrize("options", [{}, {"per_thread": True}])
def test_promtool_check_metrics(server: SegmentServer, options: dict) -> None:
    text = scrape(make_exporter(Path(server.socket_path), **options))
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert not result.stdout.strip() and not result.stderr.strip()


def test_values_are_the_segment_summed_over_threads(server: SegmentServer) -> None:
    snap = exporter_snapshot()
    series = parse(scrape(make_exporter(Path(server.socket_path))))
    rx = snap["/if/rx"].sum(axis=0)
    names = snap["/if/names"]
    for index, name in enumerate(names):
        key = ("vpp_interface_rx_bytes_total", frozenset({("interface", name)}))
        if name in (None, "deleted"):
            assert key not in series
        else:
            assert series[key] == rx[index, 1]
    errors = snap["/node/errors"].sum(axis=0)
    link = snap.symlink("/err/ipcomp4-decompress/corrupt")
    assert link is not None
    key = (
        "vpp_node_errors_total",
        frozenset({("node", "ipcomp4-decompress"), ("reason", "corrupt")}),
    )
    assert series[key] == errors[link.index]
    into = snap["/net/ipcomp/sa/compressed-in"].sum(axis=0)
    out = snap["/net/ipcomp/sa/compressed-out"].sum(axis=0)
    sa = frozenset({("sa", "200")})
    assert series[("vpp_ipcomp_sa_saved_bytes_total", sa)] == into[1, 1] - out[1, 1]
    assert series[("vpp_ipcomp_sa_compression_ratio", sa)] == pytest.approx(out[1, 1] / into[1, 1])
    hist = snap["/net/ipcomp/engine/isal/compress-clocks"].total()
    labels = {("engine", "isal"), ("op", "compress")}
    assert series[("vpp_ipcomp_engine_op_clocks_count", frozenset(labels))] == hist.sum()
    inf = frozenset({*labels, ("le", "+Inf")})
    assert series[("vpp_ipcomp_engine_op_clocks_bucket", inf)] == hist.sum()
    clocks = snap["/net/ipcomp/engine/clocks/compress"].sum(axis=0)[1]  # isal: index 1
    assert series[("vpp_ipcomp_engine_op_clocks_sum", frozenset(labels))] == clocks
    assert series[("vpp_up", frozenset())] == 1


def counter_values(text: str) -> Series:
    return {k: v for k, v in parse(text).items() if k[0].endswith(("_total", "_bucket", "_count"))}


def test_counters_are_exported_as_vpp_reports_them_after_a_clear(server: SegmentServer) -> None:
    """After ``clear interfaces``/``clear errors`` (counters fall, same VPP)
    every exported counter equals VPP's value again, as node_exporter does:
    Prometheus' rate() treats the fall as a reset. No per-series offsets."""
    exporter = make_exporter(Path(server.socket_path))
    server.publish(exporter_snapshot(tick=3))
    before = counter_values(scrape(exporter))
    cleared = exporter_snapshot(tick=0)
    server.publish(cleared)
    after = parse(scrape(exporter))
    rx = ("vpp_interface_rx_packets_total", frozenset({("interface", "loop0")}))
    assert after[rx] == cleared["/if/rx"].sum(axis=0)[1, 0] < before[rx]
    sa = frozenset({("sa", "100")})
    into = cleared["/net/ipcomp/sa/compressed-in"].sum(axis=0)[0]
    assert after[("vpp_ipcomp_sa_compressed_in_bytes_total", sa)] == into[1]
    out = cleared["/net/ipcomp/sa/compressed-out"].sum(axis=0)[0]
    assert after[("vpp_ipcomp_sa_saved_bytes_total", sa)] == into[1] - out[1]
    assert not any(k[0] == "vpp_exporter_cleared_series_total" for k in after)
    assert after[("vpp_exporter_vpp_restarts_total", frozenset())] == 0


def test_saved_bytes_does_not_dip_on_a_torn_read(server: SegmentServer) -> None:
    """saved = compressed-in - compressed-out is derived from two vectors VPP
    updates one after the other: a snapshot can hold a packet's
    compressed-out bytes but not yet its compressed-in bytes. The derived
    counter must not dip then (rate() would read a reset and count the whole
    counter again), but follows a clear of its inputs."""
    exporter = make_exporter(Path(server.socket_path))
    snap = exporter_snapshot(tick=3)
    server.publish(snap)
    sa = ("vpp_ipcomp_sa_saved_bytes_total", frozenset({("sa", "100")}))
    first = parse(scrape(exporter))[sa]
    torn = exporter_snapshot(tick=3)
    torn.values["/net/ipcomp/sa/compressed-out"][0, 0, 1] += 200  # out counted, in not yet
    server.publish(torn)
    assert parse(scrape(exporter))[sa] == first
    done = exporter_snapshot(tick=3)
    done.values["/net/ipcomp/sa/compressed-out"][0, 0, 1] += 200
    done.values["/net/ipcomp/sa/compressed-in"][0, 0, 1] += 1000
    server.publish(done)
    assert parse(scrape(exporter))[sa] == first + 800
    cleared = exporter_snapshot(tick=0)  # a clear: the inputs fall, so may saved
    server.publish(cleared)
    into = cleared["/net/ipcomp/sa/compressed-in"].sum(axis=0)[0, 1]
    out = cleared["/net/ipcomp/sa/compressed-out"].sum(axis=0)[0, 1]
    assert parse(scrape(exporter))[sa] == into - out


def test_restart_is_detected_and_counted(server: SegmentServer) -> None:
    exporter = make_exporter(Path(server.socket_path))
    server.publish(exporter_snapshot(tick=3))
    before = parse(scrape(exporter))
    server.restart()
    server.publish(exporter_snapshot(tick=0))
    after = parse(scrape(exporter))
    assert after[("vpp_exporter_vpp_restarts_total", frozenset())] == 1
    key = ("vpp_interface_rx_packets_total", frozenset({("interface", "loop0")}))
    assert after[key] < before[key]  # a real restart starts counters again
    assert after[key] == exporter_snapshot(tick=0)["/if/rx"].sum(axis=0)[1, 0]


def test_missing_vpp_then_vpp_appears(tmp_path: Path) -> None:
    exporter = make_exporter(tmp_path / "stats.sock")
    series = parse(scrape(exporter))
    assert series[("vpp_up", frozenset())] == 0
    assert {k for k in series if k[0].startswith("vpp_interface")} == set()
    for name in COLLECTORS:
        key = ("vpp_exporter_scrape_collector_success", frozenset({("collector", name)}))
        assert series[key] == 0
    with SegmentServer(tmp_path / "stats.sock", SIZE) as srv:
        srv.publish(exporter_snapshot())
        series = parse(scrape(exporter))
    assert series[("vpp_up", frozenset())] == 1
    assert ("vpp_interface_rx_packets_total", frozenset({("interface", "loop0")})) in series
    series = parse(scrape(exporter))  # and gone again
    assert series[("vpp_up", frozenset())] == 0


def test_corrupt_segment_is_reported_not_fatal(server: SegmentServer) -> None:
    exporter = make_exporter(Path(server.socket_path))
    assert parse(scrape(exporter))[("vpp_up", frozenset())] == 1
    image = bytearray(build_segment(exporter_snapshot()))
    version, base, epoch, in_progress, _ = HEADER.unpack_from(image, 0)
    HEADER.pack_into(image, 0, version, base, epoch + 1, in_progress, base + (1 << 40))
    server.load_image(bytes(image))
    series = parse(scrape(exporter))
    assert series[("vpp_up", frozenset())] == 0
    assert series[("vpp_exporter_segment_read_failures_total", frozenset())] >= 1
    server.publish(exporter_snapshot(tick=1))
    assert parse(scrape(exporter))[("vpp_up", frozenset())] == 1


def test_failing_collector_is_isolated(server: SegmentServer) -> None:
    class Broken:
        name = "broken"

        def collect(self, scrape: object) -> list:
            raise RuntimeError("boom")

    client = StatsClient(server.socket_path)
    exporter = Exporter(client, [Broken(), *build_collectors()])
    series = parse(scrape(exporter))
    assert (
        series[("vpp_exporter_scrape_collector_success", frozenset({("collector", "broken")}))] == 0
    )
    ok = ("vpp_exporter_scrape_collector_success", frozenset({("collector", "interfaces")}))
    assert series[ok] == 1


def test_include_and_exclude_patterns(server: SegmentServer) -> None:
    only_if = parse(scrape(make_exporter(Path(server.socket_path), include=("/if/*",))))
    vpp = {k[0] for k in only_if if not k[0].startswith("vpp_exporter_") and k[0] != "vpp_up"}
    assert vpp and all(name.startswith("vpp_interface_") for name in vpp)
    no_rx = parse(
        scrape(make_exporter(Path(server.socket_path), exclude=("/if/rx*", "/err/ip4-*")))
    )
    assert not any(k[0].startswith("vpp_interface_rx_") and "bytes" in k[0] for k in no_rx)
    assert ("vpp_interface_tx_bytes_total", frozenset({("interface", "loop0")})) in no_rx
    errors = {dict(k[1])["node"] for k in no_rx if k[0] == "vpp_node_errors_total"}
    assert errors and "ip4-input" not in errors


def test_used_only_drops_zero_series(tmp_path: Path) -> None:
    snap = exporter_snapshot()
    entries = {n: (snap.type(n), snap.symlink(n) or snap.values[n]) for n in snap}
    drops = snap["/if/punt"].copy()
    drops[:, 1] = 0
    entries["/if/punt"] = (StatType.COUNTER_VECTOR_SIMPLE, drops)
    with SegmentServer(tmp_path / "s.sock", SIZE) as srv:
        srv.publish(snapshot_from_mapping(entries))
        every = parse(scrape(make_exporter(tmp_path / "s.sock")))
        used = parse(scrape(make_exporter(tmp_path / "s.sock", used_only=True)))
    key = ("vpp_interface_punt_packets_total", frozenset({("interface", "loop0")}))
    assert every[key] == 0 and key not in used
    assert ("vpp_interface_punt_packets_total", frozenset({("interface", "ipcomp0")})) in used


def error_snapshot(values: list[int], tick: int = 0) -> object:
    """exporter_snapshot() with /node/errors set to ``values`` (thread 0) in
    the order of exporter_shapes.ERRORS + OFFLOAD_ERROR: three ipcomp
    errors, ``ip4-input/ip4 ttl <= 1``, ``ipcomp4-compress/offload-drop``."""
    snap = exporter_snapshot(tick=tick)
    errors = snap.values["/node/errors"]
    errors[:] = 0
    errors[0, : len(values)] = values
    return snap


def error_series(text: str) -> dict[tuple[str, str], float]:
    return {
        (dict(k[1])["node"], dict(k[1])["reason"]): v
        for k, v in parse(text).items()
        if k[0] == "vpp_node_errors_total"
    }


def test_default_error_cardinality(server: SegmentServer) -> None:
    """The default for VPP's ~3,000 mostly-zero error counters: the ipcomp
    nodes' errors always, the others from their first non-zero value on
    (kept after a clear, forgotten at a VPP restart); --all-errors: all."""
    ttl = ("ip4-input", "ip4 ttl <= 1")
    exporter = make_exporter(Path(server.socket_path))
    server.publish(error_snapshot([0, 0, 0, 0, 0]))
    first = error_series(scrape(exporter))
    assert ttl not in first  # never counted: not exported
    assert first[("ipcomp4-decompress", "corrupt")] == 0  # ipcomp: exported while zero
    assert first[("ipcomp4-compress", "offload-drop")] == 0
    server.publish(error_snapshot([5, 0, 0, 7, 0]))
    assert error_series(scrape(exporter))[ttl] == 7
    server.publish(error_snapshot([0, 0, 0, 0, 0]))  # clear errors: the series stays, at 0
    assert error_series(scrape(exporter))[ttl] == 0
    server.restart()
    server.publish(error_snapshot([0, 0, 0, 0, 0]))
    assert ttl not in error_series(scrape(exporter))  # a new VPP: counted afresh
    everything = make_exporter(Path(server.socket_path), all_errors=True)
    assert error_series(scrape(everything))[ttl] == 0


def test_default_sa_cardinality(server: SegmentServer) -> None:
    """Every live SA is exported, idle ones too (an idle SA is news for the
    operator, and the rules add families per SA): 9 counters x 2 plus
    offload hw/dropped x 2, 6 fallback reasons x 2, saved bytes and ratio =
    36 series per SA; --used-only drops the zero ones."""
    exporter = make_exporter(Path(server.socket_path))
    server.publish(exporter_snapshot())
    per_sa: dict[str, int] = {}
    for name, labels in parse(scrape(exporter)):
        sa = dict(labels).get("sa")
        if name.startswith("vpp_ipcomp_sa_") and sa is not None:
            per_sa[sa] = per_sa.get(sa, 0) + 1
    assert per_sa == {"100": 36, "200": 36}


def test_large_segment_shapes(tmp_path: Path) -> None:
    """Interfaces beyond the counter vectors and vectors beyond the names are
    tolerated (VPP grows them separately)."""
    snap = exporter_snapshot()
    entries = {n: (snap.type(n), snap.symlink(n) or snap.values[n]) for n in snap}
    entries["/if/names"] = (StatType.NAME_VECTOR, [*snap["/if/names"], "loop9", "loop10"])
    entries["/sys/node/names"] = (StatType.NAME_VECTOR, snap["/sys/node/names"][:2])
    with SegmentServer(tmp_path / "s.sock", SegmentWriter.required_size(snap) * 2) as srv:
        srv.publish(snapshot_from_mapping(entries))
        series = parse(scrape(make_exporter(tmp_path / "s.sock")))
    assert (
        "vpp_interface_info",
        frozenset({("interface", "loop9"), ("sw_if_index", "4")}),
    ) in series
    assert ("vpp_interface_rx_packets_total", frozenset({("interface", "loop9")})) not in series
    assert len({k for k in series if k[0] == "vpp_node_calls_total"}) == 2


def test_collectors_can_be_turned_off(server: SegmentServer) -> None:
    collectors = build_collectors(("errors", "ipcomp"))
    assert [c.name for c in collectors] == [n for n in COLLECTORS if n not in ("errors", "ipcomp")]
    exporter = Exporter(StatsClient(server.socket_path), collectors)
    names = {key[0] for key in parse(scrape(exporter))}
    assert "vpp_interface_rx_packets_total" in names
    assert not any(n.startswith(("vpp_node_errors", "vpp_ipcomp_")) for n in names)
    with pytest.raises(ValueError, match="unknown collector"):
        build_collectors(("nope",))


def test_api_collector_without_an_api_is_quiet(server: SegmentServer, tmp_path: Path) -> None:
    directory = ApiDirectory(PapiSource(str(tmp_path / "no-api.sock"), [str(tmp_path)]))
    exporter = Exporter(
        StatsClient(server.socket_path), [*build_collectors(), IpcompApiCollector(directory)]
    )
    series = parse(scrape(exporter))
    assert not any(key[0] == "vpp_ipcomp_sa_info" for key in series)
    ok = ("vpp_exporter_scrape_collector_success", frozenset({("collector", "ipcomp_api")}))
    assert series[ok] == 1
    assert directory.failures == 1
    scrape(exporter)  # same SA names, asked again only after the refresh interval
    assert directory.failures == 1


def offload_key(family: str, qp: int) -> tuple[str, frozenset[tuple[str, str]]]:
    return (family, frozenset({("device", "compress_isal0"), ("queue_pair", str(qp))}))


@pytest.mark.parametrize("per_thread", [False, True])
def test_offload_families_by_device_queue_pair_and_reason(
    server: SegmentServer, per_thread: bool
) -> None:
    """Device counters are per queue pair (= VPP thread) with or without
    ``--per-thread``; the six fallback vectors are one family by ``reason``."""
    from vppcomp.exporter.metrics.collectors.ipcomp import FALLBACK_REASONS, OFFLOAD_COUNTERS

    snap = exporter_snapshot()
    series = parse(scrape(make_exporter(Path(server.socket_path), per_thread=per_thread)))
    for counter, (family, _) in OFFLOAD_COUNTERS.items():
        for qp, value in enumerate(snap[f"/net/ipcomp/offload/{counter}"][:, 0]):
            assert series[offload_key(f"{family}_total", qp)] == value, counter
    assert not any(name == "vpp_ipcomp_offload_inflight_ops" for name, _ in series)
    latency = snap["/net/ipcomp/offload/latency-clocks"]
    for qp in (0, 1):
        inf = frozenset({("queue_pair", str(qp)), ("le", "+Inf")})
        assert series[("vpp_ipcomp_offload_latency_clocks_bucket", inf)] == latency.bins[qp].sum()
    offload = [labels for name, labels in series if name.startswith("vpp_ipcomp_offload_")]
    assert offload and all("thread" not in dict(labels) for labels in offload)
    if per_thread:
        return
    for reason in FALLBACK_REASONS:
        total = snap[f"/net/ipcomp/sa/offload-fallback-{reason}"].sum(axis=0)
        labels = frozenset({("sa", "200"), ("reason", reason)})
        assert series[("vpp_ipcomp_sa_offload_fallback_packets_total", labels)] == total[1, 0]
        assert series[("vpp_ipcomp_sa_offload_fallback_bytes_total", labels)] == total[1, 1]
    hw = snap["/net/ipcomp/sa/offload-hw"].sum(axis=0)
    assert (
        series[("vpp_ipcomp_sa_offload_hw_packets_total", frozenset({("sa", "100")}))] == hw[0, 0]
    )


def test_offload_inflight_is_a_gauge_and_needs_a_device(tmp_path: Path) -> None:
    """The one in-flight figure, the engine gauge, goes down without being
    taken for a clear; without a named device no ``vpp_ipcomp_offload_*``
    family is exported."""
    snap = exporter_snapshot()
    entries = {n: (snap.type(n), snap.symlink(n) or snap.values[n]) for n in snap}
    gauge = "/net/ipcomp/engine/compressdev/inflight"
    key = ("vpp_ipcomp_engine_inflight_ops", frozenset({("engine", "compressdev")}))
    entries[gauge] = (StatType.GAUGE, 50)
    with SegmentServer(tmp_path / "s.sock", SIZE) as srv:
        exporter = make_exporter(tmp_path / "s.sock")
        srv.publish(snapshot_from_mapping(entries))
        assert parse(scrape(exporter))[key] == 50
        srv.publish(snap)
        series = parse(scrape(exporter))
        assert series[key] == snap[gauge] == 2
        entries["/net/ipcomp/offload/devices"] = (StatType.NAME_VECTOR, [])
        srv.publish(snapshot_from_mapping(entries))
        names = {name for name, _ in parse(scrape(make_exporter(tmp_path / "s.sock")))}
    assert not any(name.startswith("vpp_ipcomp_offload_") for name in names)
    assert "vpp_ipcomp_sa_offload_hw_packets_total" in names


def test_one_bad_entry_is_named_and_the_scrape_keeps_the_rest(server: SegmentServer) -> None:
    """A dangling /err symlink used to fail the whole read (vpp_up 0, every
    metric gone); now only that entry is left out, and named."""
    exporter = make_exporter(Path(server.socket_path))
    before = parse(scrape(exporter))
    image = bytearray(build_segment(exporter_snapshot()))
    version, base, epoch, in_progress, dir_ptr = HEADER.unpack_from(image, 0)
    HEADER.pack_into(image, 0, version, base, epoch + 1, in_progress, dir_ptr)  # VPP re-planned
    (count,) = struct.unpack_from("<I", image, dir_ptr - base - 8)
    directory = np.frombuffer(image, DIRECTORY_ENTRY_DTYPE, count, dir_ptr - base)
    names = [n.decode() for n in directory["name"].tolist()]
    dangling = next(n for n in names if n.startswith("/err/"))
    directory["value"][names.index(dangling)] = count + 5
    server.load_image(bytes(image))
    series = parse(scrape(exporter))
    assert series[("vpp_up", frozenset())] == 1
    bad = {dict(k[1])["path"] for k in series if k[0] == "vpp_exporter_segment_bad_entries"}
    assert bad == {dangling}
    node, _, reason = dangling[len("/err/") :].partition("/")
    error_key = ("vpp_node_errors_total", frozenset({("node", node), ("reason", reason)}))
    assert error_key in before and error_key not in series
    interface_key = ("vpp_interface_rx_packets_total", frozenset({("interface", "loop0")}))
    assert series[interface_key] == before[interface_key]
    assert series[("vpp_exporter_segment_read_failures_total", frozenset())] == 0
