"""Servers for tests, on loopback: an ASGI app under uvicorn in a thread (the
exporter's app as :class:`Service`, the topology router), and a real
Prometheus server (Debian ``prometheus``)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.web.app import create_app
from vppcomp.topology.web import TopologySettings, topology_router


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_app(app: Any) -> Iterator[int]:
    """Serve ``app`` with uvicorn in a thread on a free port; yield the port;
    always stop it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def prometheus_server(
    workdir: Path,
    targets: list[str],
    interval: str = "1s",
    rule_files: Sequence[Path] = (),
) -> Iterator[str]:
    """Run Prometheus scraping ``targets`` (host:port) every ``interval``
    (job ``vpp``), evaluating ``rule_files`` at the same interval; yield its
    base URL; always stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    rules = [str(Path(f).resolve()) for f in rule_files]
    config.write_text(
        f"global: {{scrape_interval: {interval}, evaluation_interval: {interval}}}\n"
        f"rule_files: {rules!r}\n"
        "scrape_configs:\n"
        "  - job_name: vpp\n"
        f"    static_configs: [{{targets: {targets!r}}}]\n"
    )
    port = free_port()
    with (workdir / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def instant_query(url: str, promql: str) -> dict[str, Any]:
    """One ``/api/v1/query``: the decoded JSON answer (``status``, ``data``
    or ``error``), or ``{"status": "unreachable"}`` while Prometheus starts."""
    try:
        answer: dict[str, Any] = httpx.get(
            f"{url}/api/v1/query", params={"query": promql}, timeout=10
        ).json()
    except (httpx.TransportError, ValueError):
        return {"status": "unreachable"}
    return answer


def wait_for_series(url: str, promql: str, timeout: float = 90.0) -> list[dict[str, Any]]:
    """Poll until ``promql`` returns a non-empty result; [] on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = instant_query(url, promql)
        if answer.get("status") == "success" and answer["data"]["result"]:
            return list(answer["data"]["result"])
        time.sleep(0.5)
    return []


class Service:
    """The exporter's FastAPI app served on a free loopback port."""

    def __init__(self, exporter: Exporter) -> None:
        self._serving = serve_app(create_app(exporter))
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Service:
        self.port = self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.__exit__(None, None, None)


def topology_app(settings: TopologySettings) -> FastAPI:
    """An app serving only the topology router."""
    app = FastAPI()
    app.include_router(topology_router(settings))
    return app


@contextmanager
def serve_topology(settings: TopologySettings) -> Iterator[str]:
    """The topology router in a uvicorn server on a free port; yields the page's URL."""
    with serve_app(topology_app(settings)) as port:
        yield f"http://127.0.0.1:{port}/topology/"
