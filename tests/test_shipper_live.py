"""A live VPP running the ipcomp plugin (one worker), traffic through its
tunnel and bad packets from the peer, shipped to the real OpenSearch: the
SA and tunnel events from the main thread's ring, the decompression failures
from the worker's ring with the node's error names, and metric documents
whose deltas are the packets sent."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ipcomp_traffic import BCAST, CPI, OUTER, ether, ip4_packet, make_traffic, setup_a
from opensearch_fixture import OpenSearchNode, opensearch, request
from plugin_vpp import PluginBuild, ipcomp_plugin, pg_replay, start_ipcomp_vpp

from vppcomp.exporter.metrics.collectors.ipcomp_api import ApiDirectory
from vppcomp.exporter.shipper import backends
from vppcomp.exporter.shipper.documents import Observer, flatten
from vppcomp.exporter.shipper.runner import Shipper, ShipperConfig
from vppcomp.exporter.shipper.spool import Spool
from vppcomp.statseg.client import StatsClient
from vppcomp.topology.api_source import PapiSource

pytestmark = pytest.mark.live
__all__ = ["ipcomp_plugin", "opensearch"]  # fixtures


def test_live_vpp_events_and_metrics_land_in_opensearch(
    vpp_factory: Callable[..., Any],
    ipcomp_plugin: PluginBuild,
    opensearch: OpenSearchNode,
    tmp_path: Path,
) -> None:
    a = start_ipcomp_vpp(vpp_factory, ipcomp_plugin, startup_extra="cpu { workers 1 }")
    setup_a(a, 4, "zlib")
    ns = "live"
    settings = backends.Settings(url=opensearch.url)
    shipper = Shipper(
        StatsClient(str(a.stats_socket)),
        Spool(tmp_path / "spool.sqlite"),
        lambda: backends.connect(settings),
        Observer(hostname="live-host"),
        ShipperConfig(namespace=ns, interval=0.0),
    )
    shipper.read()  # baseline sample
    inners = make_traffic(4, seed=7)
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    pg_replay(a, "inner", frames, "pg0", capture={"pg1": len(frames) + 8})
    bad = [
        ether(
            BCAST,
            0x0800,
            ip4_packet(OUTER[4][1], OUTER[4][0], 108, struct.pack("!BBH", 4, 0, CPI) + junk),
        )
        for junk in (b"\xff" * 40, b"", b"\x07\x00\x00")
    ]
    pg_replay(a, "bad", bad, "pg1")
    shipper.read()
    assert shipper.flush(budget=60)
    logs = f"logs-vpp.ipcomp-{ns}"
    request(f"{opensearch.url}/{logs}/_refresh", "POST")
    hits = request(f"{opensearch.url}/{logs}/_search", "POST", {"size": 100})["hits"]["hits"]
    events = [flatten(h["_source"]) for h in hits]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_action.setdefault(e["event.action"], []).append(e)
    assert {e["vpp.thread"] for e in by_action["sa-add"] + by_action["protect-add"]} == {0}
    failures = by_action["decompress-failure"]
    assert len(failures) == len(bad)
    assert {e["vpp.thread"] for e in failures} == {1}
    assert {e["source.ip"] for e in failures} == {OUTER[4][1]}
    names = {e.get("event.reason") for e in failures}
    assert None not in names and names <= {
        "truncated",
        "corrupt",
        "truncated-deflate",
        "bad-header",
    }
    metrics = f"metrics-vpp.ipcomp-{ns}"
    request(f"{opensearch.url}/{metrics}/_refresh", "POST")
    query = {
        "size": 10,
        "sort": [{"@timestamp": "desc"}],
        "query": {"term": {"metricset.name": "sa"}},
    }
    (latest, _) = request(f"{opensearch.url}/{metrics}/_search", "POST", query)["hits"]["hits"][:2]
    sa = flatten(latest["_source"])
    sent = (
        sa["vpp.ipcomp.sa.compressed_in.packets"]
        + sa["vpp.ipcomp.sa.bypass.packets"]
        + sa["vpp.ipcomp.sa.incompressible.packets"]
        + sa["vpp.ipcomp.sa.backoff.packets"]
    )
    assert sent == len(frames)
    assert sa["vpp.ipcomp.sa.rx_errors.packets"] == len(bad)
    assert sa["vpp.ipcomp.sa.compressed_in.packets_per_second"] > 0
    # observer.version from the binary API, as `vppcomp ship --api-socket` asks it
    source = PapiSource(str(a.api_socket), [str(d) for d in a.api_dirs], name="west")
    version = ApiDirectory(source).vpp_version()
    source.close()
    assert version is not None and version.startswith("26.06"), version
