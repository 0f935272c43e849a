"""The whole stack on this machine, for ``scripts/demo`` (``vppcomp demo``).

:class:`Stack` starts, in order, and stops in reverse order:

* the two ends (:mod:`vppcomp.demo.ends`): *live*, two VPPs with this
  project's plugin joined by memif with an ipcomp SA and packet-generator
  traffic; or *replay*, the recording of exactly that set-up
  (``demo/recording/``: both stats segments served by ``vppcomp replay``,
  and the API answers the diagrams need, made by :mod:`vppcomp.demo.record`);
* one exporter per end (west's also serves the topology page for both ends);
* Prometheus scraping both exporters with the project's rules;
* the Elasticsearch shipper of the west end, when this vppcomp has one:
  writing to its local spool, and from there to ``es_url`` whenever
  something answers there.

Every process is a child in its own session and every file lives in a fresh
work directory, removed at stop, except the VPPs' shared-memory API
segments (``/dev/shm/<work directory name>-<end>-*``), which VPP removes
when it stops (and the demo when a VPP was killed): nothing is left behind
(no process, socket, memif socket, shared memory; the demo creates no
network namespace). Progress goes to ``say``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from vppcomp.demo import services
from vppcomp.demo.ends import ENDS, PLUGINS, SA_STAT, configure, start_traffic
from vppcomp.demo.plugin_build import ROOT, build_ipcomp_plugin
from vppcomp.demo.processes import Child, ChildFailed, Interrupted
from vppcomp.demo.vpp_process import VppInstance, vpp_prefix
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import StatsUnavailable
from vppcomp.topology.inventory import HostSpec

RECORDING_DIR = ROOT / "demo" / "recording"
DEFAULT_ES_URL = "http://127.0.0.1:9200"  # where a local Elasticsearch/OpenSearch listens


class DemoError(RuntimeError):
    """The demo cannot start; the message says why and what to do."""


def recording_files(recording: Path, end: str) -> tuple[Path, Path]:
    """(stats recording, API recording) of ``end`` in a recording directory."""
    return recording / f"{end}.vppstats", recording / f"{end}.api.json"


@dataclass
class DemoConfig:
    """``mode``: ``live``, ``replay`` or ``auto`` (live when a VPP is found)."""

    mode: str = "auto"
    host: str = "127.0.0.1"
    exporter_port: int = 9482  # west; east is the next port
    prometheus_port: int = 9090
    recording: Path = RECORDING_DIR
    es_url: str = DEFAULT_ES_URL


@dataclass
class Urls:
    metrics: dict[str, str] = field(default_factory=dict)
    topology: str = ""
    prometheus: str = ""
    alerts: str = ""


def wait_for_ipcomp_traffic(
    stats_socket: Path, stopping: threading.Event, timeout: float = 30.0
) -> None:
    """Wait until the SA of the end behind ``stats_socket`` has compressed
    packets; raises DemoError after ``timeout`` s, Interrupted once
    ``stopping`` is set."""
    deadline = time.monotonic() + timeout
    with StatsClient(str(stats_socket)) as client:
        while time.monotonic() < deadline:
            if stopping.is_set():
                raise Interrupted
            with contextlib.suppress(StatsUnavailable):
                snapshot = client.snapshot()
                if SA_STAT in snapshot and int(snapshot.total(SA_STAT)[..., 0].sum()) > 0:
                    return
            time.sleep(0.5)
    raise DemoError(f"no ipcomp traffic on {stats_socket} after {timeout:.0f} s")


def alerts_page(prometheus: str) -> str:
    """The alerts page of a running Prometheus: ``/alerts``, or ``/classic/alerts``
    for Debian's build, which ships only the classic web UI."""
    with contextlib.suppress(httpx.HTTPError):
        if httpx.get(f"{prometheus}/alerts", timeout=5).status_code == 200:
            return f"{prometheus}/alerts"
    return f"{prometheus}/classic/alerts"


def write_inventory(path: Path, hosts: list[HostSpec]) -> None:
    """``hosts`` as a topology inventory (TOML; vppcomp.topology.inventory)."""

    def value(v: object) -> str:
        return json.dumps(list(v) if isinstance(v, tuple) else v)  # JSON strings are TOML

    lines = []
    for host in hosts:
        lines.append("[[host]]")
        for key in ("name", "api_socket", "api_recording", "stats_socket", "api_dirs"):
            item = getattr(host, key)
            if item:
                lines.append(f"{key} = {value(item)}")
    path.write_text("\n".join(lines) + "\n")


class Stack:
    """One run of the demo. :meth:`start` raises DemoError or ChildFailed
    (after which :meth:`stop` still stops what was started), or Interrupted
    when :attr:`stopping` was set meanwhile; :meth:`stop` is idempotent.

    Signals never interrupt the start: their handlers only set
    :attr:`stopping`, which the start checks between its steps and in its
    waits, so a child is either started and registered or not started (an
    exception raised by a handler inside ``Popen`` could leave a child
    nobody knows of)."""

    def __init__(
        self,
        config: DemoConfig,
        say: Callable[[str], None],
        stopping: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.say = say
        self.workdir = Path(tempfile.mkdtemp(prefix="vppcomp-demo-"))
        self.children: list[Child] = []
        self.vpps: list[VppInstance] = []
        self.mode = ""
        self.urls = Urls()
        #: set from the signal handlers: the start stops at its next step
        self.stopping = stopping or threading.Event()

    # --- the ends ---------------------------------------------------------

    def choose_mode(self) -> Path | None:
        """The VPP prefix for a live run, ``None`` for a replay."""
        prefix = vpp_prefix()
        if self.config.mode == "live" and prefix is None:
            raise DemoError(
                "--live: no VPP found (set VPP_PREFIX, or install VPP at /opt/vpp, or "
                "FD.io's packages vpp, vpp-plugin-core, vpp-dev)"
            )
        if self.config.mode == "auto" and prefix is None:
            self.say("no VPP found (VPP_PREFIX, /opt/vpp, vpp on PATH)")
        if self.config.mode == "replay" or prefix is None:
            return None
        return prefix

    def start_live_ends(self, prefix: Path) -> list[HostSpec]:
        version = subprocess.run(
            [str(prefix / "bin" / "vpp"), "--version"], capture_output=True, text=True
        ).stdout.strip()
        self.say(f"live: {version or 'VPP'} at {prefix}")
        self.say("building the ipcomp plugin against it (the first time takes a minute)")
        plugin = build_ipcomp_plugin(prefix)
        memif = self.workdir / "memif.sock"
        hosts = []
        for end in ENDS:
            self.step()
            self.say(f"starting VPP {end}")
            vpp = VppInstance(
                self.workdir / end,
                prefix,
                plugins=PLUGINS,
                plugin_dirs=[plugin.plugin_dir],
                api_dirs=[plugin.api_dir],
                # own shared-memory API segment (/dev/shm/<prefix>-*), removed by VPP at exit
                startup_extra=f"api-segment {{ prefix {self.workdir.name}-{end} }}",
            )
            self.vpps.append(vpp)
            vpp.start()
            configure(vpp, end, memif)
            hosts.append(
                HostSpec(
                    end,
                    api_socket=str(vpp.api_socket),
                    stats_socket=str(vpp.stats_socket),
                    api_dirs=tuple(str(d) for d in vpp.api_dirs),
                )
            )
        self.say("starting the traffic; waiting for it to cross the ipcomp SA")
        for end, vpp in zip(ENDS, self.vpps, strict=True):
            start_traffic(vpp, end)
        for vpp in self.vpps:
            wait_for_ipcomp_traffic(vpp.stats_socket, self.stopping)
        return hosts

    def start_replayed_ends(self) -> list[HostSpec]:
        recording = self.config.recording
        self.say(f"replay: replaying the recording in {recording}")
        hosts = []
        for end in ENDS:
            stats, api = recording_files(recording, end)
            for path in (stats, api):
                if not path.is_file():
                    raise DemoError(f"{path} is missing: record one with 'vppcomp demo --record'")
            socket = self.workdir / end / "stats.sock"
            socket.parent.mkdir(parents=True, exist_ok=True)
            child = self.start_child(
                f"replay-{end}",
                services.vppcomp_argv("replay", str(stats), "--socket", str(socket), "--loop"),
            )
            deadline = time.monotonic() + 30
            while not socket.exists():
                self.step()
                child.check()
                if time.monotonic() > deadline:
                    raise ChildFailed(f"replay-{end}: no socket after 30 s:\n{child.log_tail()}")
                time.sleep(0.1)
            hosts.append(HostSpec(end, api_recording=str(api), stats_socket=str(socket)))
        return hosts

    # --- the services -----------------------------------------------------

    def step(self) -> None:
        """Raise Interrupted once a stop was asked for (:attr:`stopping`):
        called before every step of the start and in its waits."""
        if self.stopping.is_set():
            raise Interrupted

    def start_child(self, name: str, argv: list[str]) -> Child:
        """Start ``argv`` and register it for :meth:`stop` (unless a stop was
        asked for: then Interrupted, and nothing is started)."""
        self.step()
        child = Child(name, argv, self.workdir / "logs" / f"{name}.log")
        self.children.append(child)
        return child

    def start_services(self, hosts: list[HostSpec], live: bool) -> None:
        host = self.config.host
        inventory = self.workdir / "inventory.toml"
        write_inventory(inventory, hosts)
        targets = {}
        for offset, spec in enumerate(hosts):
            listen = f"{host}:{self.config.exporter_port + offset}"
            self.say(f"starting the exporter of {spec.name} on {listen}")
            child = self.start_child(
                f"exporter-{spec.name}",
                services.exporter_argv(
                    listen,
                    Path(str(spec.stats_socket)),
                    api_socket=Path(spec.api_socket) if live and spec.api_socket else None,
                    api_dirs=[Path(d) for d in spec.api_dirs] if live else (),
                    inventory=inventory if offset == 0 else None,
                ),
            )
            child.wait_http(f"http://{listen}/healthz", timeout=60, stopping=self.stopping)
            targets[spec.name] = listen
            self.urls.metrics[spec.name] = f"http://{listen}/metrics"
        self.urls.topology = f"http://{targets[hosts[0].name]}/topology/"

        rules = services.rule_files()
        listen = f"{host}:{self.config.prometheus_port}"
        self.say(f"starting Prometheus on {listen} with {len(rules)} rule file(s)")
        config = self.workdir / "prometheus.yml"
        config.write_text(services.prometheus_config(targets, rules))
        prometheus = self.start_child(
            "prometheus",
            services.prometheus_argv(config, self.workdir / "prometheus-data", listen),
        )
        prometheus.wait_http(f"http://{listen}/-/ready", timeout=60, stopping=self.stopping)
        self.urls.prometheus = f"http://{listen}/"
        self.urls.alerts = alerts_page(f"http://{listen}")

        spool = self.workdir / "shipper.sqlite"
        self.say(
            f"starting the shipper of {hosts[0].name}: spool {spool}, "
            f"to {self.config.es_url} (ES_URL) when it answers"
        )
        self.start_child(
            "shipper",
            services.shipper_argv(Path(str(hosts[0].stats_socket)), spool, self.config.es_url),
        )

    # --- the run ----------------------------------------------------------

    def start(self) -> Urls:
        self.say(f"work directory {self.workdir}")
        prefix = self.choose_mode()
        if prefix is not None:
            self.mode = "live"
            hosts = self.start_live_ends(prefix)
        else:
            self.mode = "replay"
            hosts = self.start_replayed_ends()
        self.start_services(hosts, live=self.mode == "live")
        return self.urls

    def check(self) -> None:
        """Raise ChildFailed or DemoError when a part of the stack has died."""
        for child in self.children:
            child.check()
        for vpp in self.vpps:
            if not vpp.alive():
                raise DemoError(f"VPP {vpp.workdir.name} exited:\n{vpp.log_tail()}")

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        for vpp in reversed(self.vpps):
            vpp.stop()
        self.vpps.clear()
        for segment in Path("/dev/shm").glob(f"{self.workdir.name}-*"):  # a VPP that was killed
            segment.unlink(missing_ok=True)
        shutil.rmtree(self.workdir, ignore_errors=True)
