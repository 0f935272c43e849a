"""What the stats segment does not say about SAs and engines, from the
plugin's binary API: an SA's CPI, addresses and engine, an engine's index.

Optional (``--api-socket``): :class:`ApiDirectory` asks VPP with
``ipcomp_sa_dump`` / ``ipcomp_engine_dump`` when the SA name vector changes
(an SA was added or deleted, or VPP restarted) and at most every
``refresh_interval`` seconds otherwise; between refreshes scrapes use the
cached answer. If the API does not answer, the last answer (or nothing) is
used and the next scrape tries again; it never fails a scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.scrape import Scrape
from vppcomp.statseg.ipcomp import SA_NAMES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiView:
    """One answer of the API: label dicts for SAs and engines."""

    sas: list[dict[str, str]]
    engines: list[dict[str, str]]


class ApiDirectory:
    """A cached view of ``ipcomp_sa_dump`` and ``ipcomp_engine_dump``."""

    def __init__(
        self,
        socket_path: str,
        api_dirs: Sequence[str | Path],
        *,
        refresh_interval: float = 30.0,
        timeout: float = 2.0,
    ) -> None:
        self.socket_path = socket_path
        self.api_dirs = [Path(d) for d in api_dirs]
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self._lock = threading.Lock()
        self._client: Any = None
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
                except Exception as error:  # the API is optional: never fail a scrape
                    self.failures += 1
                    log.warning("ipcomp API on %s: %s", self.socket_path, error)
                    self._disconnect()
                self._key, self._at = key, time.monotonic()
            return self._view

    def _ask(self) -> ApiView:
        client = self._connect()
        try:
            sas = [
                {
                    "sa": str(d.sa.sa_id),
                    "sa_index": str(d.sa_index),
                    "cpi": str(d.sa.cpi),
                    "local": str(d.sa.local),
                    "peer": str(d.sa.peer),
                    "engine": str(d.sa.engine),
                    "mode": "tunnel" if d.is_tunnel else "transport",
                }
                for d in client.api.ipcomp_sa_dump()
            ]
            engines = [
                {"engine": str(d.name), "engine_index": str(d.engine_index)}
                for d in client.api.ipcomp_engine_dump()
            ]
        finally:
            self._disconnect()
        return ApiView(sas, engines)

    def _connect(self) -> Any:
        from vpp_papi import VPPApiClient
        from vpp_papi.vpp_papi import VPPApiJSONFiles

        if self._client is None:
            files: list[str] = []
            for directory in self.api_dirs:
                files.extend(VPPApiJSONFiles.find_api_files(api_dir=str(directory)))
            self._client = VPPApiClient(
                apifiles=files,
                server_address=self.socket_path,
                read_timeout=self.timeout,
                async_thread=False,
            )
        self._client.connect("vppcomp-exporter")
        return self._client

    def _disconnect(self) -> None:
        if self._client is not None and self._client.transport.connected:
            try:
                self._client.disconnect()
            except Exception as error:
                log.debug("ipcomp API disconnect: %s", error)


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
