"""A real Prometheus server (Debian ``prometheus``) scrapes the exporter over
loopback; PromQL on it returns the series the segment holds."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from exporter_helpers import SIZE
from exporter_shapes import exporter_snapshot
from servers import Service, prometheus_server, wait_for_series

from vppcomp.exporter.metrics.collectors import build_collectors
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.metrics.options import Options
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.replay import SegmentServer

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None, reason="prometheus not installed (Debian package)"
)


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, Service]]:
    """The exporter on a replayed segment and a Prometheus scraping it every
    second; yields Prometheus' URL and the exporter service. Both stop."""
    with SegmentServer(tmp_path / "stats.sock", SIZE) as segment:
        segment.publish(exporter_snapshot())
        exporter = Exporter(StatsClient(segment.socket_path), build_collectors(), Options())
        with (
            Service(exporter) as service,
            prometheus_server(tmp_path / "prometheus", [f"127.0.0.1:{service.port}"]) as url,
        ):
            yield url, service


def test_prometheus_scrapes_the_exporter(prometheus: tuple[str, Service]) -> None:
    url, _ = prometheus
    snap = exporter_snapshot()
    up = wait_for_series(url, 'up{job="vpp"} == 1')
    assert up, "Prometheus never scraped the exporter successfully"
    rx = wait_for_series(url, 'vpp_interface_rx_bytes_total{interface="loop0"}')
    assert [float(r["value"][1]) for r in rx] == [float(snap["/if/rx"].sum(axis=0)[1, 1])]
    errors = wait_for_series(
        url, 'vpp_node_errors_total{node="ipcomp4-decompress",reason="corrupt"}'
    )
    link = snap.symlink("/err/ipcomp4-decompress/corrupt")
    assert link is not None
    assert float(errors[0]["value"][1]) == float(snap["/node/errors"].sum(axis=0)[link.index])
    buckets = wait_for_series(
        url, 'vpp_ipcomp_engine_op_clocks_bucket{engine="isal",op="compress"}'
    )
    assert len(buckets) == snap["/net/ipcomp/engine/isal/compress-clocks"].bins.shape[1]
    quantile = wait_for_series(
        url, 'histogram_quantile(0.5, vpp_ipcomp_engine_op_clocks_bucket{engine="isal"})'
    )
    assert {r["metric"]["op"] for r in quantile} == {"compress", "decompress"}
    assert wait_for_series(url, "vpp_up == 1")
