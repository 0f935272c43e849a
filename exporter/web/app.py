"""The exporter's HTTP service (FastAPI).

* ``GET /``: a landing page with links to every endpoint, the versions of
  vppcomp, prometheus-client and Python, and whether VPP is reachable.
* ``GET /metrics``: one scrape, streamed family by family (chunked) so that
  a large body is never held whole. The format is prometheus-client's choice
  for the ``Accept`` header (``choose_encoder``: OpenMetrics or the text
  format); gzip-compressed (ISA-L level 1) when ``Accept-Encoding`` allows gzip
  (prometheus-client's ``gzip_accepted``), as Prometheus asks. Always 200:
  without VPP it carries ``vpp_up 0`` and the self-metrics.
* ``GET /healthz``: liveness: 200 ``{"status": "serving", ...}`` whenever the
  exporter answers, whatever VPP's state (a liveness probe must not restart
  a healthy exporter because VPP is down).
* ``GET /readyz``: readiness: whether VPP's stats socket answers now and how
  old the last good read is; 200 when reachable, 503 otherwise.
* ``GET /api/interfaces``, ``/api/ipcomp/sas``, ``/api/ipcomp/engines``,
  ``/api/ipcomp/events?limit=N``: JSON views of a fresh snapshot
  (:mod:`vppcomp.exporter.web.views`); 503 with ``{"error": ...}`` without VPP.

Handlers are plain functions, so Starlette runs them in its thread pool and
concurrent requests never block the event loop; the exporter serialises
scrapes itself.
"""

from __future__ import annotations

import html
import os
import platform
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from isal import isal_zlib
from prometheus_client.exposition import gzip_accepted

from vppcomp import __version__
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.web import views
from vppcomp.statseg.client import receive_segment_fd
from vppcomp.statseg.layout import READ_ERRORS, StatsUnavailable
from vppcomp.statseg.snapshot import Snapshot

GZIP_LEVEL = 1  # ISA-L level 1: ~7x smaller text, ~6x faster than zlib's level 1
LINKS = (
    ("/metrics", "metrics (Prometheus text; OpenMetrics on Accept)"),
    ("/healthz", "liveness"),
    ("/readyz", "readiness: VPP's stats socket answers"),
    ("/api/interfaces", "interfaces (JSON)"),
    ("/api/ipcomp/sas", "ipcomp SAs (JSON)"),
    ("/api/ipcomp/engines", "ipcomp engines (JSON)"),
    ("/api/ipcomp/events", "ipcomp events (JSON)"),
)


def gzip_chunks(chunks: Iterator[bytes], level: int = GZIP_LEVEL) -> Iterator[bytes]:
    """``chunks`` as one gzip stream, compressed as they are read (ISA-L,
    python-isal's zlib-compatible API)."""
    compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, 31)
    for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()


def readiness(exporter: Exporter) -> tuple[dict[str, Any], bool]:
    """Whether VPP's stats socket answers now, and the last good read."""
    error = None
    try:
        os.close(receive_segment_fd(exporter.client.socket_path))
    except StatsUnavailable as unavailable:
        error = str(unavailable)
    last = exporter.client.stats.last_success or None
    body = {
        "vpp_reachable": error is None,
        "stats_socket": exporter.client.socket_path,
        "last_success": last,
        "last_success_age_seconds": None if last is None else max(time.time() - last, 0.0),
        "error": error,
    }
    return body, error is None


def landing_page(links: list[tuple[str, str]], ready: bool) -> str:
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(href)}</a>: {html.escape(text)}</li>'
        for href, text in links
    )
    versions = (
        f"vppcomp {__version__}, prometheus-client {version('prometheus-client')}, "
        f"Python {platform.python_version()}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>vppcomp exporter</title></head><body><h1>vppcomp exporter</h1>"
        f"<p>{html.escape(versions)}</p><p>VPP reachable: {'yes' if ready else 'no'}</p>"
        f"<ul>{items}</ul></body></html>\n"
    )


def create_app(exporter: Exporter) -> FastAPI:
    """The FastAPI application serving ``exporter``."""
    app = FastAPI(title="vppcomp exporter", version=__version__)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        links = list(LINKS)
        if any(getattr(r, "path", "") == "/topology/" for r in app.routes):
            links.append(("/topology/", "packet graph and tunnel diagrams"))
        return HTMLResponse(landing_page(links, readiness(exporter)[1]))

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        chunks, content_type = exporter.stream(request.headers.get("accept"))
        headers = {"Vary": "Accept, Accept-Encoding"}
        if gzip_accepted(request.headers.get("accept-encoding", "")):
            chunks = gzip_chunks(chunks)
            headers["Content-Encoding"] = "gzip"
        return StreamingResponse(chunks, media_type=content_type, headers=headers)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "serving", "version": __version__})

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        body, ready = readiness(exporter)
        return JSONResponse(body, status_code=200 if ready else 503)

    def view(build: Callable[[Snapshot], Any], ring_records: bool = False) -> JSONResponse:
        try:
            snapshot = exporter.client.snapshot(ring_records=ring_records)
        except READ_ERRORS as error:
            return JSONResponse({"error": str(error)}, status_code=503)
        return JSONResponse({"taken_at": snapshot.taken_at, "items": build(snapshot)})

    @app.get("/api/interfaces")
    def api_interfaces() -> JSONResponse:
        return view(views.interfaces)

    @app.get("/api/ipcomp/sas")
    def api_sas() -> JSONResponse:
        return view(views.sas)

    @app.get("/api/ipcomp/engines")
    def api_engines() -> JSONResponse:
        return view(views.engines)

    @app.get("/api/ipcomp/events")
    def api_events(limit: int = Query(100, ge=1, le=100_000)) -> JSONResponse:
        return view(lambda snapshot: views.events(snapshot, limit), ring_records=True)

    return app
