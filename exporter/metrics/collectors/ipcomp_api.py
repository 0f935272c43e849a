"""What the stats segment does not say about SAs and engines, from the
plugin's binary API: an SA's CPI, addresses and engine, an engine's index.

Optional (``--api-socket``): :class:`ApiDirectory` asks VPP with
``ipcomp_sa_dump`` / ``ipcomp_engine_dump`` through an
:class:`~vppcomp.topology.api_source.ApiSource` (live: one persistent
connection, the definitions parsed once; or a recording) when the SA name
vector changes (an SA was added or deleted, or VPP restarted) and at most
every ``refresh_interval`` seconds otherwise; between refreshes scrapes use
the cached answer. If the API does not answer, the last answer (or nothing)
is used and the next scrape tries again; it never fails a scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.scrape import Scrape
from vppcomp.statseg.ipcomp import SA_NAMES
from vppcomp.topology.api_source import ApiError, ApiSource, ApiUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiView:
    """One answer of the API: label dicts for SAs and engines."""

    sas: list[dict[str, str]]
    engines: list[dict[str, str]]


class ApiDirectory:
    """A cached view of ``ipcomp_sa_dump`` and ``ipcomp_engine_dump`` of ``source``."""

    def __init__(self, source: ApiSource, *, refresh_interval: float = 30.0) -> None:
        self.source = source
        self.refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._view: ApiView | None = None
        self._key: object = None
        self._at = 0.0
        self.failures = 0

    def view(self, key: object) -> ApiView | None:
        """The API's answer; asked again when ``key`` (the object VPP's SA
        names came in) is not the one of the last answer, or it is old."""
        with self._lock:
            fresh = key is self._key and time.monotonic() - self._at < self.refresh_interval
            if not fresh:
                try:
                    self._view = self._ask()
                except (ApiUnavailable, ApiError) as error:  # optional: never fail a scrape
                    self.failures += 1
                    log.warning("ipcomp API of %s: %s", self.source.name, error)
                    self.source.close()
                self._key, self._at = key, time.monotonic()
            return self._view

    def _ask(self) -> ApiView:
        """Both dumps on the (kept) connection."""
        self.source.open()
        sas = [
            {
                "sa": str(d["sa"]["sa_id"]),
                "sa_index": str(d["sa_index"]),
                "cpi": str(d["sa"]["cpi"]),
                "local": str(d["sa"]["local"]),
                "peer": str(d["sa"]["peer"]),
                "engine": str(d["sa"]["engine"]),
                "mode": "tunnel" if d["is_tunnel"] else "transport",
            }
            for d in self.source.call("ipcomp_sa_dump").details
        ]
        engines = [
            {"engine": str(d["name"]), "engine_index": str(d["engine_index"])}
            for d in self.source.call("ipcomp_engine_dump").details
        ]
        return ApiView(sas, engines)

    def vpp_version(self) -> str | None:
        """VPP's version (``show_version``); None when the API does not answer."""
        with self._lock:
            try:
                self.source.open()
                reply = self.source.call("show_version").reply or {}
            except (ApiUnavailable, ApiError) as error:  # the API is optional
                log.warning("VPP API of %s: %s", self.source.name, error)
                self.source.close()
                return None
            return str(reply.get("version", "")).strip() or None


class IpcompApiCollector:
    """``vpp_ipcomp_sa_info`` and ``vpp_ipcomp_engine_info`` (value 1)."""

    name = "ipcomp_api"

    def __init__(self, directory: ApiDirectory) -> None:
        self.directory = directory

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        if SA_NAMES not in scrape.snapshot:
            return
        view = self.directory.view(scrape.snapshot[SA_NAMES])
        if view is None:
            return
        yield families.gauge(
            "vpp_ipcomp_sa_info",
            "An ipcomp SA's configuration; always 1 (binary API ipcomp_sa_dump).",
            ("sa", "sa_index", "cpi", "local", "peer", "engine", "mode"),
            view.sas,
            [1] * len(view.sas),
        )
        yield families.gauge(
            "vpp_ipcomp_engine_info",
            "An ipcomp engine's index; always 1 (binary API ipcomp_engine_dump).",
            ("engine", "engine_index"),
            view.engines,
            [1] * len(view.engines),
        )
