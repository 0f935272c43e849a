"""A real Prometheus server (Debian ``prometheus``) scrapes the exporter over
loopback; PromQL on it returns the series the segment holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vppcomp.metrics.collectors import build_collectors
from vppcomp.metrics.exporter import Exporter
from vppcomp.metrics.options import Options
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.replay import SegmentServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
sys.path.insert(0, str(Path(__file__).parent))

from exporter_shapes import exporter_snapshot
from test_exporter import SIZE
from test_exporter_web import Service, free_port

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
        with Service(exporter) as service:
            config = tmp_path / "prometheus.yml"
            config.write_text(
                "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: vpp\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{service.port}']}}]\n"
            )
            port = free_port()
            log = (tmp_path / "prometheus.log").open("wb")
            process = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                yield f"http://127.0.0.1:{port}", service
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                log.close()


def query(url: str, promql: str, timeout: float = 90.0) -> list[dict]:
    """Poll Prometheus until ``promql`` returns a non-empty vector."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10)
            result = response.json()["data"]["result"] if response.status_code == 200 else []
        except httpx.TransportError:
            result = []
        if result or time.monotonic() > deadline:
            return list(result)
        time.sleep(0.5)


def test_prometheus_scrapes_the_exporter(prometheus: tuple[str, Service]) -> None:
    url, _ = prometheus
    snap = exporter_snapshot()
    up = query(url, 'up{job="vpp"} == 1')
    assert up, "Prometheus never scraped the exporter successfully"
    rx = query(url, 'vpp_interface_rx_bytes_total{interface="loop0"}')
    assert [float(r["value"][1]) for r in rx] == [float(snap["/if/rx"].sum(axis=0)[1, 1])]
    errors = query(url, 'vpp_node_errors_total{node="ipcomp4-decompress",reason="corrupt"}')
    link = snap.symlink("/err/ipcomp4-decompress/corrupt")
    assert link is not None
    assert float(errors[0]["value"][1]) == float(snap["/node/errors"].sum(axis=0)[link.index])
    buckets = query(url, 'vpp_ipcomp_engine_op_clocks_bucket{engine="isal",op="compress"}')
    assert len(buckets) == snap["/net/ipcomp/engine/isal/compress-clocks"].bins.shape[1]
    quantile = query(
        url, 'histogram_quantile(0.5, vpp_ipcomp_engine_op_clocks_bucket{engine="isal"})'
    )
    assert {r["metric"]["op"] for r in quantile} == {"compress", "decompress"}
    assert query(url, "vpp_up == 1")
