"""The diagrams over HTTP: a FastAPI router to include in the exporter's app.

``topology_router(settings)`` serves, under ``/topology``:

* ``GET /topology/graph.svg`` (query: ``all``, ``match`` (repeatable),
  ``arc``, ``from_interface``, ``engine``, ``legend``): the graph of
  ``settings.graph_host``;
* ``GET /topology/tunnels.svg`` (query: ``engine``): the tunnels between
  ``settings.tunnel_hosts``;
* ``GET /topology/``: a page showing both and reloading them every
  ``settings.refresh`` seconds.

The diagrams must never starve the exporter's ``/metrics`` that shares the
process (:class:`TopologyService`):

* renders run on the service's own small thread pool (``workers``), not in
  the web server's, and the endpoints are ``async``: a waiting viewer holds
  no thread;
* one render per diagram (same query) per ``refresh`` seconds, shared by
  every viewer: concurrent requests wait for the one render in progress,
  later ones get the cached SVG; at most ``max_pending`` distinct renders
  queue, more are answered 503 with ``Retry-After``;
* one persistent API connection per host (:class:`PersistentSource`), the
  API definitions parsed once;
* rates come from :class:`SnapshotHistory`, which never waits: the first
  request per host keeps a snapshot and is drawn at once without rates
  ("collecting rates"); later ones pair the kept snapshot with a newer one
  once VPP refreshed its node counters and ``interval`` passed.

Errors become part of the diagram; an unknown engine is a 422.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import READ_ERRORS, StatsUnavailable
from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.api_source import PersistentSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import HostSpec, load_inventory, recorded_pair
from vppcomp.topology.node_rates import heartbeat
from vppcomp.topology.render import (
    ENGINES,
    RenderError,
    error_svg,
    graph_dot,
    render,
    tunnels_dot,
)
from vppcomp.topology.tunnel_collect import collect_tunnels

SVG = "image/svg+xml"


@dataclass
class TopologySettings:
    """What the router draws. ``interval`` is the shortest time between the
    two snapshots of a rate; ``refresh`` the page's reload period."""

    graph_host: HostSpec | None = None
    tunnel_hosts: list[HostSpec] = field(default_factory=list)
    api_dirs: list[str] | None = None
    interval: float = 1.0
    refresh: float = 5.0

    @classmethod
    def for_vpp(
        cls,
        api_socket: str,
        stats_socket: str,
        *,
        inventory: str | None = None,
        api_dirs: list[str] | None = None,
    ) -> TopologySettings:
        """The graph of the local VPP (named as in ``inventory`` when a host
        there has the same API socket, else ``vpp``); the tunnels between the
        hosts of ``inventory`` (a TOML file, see
        :mod:`~vppcomp.topology.inventory`), or of the local VPP alone. Raises
        InventoryError for a bad inventory."""
        local = HostSpec("vpp", api_socket=api_socket, stats_socket=stats_socket)
        hosts = load_inventory(inventory) if inventory else [local]
        graph = next((h for h in hosts if h.api_socket == api_socket), local)
        return cls(graph_host=graph, tunnel_hosts=hosts, api_dirs=api_dirs)

    @classmethod
    def for_inventory(
        cls, inventory: str, *, api_dirs: list[str] | None = None
    ) -> TopologySettings:
        """The tunnels between the hosts of ``inventory`` and the graph of its
        first host: live sockets or recordings (a replayed demo has no API
        socket). Raises InventoryError for a bad inventory."""
        hosts = load_inventory(inventory)
        return cls(graph_host=hosts[0], tunnel_hosts=hosts, api_dirs=api_dirs)


COLLECTING = "collecting rates: first snapshot kept, rates after VPP's next counter refresh"


class SnapshotHistory:
    """Snapshot pairs of one host's stats across requests, never waiting.

    :meth:`pair` takes one snapshot per call. The first (and the first after
    a VPP restart) is kept and ``None`` returned (collecting rates). Once VPP
    refreshed its node counters (``/sys/heartbeat`` moved; a segment without
    one counts as refreshed) and ``interval`` s passed since the kept
    snapshot, the pair (kept, new) is returned and the new one kept; in
    between, the last pair again. Raises the stats client's errors."""

    def __init__(self, spec: HostSpec, interval: float) -> None:
        self.spec = spec
        self.interval = interval
        self._client = StatsClient(spec.stats_socket) if spec.stats_socket else None
        self._kept: Snapshot | None = None
        self._pair: tuple[Snapshot, Snapshot] | None = None
        self._lock = threading.Lock()

    def pair(self) -> tuple[Snapshot, Snapshot] | None:
        if self.spec.stats_recording:
            return recorded_pair(self.spec.stats_recording)
        if self._client is None:
            raise StatsUnavailable("no stats socket given")
        with self._lock:
            now = self._client.snapshot()
            kept = self._kept
            if kept is None or kept.segment_id != now.segment_id:
                self._kept, self._pair = now, None
                return None
            beat = heartbeat(now)
            refreshed = beat is None or beat != heartbeat(kept)
            if refreshed and now.taken_at - kept.taken_at >= self.interval:
                self._pair, self._kept = (kept, now), now
            return self._pair


def _svg(dot_source: str, engine: str) -> bytes:
    try:
        return render(dot_source, "svg", engine)
    except RenderError as error:
        return error_svg(str(error))


class TopologyService:
    """The diagrams of ``settings``, rendered as the module docstring says."""

    def __init__(
        self, settings: TopologySettings, *, workers: int = 2, max_pending: int = 8
    ) -> None:
        self.settings = settings
        self.max_pending = max_pending
        self.histories: dict[str, SnapshotHistory] = {}
        self.sources: dict[str, PersistentSource] = {}
        self.renders = 0
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="topology")
        self._lock = threading.Lock()  # histories, sources (render threads)
        self._cache: dict[Hashable, tuple[float, bytes]] = {}
        self._pending: dict[Hashable, asyncio.Future[bytes]] = {}

    def source(self, spec: HostSpec) -> PersistentSource:
        """The one kept API source of a host."""
        key = f"{spec.name}|{spec.api_socket}|{spec.api_recording}"
        with self._lock:
            source = self.sources.get(key)
            if source is None:
                source = PersistentSource(spec.api_source(self.settings.api_dirs))
                self.sources[key] = source
            return source

    def stats(self, spec: HostSpec) -> tuple[tuple[Snapshot, Snapshot] | None, str | None]:
        key = f"{spec.stats_socket}|{spec.stats_recording}"
        with self._lock:
            history = self.histories.get(key)
            if history is None:
                history = self.histories[key] = SnapshotHistory(spec, self.settings.interval)
        try:
            pair = history.pair()
        except READ_ERRORS as error:
            return None, str(error) or type(error).__name__
        return pair, None if pair is not None else COLLECTING

    def graph_svg(self, filt: GraphFilter, engine: str, legend: bool) -> bytes:
        spec = self.settings.graph_host
        if spec is None:
            return render('digraph { "no graph host configured" [shape=plaintext] }')
        pair, problem = self.stats(spec)
        view = collect_graph(self.source(spec), pair, filt, stats_problem=problem)
        return _svg(graph_dot(view, legend=legend), engine)

    def tunnels_svg(self, engine: str) -> bytes:
        pairs: dict[str, tuple[Snapshot, Snapshot]] = {}
        problems: dict[str, str] = {}
        for spec in self.settings.tunnel_hosts:
            pair, problem = self.stats(spec)
            if pair is not None:
                pairs[spec.name] = pair
            if problem is not None:
                problems[spec.name] = problem
        hosts = [(s, self.source(s)) for s in self.settings.tunnel_hosts]
        return _svg(tunnels_dot(collect_tunnels(hosts, pairs, problems)), engine)

    async def shared(self, key: Hashable, build: Callable[[], bytes]) -> bytes | None:
        """``build()``'s answer for ``key``: cached for ``refresh`` s, one
        render at a time per key on the service's workers, ``None`` when
        ``max_pending`` renders already wait (runs on the event loop)."""
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.settings.refresh:
            return cached[1]
        pending = self._pending.get(key)
        if pending is None:
            if len(self._pending) >= self.max_pending:
                return None
            pending = asyncio.get_running_loop().run_in_executor(self._executor, build)
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(pending)

    def _finished(self, key: Hashable, done: asyncio.Future[bytes]) -> None:
        self._pending.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            self.renders += 1
            self._cache[key] = (time.monotonic(), done.result())
            while len(self._cache) > 64:  # distinct queries: keep the newest
                self._cache.pop(next(iter(self._cache)))

    def router(self) -> APIRouter:
        """The ``/topology`` router; include it in an app."""
        return _router(self)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>VPP topology</title>
<style>
 body {{ font-family: sans-serif; margin: 1em; }}
 section {{ margin-bottom: 2em; }}
 img {{ max-width: 100%; border: 1px solid #ccc; }}
 #status {{ color: #666; }}
</style></head>
<body>
<h1>VPP topology</h1>
<p id="status">loading...</p>
<section><h2>Packet graph</h2>
<img id="graph" alt="VPP packet graph"></section>
<section><h2>Tunnels</h2><img id="tunnels" alt="tunnels between hosts"></section>
<script>
const refreshMs = {refresh_ms};
function reload() {{
  const t = Date.now();
  const sources = [["graph", "graph.svg" + {query_js}], ["tunnels", "tunnels.svg"]];
  const failed = [];
  let pending = sources.length;
  for (const [id, base] of sources) {{
    const next = new Image();
    const done = (ok) => {{
      const img = document.getElementById(id);
      if (ok) {{ img.src = next.src; }} else {{ failed.push(id); }}
      img.dataset.state = ok ? "loaded" : "failed";
      if (--pending === 0) {{
        document.getElementById("status").textContent = (failed.length
          ? "failed to load: " + failed.join(", ") + "; "
          : "") + "updated " + new Date().toLocaleTimeString() + ", every "
          + refreshMs / 1000 + " s";
      }}
    }};
    next.onload = () => done(true);
    next.onerror = () => done(false);
    next.src = base + (base.includes("?") ? "&" : "?") + "t=" + t;
  }}
}}
reload();
setInterval(reload, refreshMs);
</script>
</body></html>
"""


def topology_router(settings: TopologySettings) -> APIRouter:
    """The router; include it in an app with
    ``app.include_router(topology_router(TopologySettings.for_vpp(api, stats)))``."""
    return TopologyService(settings).router()


def _busy() -> Response:
    return Response(
        "busy: too many diagrams being drawn, retry", status_code=503, headers={"Retry-After": "1"}
    )


def _router(service: TopologyService) -> APIRouter:
    router = APIRouter(prefix="/topology", tags=["topology"])
    settings = service.settings

    @router.get("/graph.svg", response_class=Response)
    async def graph_svg(
        all: bool = False,
        match: Annotated[list[str] | None, Query()] = None,
        arc: str | None = None,
        from_interface: str | None = None,
        engine: Annotated[str, Query(pattern="^(" + "|".join(ENGINES) + ")$")] = "dot",
        legend: bool = True,
    ) -> Response:
        filt = GraphFilter(all, tuple(match or ()), arc, from_interface)
        body = await service.shared(
            ("graph", filt, engine, legend), lambda: service.graph_svg(filt, engine, legend)
        )
        return _busy() if body is None else Response(body, media_type=SVG)

    @router.get("/tunnels.svg", response_class=Response)
    async def tunnels_svg(
        engine: Annotated[str, Query(pattern="^(" + "|".join(ENGINES) + ")$")] = "dot",
    ) -> Response:
        body = await service.shared(("tunnels", engine), lambda: service.tunnels_svg(engine))
        return _busy() if body is None else Response(body, media_type=SVG)

    @router.get("/", response_class=HTMLResponse)
    def page(
        all: bool = False,
        match: Annotated[list[str] | None, Query()] = None,
        arc: str | None = None,
        from_interface: str | None = None,
    ) -> HTMLResponse:
        params = [("all", "true")] if all else []
        params += [("match", m) for m in match or ()]
        params += [(k, v) for k, v in (("arc", arc), ("from_interface", from_interface)) if v]
        query = "?" + urlencode(params) if params else ""
        return HTMLResponse(
            PAGE.format(
                query_js=json.dumps(query),
                refresh_ms=int(settings.refresh * 1000),
            )
        )

    return router
