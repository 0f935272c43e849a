"""The exporter's HTTP service (FastAPI).

* ``GET /metrics``: one scrape; OpenMetrics when the ``Accept`` header asks
  for ``application/openmetrics-text``, else the Prometheus text format,
  streamed family by family (chunked) so that a large body is never held
  whole.
  Always 200: without VPP it carries ``vpp_up 0`` and the self-metrics.
* ``GET /healthz``: whether VPP's stats socket answers now and how old the
  last good read is; 200 when reachable, 503 otherwise.
* ``GET /api/interfaces``, ``/api/ipcomp/sas``, ``/api/ipcomp/engines``,
  ``/api/ipcomp/events?limit=N``: JSON views of a fresh snapshot
  (:mod:`vppcomp.exporter.web.views`); 503 with ``{"error": ...}`` without VPP.

Handlers are plain functions, so Starlette runs them in its thread pool and
concurrent requests never block the event loop; the exporter serialises
scrapes itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from vppcomp import __version__
from vppcomp.exporter.metrics.exporter import Exporter
from vppcomp.exporter.web import views
from vppcomp.statseg.client import receive_segment_fd
from vppcomp.statseg.layout import READ_ERRORS, StatsUnavailable
from vppcomp.statseg.snapshot import Snapshot


def create_app(exporter: Exporter) -> FastAPI:
    """The FastAPI application serving ``exporter``."""
    app = FastAPI(title="vppcomp exporter", version=__version__)

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        chunks, content_type = exporter.stream(request.headers.get("accept"))
        return StreamingResponse(chunks, media_type=content_type)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
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
        return JSONResponse(body, status_code=200 if error is None else 503)

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
