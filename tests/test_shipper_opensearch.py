"""The shipper against a real OpenSearch 2.19 (tests/opensearch_fixture.py):
documents from a replayed recording of a real VPP land with the mapped types;
engine stops and kills, and a kill -9 of the shipper, end with exactly the
documents produced; Kibana's saved searches find what they should."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearch_fixture import OpenSearchNode, opensearch, opensearch_own, request
from shipper_helpers import RECORDING, base_snapshot, record, with_ring

from vppcomp.exporter.shipper import backends, fields, ids, kibana, templates
from vppcomp.exporter.shipper.documents import Observer, flatten
from vppcomp.exporter.shipper.runner import Shipper, ShipperConfig
from vppcomp.exporter.shipper.spool import Spool
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.recording import read_frames
from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.writer import SegmentWriter

__all__ = ["opensearch", "opensearch_own"]  # fixtures

HOST = "vpp-test-host"
LOGS = "logs-vpp.ipcomp-{ns}"
METRICS = "metrics-vpp.ipcomp-{ns}"


def make_shipper(
    socket: Path, spool: Spool, url_of: Any, namespace: str, timeout: float = 30, **config: Any
) -> Shipper:
    settings = lambda: backends.Settings(url=url_of(), timeout=timeout, transport_retries=0)  # noqa: E731
    return Shipper(
        StatsClient(str(socket)),
        spool,
        lambda: backends.connect(settings()),
        Observer(hostname=HOST, name=HOST),
        ShipperConfig(namespace=namespace, interval=0.0, **config),
    )


def drain(shipper: Shipper, timeout: float = 120) -> None:
    """Flush until the spool is empty (retrying at once, not after the backoff)."""
    deadline = time.monotonic() + timeout
    while not shipper.flush(budget=10):
        assert time.monotonic() < deadline, "spool never drained"
        time.sleep(0.2)
        shipper._retry_at = 0


def all_docs(url: str, index: str) -> list[dict[str, Any]]:
    request(f"{url}/{index}/_refresh", "POST")
    answer = request(f"{url}/{index}/_search", "POST", {"size": 10000, "query": {"match_all": {}}})
    return list(answer["hits"]["hits"])


@pytest.fixture
def segment(tmp_path: Path) -> Iterator[SegmentServer]:
    size = 2 * max(SegmentWriter.required_size(f.snapshot) for f in read_frames(RECORDING))
    with SegmentServer(tmp_path / "stats.sock", size + (8 << 20)) as server:
        yield server


def test_recording_lands_with_the_mapped_types(
    opensearch: OpenSearchNode, segment: SegmentServer, tmp_path: Path
) -> None:
    ns = "recording"
    spool = Spool(tmp_path / "spool.sqlite")
    shipper = make_shipper(segment.socket_path, spool, lambda: opensearch.url, ns)
    frames = list(read_frames(RECORDING))
    for frame in frames:
        segment.publish(frame.snapshot)
        shipper.read()
    assert shipper.flush(budget=60)
    read = shipper.stats.read
    assert read["event"] == 2 and read["metric"] > len(frames)
    events = all_docs(opensearch.url, LOGS.format(ns=ns))
    metrics = all_docs(opensearch.url, METRICS.format(ns=ns))
    assert len(events) == read["event"] and len(metrics) == read["metric"]
    assert shipper.stats.shipped["event"] + shipper.stats.shipped["metric"] == sum(read.values())
    boot = frames[-1].snapshot["/sys/boottime"]
    assert {e["_id"] for e in events} == {ids.event_id(HOST, boot, 0, s) for s in (0, 1)}
    actions = sorted(e["_source"]["event"]["action"] for e in events)
    assert actions == ["protect-add", "sa-add"]
    sa_add = next(e["_source"] for e in events if e["_source"]["event"]["action"] == "sa-add")
    assert sa_add["source"]["ip"] == "192.168.1.1" and sa_add["destination"]["ip"] == "192.168.1.2"
    assert sa_add["vpp"]["ipcomp"]["cpi"] == 0x1234
    # every field written is in the contract, and mapped with its type
    contract = {f.name: f for f in fields.LOG_FIELDS + fields.METRIC_FIELDS}
    for hit in events + metrics:
        assert set(flatten(hit["_source"])) <= set(contract), hit["_source"]
    mapping = request(f"{opensearch.url}/{LOGS.format(ns=ns)}/_mapping")
    (index_mapping,) = mapping.values()
    props = index_mapping["mappings"]["properties"]
    assert props["source"]["properties"]["ip"]["type"] == "ip"
    assert (
        props["vpp"]["properties"]["ipcomp"]["properties"]["sa"]["properties"]["id"]["type"]
        == "long"
    )
    assert props["@timestamp"]["type"] == "date"
    # a term query on a mapped ip works (type ip, not text)
    found = request(
        f"{opensearch.url}/{LOGS.format(ns=ns)}/_search",
        "POST",
        {"query": {"term": {"destination.ip": "192.168.1.2"}}},
    )
    assert found["hits"]["total"]["value"] == 2
    # metric deltas add up to the counter's growth over the recording
    sa = sorted(
        (h["_source"] for h in metrics if h["_source"]["metricset"]["name"] == "sa"),
        key=lambda s: s["@timestamp"],
    )
    totals = [s["vpp"]["ipcomp"]["sa"]["compressed_in"]["packets_total"] for s in sa]
    deltas = [s["vpp"]["ipcomp"]["sa"]["compressed_in"].get("packets") for s in sa]
    assert deltas[0] is None and totals[-1] > totals[0]
    assert sum(d for d in deltas[1:] if d is not None) == totals[-1] - totals[0]


def test_templates_are_idempotent_and_leave_foreign_ones_alone(opensearch: OpenSearchNode) -> None:
    backend = backends.connect(backends.Settings(url=opensearch.url))
    assert backend.flavor == "opensearch" and not backend.tsds
    templates.install(backend)
    again = templates.install(backend)
    assert again.written == [] and again.foreign == []
    assert again.lifecycle == "none"  # no ISM plugin in this node
    template = request(f"{opensearch.url}/_index_template/logs-vpp.ipcomp")["index_templates"][0]
    assert template["index_template"]["priority"] > 100
    assert template["index_template"]["data_stream"] is not None
    # an operator's replacement (no _meta.managed_by) survives a new install
    mine = {"template": {"mappings": {"properties": {"mine": {"type": "keyword"}}}}, "version": 99}
    request(f"{opensearch.url}/_component_template/metrics-vpp.ipcomp@package", "PUT", mine)
    third = templates.install(backend)
    assert "metrics-vpp.ipcomp@package" in third.foreign
    kept = request(f"{opensearch.url}/_component_template/metrics-vpp.ipcomp@package")
    assert (
        "mine"
        in kept["component_templates"][0]["component_template"]["template"]["mappings"][
            "properties"
        ]
    )
    package = templates.stream_templates("metrics", "opensearch", False, False).package
    request(f"{opensearch.url}/_component_template/metrics-vpp.ipcomp@package", "PUT", package)


def event_batch(start: int, count: int) -> list[bytes]:
    return [
        record(
            timestamp_ns=1_800_000_000_000_000_000 + i * 1000,
            type="decompress-failure" if i % 3 else "sa-add",
            reason=4,
            sa_index=0,
            sa_id=0,
            cpi=0x1234,
            length=100 + i,
            src="192.168.1.2",
            dst="192.168.1.1",
        )
        for i in range(start, start + count)
    ]


def test_engine_stopped_and_killed_mid_run_loses_and_duplicates_nothing(
    opensearch_own: OpenSearchNode, segment: SegmentServer, tmp_path: Path
) -> None:
    ns = "outage"
    node = opensearch_own
    base = base_snapshot()
    spool = Spool(tmp_path / "spool.sqlite")
    shipper = make_shipper(segment.socket_path, spool, lambda: node.url, ns, 3, batch_size=200)
    produced = 0

    def step(n: int) -> None:
        nonlocal produced
        produced += n
        records = event_batch(0, produced)[-4096:]
        segment.publish(with_ring(base, [(produced, records)]))
        shipper.read()

    step(300)
    drain(shipper)
    node.pause()  # SIGSTOP: requests time out
    step(500)
    assert not shipper.flush(budget=5)
    assert spool.count >= 500 and not shipper.stats.cluster_up
    node.kill()  # SIGKILL while stopped, then a restart on the same data
    step(400)
    assert not shipper.flush(budget=5)
    node.start()
    drain(shipper)
    events = all_docs(node.url, LOGS.format(ns=ns))
    metrics = all_docs(node.url, METRICS.format(ns=ns))
    boot = base["/sys/boottime"]
    assert sorted(e["_id"] for e in events) == sorted(
        ids.event_id(HOST, boot, 0, s) for s in range(produced)
    )
    assert len(metrics) == shipper.stats.read["metric"]
    assert len({m["_id"] for m in metrics}) == len(metrics)
    assert shipper.stats.ring_overruns == 0 and spool.count == 0


def test_ring_overrun_is_an_event_and_a_counter(
    opensearch: OpenSearchNode, segment: SegmentServer, tmp_path: Path
) -> None:
    ns = "overrun"
    base = base_snapshot()
    spool = Spool(tmp_path / "spool.sqlite")
    shipper = make_shipper(segment.socket_path, spool, lambda: opensearch.url, ns)
    segment.publish(with_ring(base, [(10, event_batch(0, 10))], ring_size=16))
    shipper.read()
    # 40 more written while the shipper looked away; a full ring of 16 gives
    # 15 records (the slot VPP writes next is never read)
    segment.publish(with_ring(base, [(50, event_batch(34, 16))], ring_size=16))
    shipper.read()
    assert shipper.flush(budget=30)
    assert shipper.stats.ring_overruns == 25
    request(f"{opensearch.url}/{LOGS.format(ns=ns)}/_refresh", "POST")
    hits = request(
        f"{opensearch.url}/{LOGS.format(ns=ns)}/_search",
        "POST",
        {"query": {"term": {"event.action": "ring-overrun"}}},
    )["hits"]["hits"]
    assert len(hits) == 1
    assert hits[0]["_source"]["vpp"]["ipcomp"]["ring"]["lost"] == 25
    assert hits[0]["_source"]["event"]["sequence"] == 35


def test_shipper_killed_mid_batch_then_restarted(
    opensearch: OpenSearchNode, segment: SegmentServer, tmp_path: Path
) -> None:
    ns = "kill9"
    base = base_snapshot()
    total = 4000
    segment.publish(with_ring(base, [(total, event_batch(0, total))]))
    spool_path = tmp_path / "spool.sqlite"
    command = [
        sys.executable,
        "-m",
        "vppcomp.cli",
        "ship",
        "--stats-socket",
        str(segment.socket_path),
        "--url",
        opensearch.url,
        "--ship-namespace",
        ns,
        "--ship-spool",
        str(spool_path),
        "--ship-batch-size",
        "25",
        "--ship-interval",
        "3600",
        "--ship-host-name",
        HOST,
    ]
    index = LOGS.format(ns=ns)
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                count = request(f"{opensearch.url}/{index}/_count")["count"]
            except OSError:
                count = 0
            if count >= 200:
                break
            assert time.monotonic() < deadline and first.poll() is None, first.stderr
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    request(f"{opensearch.url}/{index}/_refresh", "POST")
    assert request(f"{opensearch.url}/{index}/_count")["count"] < total
    second = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while Spool(spool_path).count or not request(f"{opensearch.url}/{index}/_count")["count"]:
            assert time.monotonic() < deadline and second.poll() is None
            time.sleep(0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    events = [
        e
        for e in all_docs(opensearch.url, index)
        if e["_source"]["event"]["action"] not in ("ring-overrun", "vpp-restart")
    ]
    boot = base["/sys/boottime"]
    assert sorted(e["_id"] for e in events) == sorted(
        ids.event_id(HOST, boot, 0, s) for s in range(total)
    )


def test_saved_searches_find_their_documents(
    opensearch: OpenSearchNode, segment: SegmentServer, tmp_path: Path
) -> None:
    ns = "kibana"
    base = base_snapshot()
    kinds = [
        ("decompress-failure", 8, "192.168.7.2"),
        ("device-failure", 2, None),
        ("device-recovery", 0, None),
        ("engine-switch", 0, None),
        ("sa-add", 0, "192.168.1.2"),
        ("sa-del", 0, "192.168.1.2"),
        ("protect-add", 0, "192.168.1.2"),
    ]
    records = [
        record(
            timestamp_ns=1_800_000_000_000_000_000 + i,
            type=kind,
            reason=reason,
            sa_index=0 if src else None,
            sa_id=0 if src else None,
            src=src,
            dst="192.168.1.1" if src else None,
            engine_index=2 if kind.startswith(("device", "engine")) else 1,
        )
        for i, (kind, reason, src) in enumerate(kinds)
    ]
    segment.publish(with_ring(base, [(len(records), records)]))
    shipper = make_shipper(
        segment.socket_path, Spool(tmp_path / "s.sqlite"), lambda: opensearch.url, ns
    )
    shipper.read()
    assert shipper.flush(budget=30)
    request(f"{opensearch.url}/logs-vpp.ipcomp-{ns}/_refresh", "POST")
    expected = {
        "vppcomp-search-decompress-failures": {"decompress-failure"},
        "vppcomp-search-offload-fallbacks": {"device-failure", "device-recovery", "engine-switch"},
        "vppcomp-search-sa-lifecycle": {"sa-add", "sa-del", "protect-add"},
    }
    searches = {
        o["id"]: o for o in kibana.saved_objects(kibana.default_files()) if o["type"] == "search"
    }
    assert set(searches) == set(expected)
    for search_id, actions in expected.items():
        source = json.loads(
            searches[search_id]["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
        )
        assert source["query"]["language"] == "lucene"
        hits = request(
            f"{opensearch.url}/logs-vpp.ipcomp-{ns}/_search",
            "POST",
            {"size": 100, "query": {"query_string": {"query": source["query"]["query"]}}},
        )["hits"]["hits"]
        assert {h["_source"]["event"]["action"] for h in hits} == actions, search_id
    failure = next(
        h["_source"]
        for h in all_docs(opensearch.url, f"logs-vpp.ipcomp-{ns}")
        if h["_source"]["event"]["action"] == "decompress-failure"
    )
    # "reason decompress-failure 8 truncated-deflate" of the schema the plugin publishes
    assert failure["event"]["reason"] == "truncated-deflate"
    assert failure["source"]["ip"] == "192.168.7.2"
