"""The shipper through the real ``elasticsearch`` client and transport against
Elasticsearch's API as documented (tests/elasticsearch_api.py on loopback):
product check, ILM, time-series data streams, per-item 429, partial failures,
and the transport's own resends. Assertions are on what was sent.

With ``ES_URL`` set, the tests that need no injected faults run against
that cluster instead.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch_api import ElasticServer
from shipper_helpers import base_snapshot, record, with_ring

from vppcomp.exporter.shipper import backends, ids, templates
from vppcomp.exporter.shipper.documents import Observer
from vppcomp.exporter.shipper.runner import Shipper, ShipperConfig
from vppcomp.exporter.shipper.spool import Spool
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.replay import SegmentServer
from vppcomp.statseg.writer import SegmentWriter

HOST = "vpp-es-host"
ES_URL = os.environ.get("ES_URL")
faults_only = pytest.mark.skipif(bool(ES_URL), reason="injects faults: fake Elasticsearch only")


@pytest.fixture
def es() -> Iterator[ElasticServer]:
    with ElasticServer() as server:
        yield server


@pytest.fixture
def segment(tmp_path: Path) -> Iterator[SegmentServer]:
    snap = with_ring(base_snapshot(), [(0, [])])
    with SegmentServer(tmp_path / "stats.sock", 2 * SegmentWriter.required_size(snap)) as server:
        yield server


def events(n: int) -> list[bytes]:
    return [
        record(
            timestamp_ns=1_800_000_000_000_000_000 + i,
            type="decompress-failure",
            reason=8,
            sa_index=0,
            sa_id=0,
            src="192.168.1.2",
            dst="192.168.1.1",
        )
        for i in range(n)
    ]


def shipper_for(url: str, segment: SegmentServer, tmp_path: Path, retries: int = 0) -> Shipper:
    settings = backends.Settings(url=url, timeout=10, transport_retries=retries)
    return Shipper(
        StatsClient(str(segment.socket_path)),
        Spool(tmp_path / "spool.sqlite"),
        lambda: backends.connect(settings),
        Observer(hostname=HOST, name=HOST),
        ShipperConfig(namespace="es", interval=0.0, batch_size=500),
    )


def publish_events(segment: SegmentServer, n: int) -> float:
    snap = with_ring(base_snapshot(), [(n, events(n))])
    segment.publish(snap)
    return float(snap["/sys/boottime"])


@faults_only
def test_product_check_ilm_and_time_series_templates(es: ElasticServer) -> None:
    backend = backends.connect(backends.Settings(url=es.url))
    assert backend.flavor == "elasticsearch" and backend.tsds
    report = templates.install(backend)
    assert report.lifecycle == "ilm"
    puts = [r.path for r in es.state.requests if r.method == "PUT"]
    assert puts[0] == "/_ilm/policy/vpp.ipcomp"
    assert "/_index_template/metrics-vpp.ipcomp" in puts
    # the 8.x client asks for the 8.x API: also answered by 9.x
    client_requests = [r for r in es.state.requests if r.path != "/"]  # "/" is the probe
    assert all("compatible-with=8" in r.headers["accept"] for r in client_requests)
    metrics = es.state.component_templates["metrics-vpp.ipcomp@package"]["template"]
    assert metrics["settings"]["index.mode"] == "time_series"
    assert metrics["settings"]["index.lifecycle.name"] == "vpp.ipcomp"
    assert "observer.hostname" in metrics["settings"]["index.routing_path"]
    props = metrics["mappings"]["properties"]
    sa = props["vpp"]["properties"]["ipcomp"]["properties"]["sa"]["properties"]
    assert sa["id"]["time_series_dimension"] is True
    assert sa["compressed_in"]["properties"]["bytes_total"]["time_series_metric"] == "counter"
    assert sa["compressed_in"]["properties"]["bytes"]["time_series_metric"] == "gauge"
    logs = es.state.component_templates["logs-vpp.ipcomp@package"]["template"]
    assert "index.mode" not in logs["settings"]
    index = es.state.index_templates["logs-vpp.ipcomp"]
    assert index["priority"] > 100 and index["data_stream"] == {}
    # a second start writes nothing
    before = len([r for r in es.state.requests if r.method == "PUT"])
    assert templates.install(backend).written == []
    assert len([r for r in es.state.requests if r.method == "PUT"]) == before


@faults_only
def test_not_elasticsearch_is_a_clear_error(es: ElasticServer) -> None:
    es.state.product_header = False
    backend = backends.connect(backends.Settings(url=es.url))
    with pytest.raises(backends.ClusterUnavailable, match="Elasticsearch"):
        templates.install(backend)


@faults_only
def test_documents_ids_and_order_as_sent(
    es: ElasticServer, segment: SegmentServer, tmp_path: Path
) -> None:
    boot = publish_events(segment, 30)
    shipper = shipper_for(es.url, segment, tmp_path)
    shipper.read()
    assert shipper.flush(budget=30)
    (bulk,) = es.bulk_requests()
    assert {next(iter(action)) for action, _ in bulk} == {"create"}
    sent_events = [(a["create"], s) for a, s in bulk if a["create"]["_index"].startswith("logs-")]
    assert [a["_id"] for a, _ in sent_events] == [ids.event_id(HOST, boot, 0, s) for s in range(30)]
    assert [s["event"]["sequence"] for _, s in sent_events] == list(range(30))
    sent_metrics = [a["create"] for a, _ in bulk if a["create"]["_index"].startswith("metrics-")]
    assert sent_metrics and all("_id" not in a for a in sent_metrics)  # TSDS derives the id
    assert sum(len(d) for d in es.state.docs.values()) == len(bulk)
    bulks = [r for r in es.state.requests if r.path.startswith("/_bulk")]
    assert all("x-ndjson" in r.headers["content-type"] for r in bulks)
    # the answer is asked for without what the shipper does not read
    queries = [urllib.parse.parse_qs(r.path.partition("?")[2]) for r in bulks]
    assert all(q["filter_path"] == ["errors,items.*.status,items.*.error"] for q in queries)


@faults_only
def test_per_item_429_stays_spooled_and_is_resent_once(
    es: ElasticServer, segment: SegmentServer, tmp_path: Path
) -> None:
    boot = publish_events(segment, 20)
    refused = [ids.event_id(HOST, boot, 0, s) for s in (5, 11)]
    for doc_id in refused:
        es.state.item_faults[doc_id] = (429, "es_rejected_execution_exception")
    shipper = shipper_for(es.url, segment, tmp_path)
    shipper.read()
    assert not shipper.flush(budget=30)
    assert shipper.stats.retried == {"429": 2}
    assert shipper.spool.count == 2
    shipper._retry_at = 0
    assert shipper.flush(budget=30)
    first, second = es.bulk_requests()
    assert len(first) > 20  # all events and the metric documents
    assert [a["create"]["_id"] for a, _ in second] == refused
    stored = es.state.docs["logs-vpp.ipcomp-es"]
    assert len(stored) == 20 and shipper.stats.already_present == 0


@faults_only
def test_transport_resend_of_a_written_batch_counts_409_as_delivered(
    es: ElasticServer, segment: SegmentServer, tmp_path: Path
) -> None:
    publish_events(segment, 10)
    es.state.fail_after_write = [502]  # written, then a proxy's 502: the transport resends
    shipper = shipper_for(es.url, segment, tmp_path, retries=2)
    shipper.read()
    assert shipper.flush(budget=30)
    assert len(es.bulk_requests()) == 2
    produced = sum(shipper.stats.read.values())
    assert shipper.stats.already_present == produced
    assert sum(shipper.stats.shipped.values()) == 0
    assert sum(len(d) for d in es.state.docs.values()) == produced
    assert shipper.spool.count == 0


@faults_only
def test_permanent_refusal_is_kept_as_dead_and_counted(
    es: ElasticServer, segment: SegmentServer, tmp_path: Path
) -> None:
    boot = publish_events(segment, 5)
    bad = ids.event_id(HOST, boot, 0, 3)
    es.state.item_faults[bad] = (400, "document_parsing_exception")
    shipper = shipper_for(es.url, segment, tmp_path)
    shipper.read()
    assert shipper.flush(budget=30)
    assert shipper.stats.failed == {"document_parsing_exception": 1}
    ((doc_id, reason, error),) = shipper.spool.dead()
    assert doc_id == bad and reason == "document_parsing_exception" and "injected" in error
    assert len(es.state.docs["logs-vpp.ipcomp-es"]) == 4


@faults_only
def test_a_refused_request_keeps_every_document(
    es: ElasticServer, segment: SegmentServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    publish_events(segment, 8)
    es.state.refuse_bulk = [401, 413]  # credentials, then a too large request
    shipper = shipper_for(es.url, segment, tmp_path)
    shipper.read()
    produced = sum(shipper.stats.read.values())
    with caplog.at_level(logging.WARNING, logger="vppcomp.exporter.shipper.runner"):
        assert not shipper.flush(budget=30)
    # the log tells why (filter_path does not filter an error answer)
    assert "401: AuthenticationException(401, 'security_exception')" in caplog.text
    shipper._retry_at = 0
    assert not shipper.flush(budget=30)
    assert shipper.stats.retried == {"401": produced, "413": produced}
    assert shipper.stats.failed == {} and shipper.spool.dead() == []
    shipper._retry_at = 0
    assert shipper.flush(budget=30)
    assert sum(len(d) for d in es.state.docs.values()) == produced


@pytest.mark.skipif(not ES_URL, reason="ES_URL not set: no real Elasticsearch")
def test_real_cluster_takes_the_documents(segment: SegmentServer, tmp_path: Path) -> None:
    assert ES_URL is not None
    publish_events(segment, 10)
    shipper = shipper_for(ES_URL, segment, tmp_path)
    shipper.read()
    assert shipper.flush(budget=60)
    (tmp_path / "again").mkdir()
    again = shipper_for(ES_URL, segment, tmp_path / "again")
    again.read()
    assert again.flush(budget=60)
    assert again.stats.already_present >= 10
    assert json.dumps(shipper.stats.failed) == "{}"
