"""The diagrams over HTTP: a FastAPI router to include in the exporter's app.

``topology_router(settings)`` serves, under ``/topology``:

* ``GET /topology/graph.svg`` (query: ``all``, ``match`` (repeatable),
  ``arc``, ``from_interface``, ``engine``, ``legend``): the graph of
  ``settings.graph_host``;
* ``GET /topology/tunnels.svg`` (query: ``engine``): the tunnels between
  ``settings.tunnel_hosts``;
* ``GET /topology/``: a page showing both and reloading them every
  ``settings.refresh`` seconds.

Rates come from :class:`SnapshotHistory`: each request takes one snapshot
and pairs it with the previous one kept from an earlier request, so a
request does not wait out the interval (except the first per host). The
endpoints are plain functions: FastAPI runs them in its thread pool, as they
block on VPP's API and on Graphviz. Errors become part of the diagram; an
unknown engine is a 422.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import READ_ERRORS, StatsUnavailable
from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import HostSpec, load_inventory, recorded_pair
from vppcomp.topology.node_rates import heartbeat, sample_pair
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


class SnapshotHistory:
    """Snapshot pairs of one host's stats across requests.

    :meth:`pair` returns the last pair again while VPP's collector has not
    refreshed the node counters (same ``/sys/heartbeat``) or less than
    ``interval`` s passed; otherwise (kept snapshot, new snapshot). With no
    usable kept snapshot (first call, VPP restarted) it samples a fresh pair
    with :func:`sample_pair`, which blocks about ``interval`` s. Raises the
    stats client's errors."""

    def __init__(self, spec: HostSpec, interval: float) -> None:
        self.spec = spec
        self.interval = interval
        self._client = StatsClient(spec.stats_socket) if spec.stats_socket else None
        self._pair: tuple[Snapshot, Snapshot] | None = None
        self._lock = threading.Lock()

    def pair(self) -> tuple[Snapshot, Snapshot]:
        if self.spec.stats_recording:
            return recorded_pair(self.spec.stats_recording)
        if self._client is None:
            raise StatsUnavailable("no stats socket given")
        with self._lock:
            now = self._client.snapshot()
            pair = self._pair
            if pair is None or pair[1].segment_id != now.segment_id:
                pair = sample_pair(self._client, self.interval)
            elif (
                heartbeat(now) != heartbeat(pair[1])
                and now.taken_at - pair[1].taken_at >= self.interval
            ):
                pair = (pair[1], now)
            self._pair = pair
            return pair


def _svg(dot_source: str, engine: str) -> bytes:
    try:
        return render(dot_source, "svg", engine)
    except RenderError as error:
        return error_svg(str(error))


class _Topology:
    def __init__(self, settings: TopologySettings) -> None:
        self.settings = settings
        self.histories: dict[str, SnapshotHistory] = {}

    def stats(self, spec: HostSpec) -> tuple[tuple[Snapshot, Snapshot] | None, str | None]:
        key = f"{spec.stats_socket}|{spec.stats_recording}"
        history = self.histories.get(key)
        if history is None:
            history = self.histories[key] = SnapshotHistory(spec, self.settings.interval)
        try:
            return history.pair(), None
        except READ_ERRORS as error:
            return None, str(error) or type(error).__name__

    def graph_svg(self, filt: GraphFilter, engine: str, legend: bool) -> bytes:
        spec = self.settings.graph_host
        if spec is None:
            return render('digraph { "no graph host configured" [shape=plaintext] }')
        pair, problem = self.stats(spec)
        view = collect_graph(
            spec.api_source(self.settings.api_dirs), pair, filt, stats_problem=problem
        )
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
        hosts = [(s, s.api_source(self.settings.api_dirs)) for s in self.settings.tunnel_hosts]
        return _svg(tunnels_dot(collect_tunnels(hosts, pairs, problems)), engine)


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
    router = APIRouter(prefix="/topology", tags=["topology"])
    topology = _Topology(settings)

    @router.get("/graph.svg", response_class=Response)
    def graph_svg(
        all: bool = False,
        match: Annotated[list[str] | None, Query()] = None,
        arc: str | None = None,
        from_interface: str | None = None,
        engine: Annotated[str, Query(pattern="^(" + "|".join(ENGINES) + ")$")] = "dot",
        legend: bool = True,
    ) -> Response:
        filt = GraphFilter(all, tuple(match or ()), arc, from_interface)
        return Response(topology.graph_svg(filt, engine, legend), media_type=SVG)

    @router.get("/tunnels.svg", response_class=Response)
    def tunnels_svg(
        engine: Annotated[str, Query(pattern="^(" + "|".join(ENGINES) + ")$")] = "dot",
    ) -> Response:
        return Response(topology.tunnels_svg(engine), media_type=SVG)

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
