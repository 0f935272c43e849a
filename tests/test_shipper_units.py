"""The shipper's parts without a cluster: the ring decoder against the schema
the plugin publishes, ring overrun arithmetic, the spool's bound, counter
deltas across clears/restarts/reused SA indices, the fields contract (file,
README table, Kibana objects) and the self-metrics on the exporter."""

from __future__ import annotations

import dataclasses
import json
import re
import struct
from pathlib import Path

import pytest
import yaml
from shipper_helpers import SCHEMA, SCHEMA_TEXT, base_snapshot, record

from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.shipper import fields, ids, kibana, templates
from vppcomp.exporter.shipper.documents import (
    EVENT,
    METRIC,
    Document,
    EventContext,
    MetricSampler,
    Observer,
    event_documents,
    flatten,
)
from vppcomp.exporter.shipper.metrics import ShipperCollector
from vppcomp.exporter.shipper.runner import Shipper
from vppcomp.exporter.shipper.spool import Spool
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.events import EventSchema, SchemaError, records_since
from vppcomp.statseg.snapshot import RingThread

ROOT = Path(__file__).parents[1]
#: ipcomp_event_t as plugin/ipcomp/ipcomp.h declares it (the producer's side)
C_STRUCT = struct.Struct("<QHHIIHBBII16s16s")


def test_decoder_reads_what_the_plugin_writes() -> None:
    assert [f.name for f in SCHEMA.fields] == [
        "timestamp_ns", "type", "reason", "sa_index", "sa_id", "cpi", "is_ip6",
        "engine_index", "sw_if_index", "length", "src", "dst",
    ]  # fmt: skip
    assert SCHEMA.field("type").names[9] == "engine-switch"
    src = bytes(range(16))
    raw = C_STRUCT.pack(123, 4, 7, 0xFFFFFFFF, 42, 0x1234, 1, 0xFF, 3, 1500, src, bytes(16))
    (decoded,) = SCHEMA.decode([raw])
    assert decoded == {
        "timestamp_ns": 123, "type": "decompress-failure", "reason": 7, "sa_index": None,
        "sa_id": 42, "cpi": 0x1234, "is_ip6": 1, "engine_index": None, "sw_if_index": 3,
        "length": 1500, "src": src, "dst": bytes(16), "reason_name": "corrupt",
    }  # fmt: skip
    (unknown,) = SCHEMA.decode([C_STRUCT.pack(1, 77, *[0] * 8, b"", b"")])
    assert unknown["type"] == "77"


def test_a_schema_that_does_not_fit_is_a_clear_error() -> None:
    with pytest.raises(SchemaError, match="not understood: 'x u8 y'"):
        EventSchema.parse(b"title\n0 u8 a\nx u8 y\n", 1, 64)
    with pytest.raises(SchemaError, match="overruns 64-byte"):
        EventSchema.parse(b"title\n60 u64 late\n", 1, 64)
    with pytest.raises(SchemaError, match="shorter"):
        SCHEMA.decode([b"\0" * 10])
    extended = SCHEMA_TEXT + b"64 u32 new_field (appended later)\n"
    assert EventSchema.parse(extended, 2, 68).field("new_field").offset == 64


def test_records_since_counts_what_was_overwritten() -> None:
    thread = RingThread(0, 50, [bytes([i]) for i in range(34, 50)])  # ring of 16
    fresh = records_since(thread, 10)
    assert (fresh.first, fresh.lost, fresh.next, len(fresh.records)) == (34, 24, 50, 16)
    caught_up = records_since(thread, 45)
    assert (caught_up.first, caught_up.lost, caught_up.records[0]) == (45, 0, bytes([45]))
    assert records_since(thread, 50).records == []
    restarted = records_since(RingThread(0, 3, [b"a", b"b", b"c"]), 50)  # a new VPP
    assert (restarted.first, restarted.lost, len(restarted.records)) == (0, 0, 3)


def doc(kind: str, n: int, size: int = 100) -> Document:
    return Document(kind, f"{kind}s", f"{kind}-{n}", {"n": f"{n:04d}", "pad": "x" * size})


def test_spool_drops_oldest_metrics_first_then_events_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    one = len(json.dumps(doc(EVENT, 0).body, separators=(",", ":")))
    with Spool(path, max_bytes=10 * one) as spool:
        spool.put([doc(EVENT, i) for i in range(4)] + [doc(METRIC, i) for i in range(6)])
        assert spool.count == 10
        dropped = spool.put([doc(EVENT, i) for i in range(4, 7)])
        assert dropped == {EVENT: 0, METRIC: 3}
        kept = [(d.kind, d.id) for d in spool.peek(100)]
        assert kept[:4] == [(EVENT, f"event-{i}") for i in range(4)]
        assert [i for k, i in kept if k == METRIC] == ["metric-3", "metric-4", "metric-5"]
        dropped = spool.put([doc(EVENT, i) for i in range(7, 12)])
        assert dropped == {EVENT: 2, METRIC: 3}
        assert [d.id for d in spool.peek(100)] == [f"event-{i}" for i in range(2, 12)]
        assert spool.bytes <= spool.max_bytes
    with Spool(path, max_bytes=10 * one) as again:  # totals survive a restart
        assert again.dropped == {EVENT: 2, METRIC: 6} and again.count == 10


def test_spool_keeps_the_cursor_with_the_documents(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.put([doc(EVENT, 1)], {"cursor": "{}"})
        spool.ack([d.seq for d in spool.peek(10)])
        assert spool.count == 0 and spool.bytes == 0
    with Spool(tmp_path / "s.sqlite") as spool:
        assert spool.state("cursor") == "{}"


def test_spool_ack_removes_exactly_the_acknowledged_documents(tmp_path: Path) -> None:
    # ack deletes runs of consecutive seq as ranges: a gap (a document kept for a
    # resend) must survive, and the byte and count totals follow the file
    with Spool(tmp_path / "s.sqlite") as spool:
        spool.put([doc(EVENT, i) for i in range(10)])
        seqs = [d.seq for d in spool.peek(10)]
        keep = {seqs[3], seqs[5], seqs[9]}
        spool.ack([s for s in seqs if s not in keep] + [seqs[0], 10**9])  # twice, unknown
        left = spool.peek(10)
        assert {d.seq for d in left} == keep and spool.count == 3
        assert spool.bytes == sum(len(d.body) for d in left)
    with Spool(tmp_path / "s.sqlite") as again:
        assert again.count == 3 and again.bytes == sum(len(d.body) for d in left)


def test_ids_are_those_of_earlier_releases() -> None:
    # a resend after an upgrade must hit the same _id (a 409), so the digests are
    # pinned: values computed by the shipper of the previous release
    assert ids.event_id("vpp-host", 1.8e9 + 0.25, 1, 4095) == "tmpcJJ280Ne1cwxcnkVZfknHN5E"
    assert ids.event_ids("vpp-host", 1.8e9 + 0.25, 1, 4094, 3)[1] == "tmpcJJ280Ne1cwxcnkVZfknHN5E"
    assert ids.metric_id("vpp-host", 1800000000123, "sa", ("7",)) == "xKMwXwcUMVUeSeexL5xKYCZC730"
    assert (
        ids.shipper_event_id("vpp-host", 1.8e9, "ring-overrun", 0, 12)
        == "BAlnRMHFMRa4ST63oWRdIWw8xNY"
    )


def sa_rows(docs: list[Document]) -> list[dict[str, object]]:
    return [flatten(d.body) for d in docs if d.body["metricset"]["name"] == "sa"]


def test_metric_deltas_through_clear_restart_and_reused_sa_index() -> None:
    base = base_snapshot()
    counters = base["/net/ipcomp/sa/compressed-in"].copy()
    sampler = MetricSampler(Observer("h"), "default", 10)

    def sample(value: int, at: float, names: list[str], segment: tuple[int, int] = (0, 0)):
        array = counters.copy()
        array[:] = 0
        array[0, 0] = [value, value * 100]
        values = {
            **base.values,
            "/net/ipcomp/sa/compressed-in": array,
            "/net/ipcomp/sa/names": names,
        }
        snap = dataclasses.replace(base, values=values, taken_at=at, segment_id=segment)
        (row,) = sa_rows(sampler.documents(snap))
        return row

    first = sample(10, 100.0, ["0"])
    assert "vpp.ipcomp.sa.compressed_in.packets" not in first  # no previous sample
    assert first["vpp.ipcomp.sa.compressed_in.packets_total"] == 10
    second = sample(25, 110.0, ["0"])
    assert second["vpp.ipcomp.sa.compressed_in.packets"] == 15
    assert second["vpp.ipcomp.sa.compressed_in.packets_per_second"] == pytest.approx(1.5)
    assert "vpp.ipcomp.sample.reset" not in second
    cleared = sample(4, 120.0, ["0"])  # clear: counter went back to 0, then 4
    assert cleared["vpp.ipcomp.sample.reset"] == "clear"
    assert cleared["vpp.ipcomp.sa.compressed_in.packets"] == 4
    assert cleared["vpp.ipcomp.sa.compressed_in.packets_total"] == 4  # as VPP reports it
    reused = sample(7, 130.0, ["9"])  # index 0 now holds SA 9
    assert reused["vpp.ipcomp.sample.reset"] == "new" and reused["vpp.ipcomp.sa.id"] == 9
    assert reused["vpp.ipcomp.sa.compressed_in.packets"] == 7
    restarted = sample(3, 140.0, ["9"], segment=(1, 2))
    assert restarted["vpp.ipcomp.sample.reset"] == "restart"
    assert restarted["vpp.ipcomp.sa.compressed_in.packets"] == 3
    assert restarted["vpp.ipcomp.sa.compressed_in.packets_total"] == 3


def test_fields_file_is_the_rendering_of_the_contract() -> None:
    path = ROOT / "exporter/shipper/fields/fields.yml"
    assert path.read_text() == fields.render_yaml(), "regenerate: fields.render_yaml()"
    groups = {g["name"]: g["fields"] for g in yaml.safe_load(path.read_text())}
    assert {f["name"] for f in groups["logs"]} == fields.names(fields.LOG_FIELDS)
    assert {f["name"] for f in groups["metrics"]} == fields.names(fields.METRIC_FIELDS)


def test_readme_table_is_the_fields_file() -> None:
    text = (ROOT / "exporter/shipper/README.md").read_text()
    table = re.search(r"<!-- fields:begin -->\n(.*?)<!-- fields:end -->", text, re.S)
    assert table is not None
    assert table.group(1) == fields.render_table()


def mapped(kind: str) -> set[str]:
    template = templates.stream_templates(kind, "elasticsearch", True, True)
    return set(flatten_mapping(template.package["template"]["mappings"]["properties"]))


def flatten_mapping(properties: dict[str, object], prefix: str = "") -> list[str]:
    out = []
    for name, mapping in properties.items():
        assert isinstance(mapping, dict)
        if "properties" in mapping:
            out += flatten_mapping(mapping["properties"], f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def test_kibana_objects_reference_only_mapped_fields() -> None:
    objects = kibana.saved_objects(kibana.default_files())
    by_id = {o["id"]: o for o in objects}
    streams = {"vppcomp-logs": mapped("logs"), "vppcomp-metrics": mapped("metrics")}
    assert {by_id[d]["attributes"]["title"] for d in streams} == {
        "logs-vpp.ipcomp-*",
        "metrics-vpp.ipcomp-*",
    }
    checked = 0
    for obj in objects:
        refs = [r["id"] for r in obj.get("references", []) if r["type"] == "index-pattern"]
        attributes = obj["attributes"]
        used: set[str] = set()
        if obj["type"] == "index-pattern":
            used.add(attributes["timeFieldName"])
            refs = [obj["id"]]
        if obj["type"] == "search":
            used |= set(attributes["columns"]) | {s[0] for s in attributes["sort"]}
            source = json.loads(attributes["kibanaSavedObjectMeta"]["searchSourceJSON"])
            used |= set(re.findall(r"([\w.@]+):", source["query"]["query"]))
        if obj["type"] == "lens":
            state = attributes["state"]
            for layer in state["datasourceStates"]["formBased"]["layers"].values():
                used |= {
                    c["sourceField"]
                    for c in layer["columns"].values()
                    if c["sourceField"] != "___records___"
                }
            used |= set(re.findall(r"([\w.@]+):", state["query"]["query"]))
        for ref in refs:
            missing = used - streams[ref]
            assert not missing, f"{obj['id']} uses unmapped {sorted(missing)}"
            checked += len(used)
        for ref in obj.get("references", []):
            assert ref["id"] in by_id, f"{obj['id']} references missing {ref['id']}"
    assert checked > 30


def test_self_metrics_appear_on_the_exporter(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite")
    spool.put([doc(EVENT, 1)])
    client = StatsClient(str(tmp_path / "no-vpp.sock"))
    shipper = Shipper(client, spool, lambda: None)  # type: ignore[arg-type,return-value]
    shipper.stats.failed["mapper_parsing_exception"] = 2
    exporter = Exporter(client, [*build_collectors(), ShipperCollector(shipper)])
    text, _ = exporter.render()
    body = text.decode()
    assert 'vpp_exporter_scrape_collector_success{collector="shipper"} 1' in body
    assert 'vpp_shipper_documents_failed_total{reason="mapper_parsing_exception"} 2' in body
    assert "vpp_shipper_spool_documents 1" in body
    assert re.search(r"^vpp_shipper_spool_bytes \d+", body, re.M)


def test_ipv6_decompress_failure_document() -> None:
    raw = record(
        type="decompress-failure", reason=8, sa_id=5, sa_index=0, cpi=9, length=1400,
        src="2001:db8::2", dst="2001:db8::1",
    )  # fmt: skip
    (decoded,) = SCHEMA.decode([raw])
    base = base_snapshot()
    (document,) = event_documents(
        [decoded], 1, 77, EventContext.of(base), Observer("h", "vpp1"), "ns", 1, 1.8e9
    )
    body = flatten(document.body)
    assert document.stream == "logs-vpp.ipcomp-ns"
    assert body["source.ip"] == "2001:db8::2" and body["network.type"] == "ipv6"
    # "reason decompress-failure 8 truncated-deflate" of the schema the plugin publishes
    assert body["event.reason"] == "truncated-deflate"
    assert body["event.outcome"] == "failure" and body["event.sequence"] == 77
    assert body["vpp.thread"] == 1 and body["network.bytes"] == 1400
    assert set(body) <= fields.names(fields.LOG_FIELDS)
    switch = SCHEMA.decode([record(type="engine-switch", reason=2, engine_index=1)])[0]
    (document,) = event_documents([switch], 0, 1, EventContext.of(base), Observer(), "n", 1, 0)
    body = flatten(document.body)
    # 2 = IPCOMP_FALLBACK_DEVICE_ERROR (plugin/ipcomp/ipcomp_async.h)
    assert body["event.reason"] == "device-error"


def test_overrun_while_the_shipper_was_stopped_is_reported_after_restart(tmp_path: Path) -> None:
    from shipper_helpers import with_ring

    from vppcomp.statseg.replay import SegmentServer
    from vppcomp.statseg.writer import SegmentWriter

    base = base_snapshot()
    pool = [record(type="sa-add", timestamp_ns=i) for i in range(16)]
    first = with_ring(base, [(10, pool[:10])], ring_size=16)
    socket = tmp_path / "stats.sock"
    with SegmentServer(socket, 2 * SegmentWriter.required_size(first)) as server:
        server.publish(first)
        spool = Spool(tmp_path / "spool.sqlite")
        shipper = Shipper(StatsClient(str(socket)), spool, lambda: None)  # type: ignore[arg-type,return-value]
        assert shipper.read() >= 10
        spool.close()
        server.publish(with_ring(base, [(50, pool)], ring_size=16))  # 40 more while stopped
        again = Shipper(StatsClient(str(socket)), Spool(tmp_path / "spool.sqlite"), lambda: None)  # type: ignore[arg-type,return-value]
        again.read()
    # a full ring gives ring_size - 1 records: the slot VPP writes next is never read
    assert again.stats.ring_overruns == 50 - 10 - 15
    actions = [json.loads(d.body)["event"].get("action") for d in again.spool.peek(10_000)]
    assert actions.count("ring-overrun") == 1
    assert actions.count("sa-add") == 10 + 15


def test_exporter_takes_the_shipper_flags(tmp_path: Path) -> None:
    from vppcomp.cli import build_parser
    from vppcomp.exporter.shipper.commands import build_shipper

    args = build_parser().parse_args(
        ["exporter", "--ship-url", "http://127.0.0.1:1", "--ship-namespace", "lab",
         "--ship-spool", str(tmp_path / "s.sqlite"), "--ship-spool-bytes", "1000"]
    )  # fmt: skip
    shipper = build_shipper(args, str(tmp_path / "stats.sock"))
    assert shipper.config.namespace == "lab" and shipper.spool.max_bytes == 1000
    assert not shipper.flush()  # nothing listens there: spooled, no exception
    assert not shipper.stats.cluster_up
