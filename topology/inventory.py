"""The hosts to draw and where their API answers and stats come from.

An inventory is a TOML file with one ``[[host]]`` table per VPP::

    [[host]]
    name = "west"
    api_socket = "/run/vpp/west/api.sock"      # live binary API, or
    api_recording = "west-api.json"            # recorded answers (RecordingSource.save)
    stats_socket = "/run/vpp/west/stats.sock"  # optional: live stats, or
    stats_recording = "west.vcr"               # a stats recording (first and last frame)
    api_dirs = ["/usr/share/vpp/api"]          # optional: *.api.json directories
    addresses = ["192.0.2.1"]                  # optional: known even if unreachable

Relative paths are relative to the inventory file. On the command line a
host is ``NAME=API_SOCKET[,STATS_SOCKET]``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import StatsUnavailable
from vppcomp.statseg.recording import RecordingError, read_frames
from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.api_source import ApiSource, PapiSource, RecordedSource
from vppcomp.topology.node_rates import sample_pairs


class InventoryError(ValueError):
    """The inventory or a host option is malformed."""


@dataclass(frozen=True)
class HostSpec:
    """One host of an inventory (fields as in the module docstring)."""

    name: str
    api_socket: str | None = None
    api_recording: str | None = None
    stats_socket: str | None = None
    stats_recording: str | None = None
    api_dirs: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    def api_source(self, default_api_dirs: list[str] | None = None) -> ApiSource:
        """Where this host's API answers come from: the recording if there is
        one, else the live socket (``api_dirs``, else ``default_api_dirs``).
        Raises InventoryError when neither is given."""
        if self.api_recording:
            return RecordedSource(self.api_recording, name=self.name)
        if not self.api_socket:
            raise InventoryError(f"host {self.name}: neither api_socket nor api_recording")
        dirs = list(self.api_dirs) or default_api_dirs
        return PapiSource(self.api_socket, dirs, name=self.name)


def parse_host_option(text: str) -> HostSpec:
    """``NAME=API_SOCKET[,STATS_SOCKET]`` as a host."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise InventoryError(f"host {text!r}: expected NAME=API_SOCKET[,STATS_SOCKET]")
    api, _, stats = rest.partition(",")
    return HostSpec(name, api_socket=api, stats_socket=stats or None)


def load_inventory(path: str | Path) -> list[HostSpec]:
    """The hosts of an inventory file; raises :class:`InventoryError`."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InventoryError(f"{path}: {error}") from error
    hosts = document.get("host")
    if not isinstance(hosts, list) or not hosts:
        raise InventoryError(f"{path}: no [[host]] tables")

    def rel(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InventoryError(f"{path}: {value!r} is not a path")
        return str(path.parent / value)

    specs = []
    for entry in hosts:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InventoryError(f"{path}: every [[host]] needs a name")
        if not entry.get("api_socket") and not entry.get("api_recording"):
            raise InventoryError(f"{path}: host {entry['name']} needs api_socket or api_recording")
        specs.append(
            HostSpec(
                entry["name"],
                api_socket=entry.get("api_socket"),
                api_recording=rel(entry.get("api_recording")),
                stats_socket=entry.get("stats_socket"),
                stats_recording=rel(entry.get("stats_recording")),
                api_dirs=tuple(entry.get("api_dirs", ())),
                addresses=tuple(entry.get("addresses", ())),
            )
        )
    return specs


def recorded_pair(path: str) -> tuple[Snapshot, Snapshot]:
    """First and last frame of a stats recording; raises StatsUnavailable."""
    first = last = None
    try:
        for frame in read_frames(path):
            first = first or frame.snapshot
            last = frame.snapshot
    except (OSError, RecordingError) as error:
        raise StatsUnavailable(f"{path}: {error}") from error
    if first is None or last is None or first is last:
        raise StatsUnavailable(f"{path}: fewer than two frames")
    return first, last


class StatsPairs:
    """Snapshot pairs for several hosts over one shared interval.

    :meth:`take` samples every live host with :func:`sample_pairs` (one
    shared wait of ``interval``; ``aligned`` on node-counter refreshes) and
    reads recorded hosts with :func:`recorded_pair`. Results:
    ``pairs[name]``, or ``problems[name]`` saying why there are no stats.
    """

    def __init__(self) -> None:
        self.pairs: dict[str, tuple[Snapshot, Snapshot]] = {}
        self.problems: dict[str, str] = {}

    def take(self, specs: list[HostSpec], interval: float, *, aligned: bool = False) -> None:
        clients: dict[str, StatsClient] = {}
        try:
            for spec in specs:
                if spec.stats_recording:
                    try:
                        self.pairs[spec.name] = recorded_pair(spec.stats_recording)
                    except StatsUnavailable as error:
                        self.problems[spec.name] = str(error)
                elif not spec.stats_socket:
                    self.problems[spec.name] = "no stats socket given"
                else:
                    clients[spec.name] = StatsClient(spec.stats_socket)
            pairs, failed = sample_pairs(clients, interval, aligned=aligned)
            self.pairs.update(pairs)
            self.problems.update(
                (name, str(error) or type(error).__name__) for name, error in failed.items()
            )
        finally:
            for client in clients.values():
                client.close()
