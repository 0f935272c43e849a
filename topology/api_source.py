"""Where VPP's binary-API answers come from: a live VPP or a recording.

Every answer is normalised to plain JSON values before anyone sees it
(:func:`to_jsonable`): nested vpp_papi tuples become dicts, addresses and MAC
addresses strings, enums and flags integers, bytes hex strings; ``context``
and ``client_index`` are dropped. So the code that builds diagrams reads the
same dicts from :class:`PapiSource` (live, through vpp_papi) and from
:class:`RecordedSource` (a JSON file written by :class:`RecordingSource`),
and recorded answers replay through the very same path.

Contract of :meth:`ApiSource.call`: returns an :class:`Answer`; raises
:class:`ApiError` when this one call could not be answered (unknown message,
transport error, not in the recording). :meth:`ApiSource.open` raises
:class:`ApiUnavailable` when the host cannot be reached at all.

This module is the one place that talks vpp_papi for the project's Python
code (the exporter's ``vpp_ipcomp_sa_info`` and the topology diagrams):
:class:`PapiSource` parses the API definitions once per source and
reconnects with them; :class:`PersistentSource` keeps one connection per
host open across requests. ``DEFAULT_API_DIRS`` is VPP's install location,
searched recursively (``core/`` and ``plugins/``).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

RECORDING_FORMAT = "vppcomp-topology-api"
DEFAULT_API_DIRS = ("/usr/share/vpp/api",)


class ApiUnavailable(Exception):
    """The host's API cannot be reached; the message is the reason."""


class ApiError(Exception):
    """One API call could not be answered; the message says why."""


@dataclass
class Answer:
    """The normalised answer to one call: the reply message (``None`` for a
    classic dump) and the details messages of a dump or stream."""

    reply: dict[str, Any] | None
    details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def retval(self) -> int:
        """The reply's return value (0 when there is no reply or no retval)."""
        return int((self.reply or {}).get("retval", 0))


def to_jsonable(value: Any) -> Any:
    """``value`` (anything vpp_papi returns) as JSON values, see module docstring."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {
            k: to_jsonable(v)
            for k, v in value._asdict().items()
            if k not in ("context", "client_index", "_0")
        }
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, enum.Enum):
        return int(value.value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(
        value,
        ipaddress.IPv4Address
        | ipaddress.IPv6Address
        | ipaddress.IPv4Network
        | ipaddress.IPv6Network
        | ipaddress.IPv4Interface
        | ipaddress.IPv6Interface,
    ):
        return str(value)
    return str(value)


def normalise(result: Any) -> Answer:
    """Turn what a vpp_papi call returned into an :class:`Answer`: a
    ``(reply, [details])`` pair (stream service), a list (classic dump) or a
    single reply."""
    if isinstance(result, tuple) and not hasattr(result, "_asdict") and len(result) == 2:
        reply, details = result
        return Answer(to_jsonable(reply), [to_jsonable(d) for d in details])
    if isinstance(result, list):
        return Answer(None, [to_jsonable(d) for d in result])
    return Answer(to_jsonable(result))


def _key(method: str, args: dict[str, Any]) -> str:
    return method + json.dumps(args, sort_keys=True, separators=(",", ":"))


class ApiSource(Protocol):
    """One VPP host's binary API, live or recorded."""

    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def has(self, method: str) -> bool: ...

    def call(self, method: str, **args: Any) -> Answer: ...


def api_files(api_dirs: list[str]) -> list[str]:
    """Every ``*.api.json`` under ``api_dirs`` (searched recursively)."""
    from vpp_papi.vpp_papi import VPPApiJSONFiles

    files: list[str] = []
    for directory in api_dirs:
        if os.path.isdir(directory):
            files.extend(VPPApiJSONFiles.find_api_files(api_dir=directory))
    return files


class PapiSource:
    """A live VPP through vpp_papi on its API socket. The API definitions
    are parsed on the first :meth:`open` and kept: a later :meth:`open`
    (after :meth:`close`, a failed call, or a VPP restart) only reconnects.
    :meth:`open` while connected does nothing."""

    def __init__(
        self,
        api_socket: str,
        api_dirs: list[str] | None = None,
        *,
        name: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.api_socket = api_socket
        self.api_dirs = list(api_dirs or DEFAULT_API_DIRS)
        self.name = name or api_socket
        self.timeout = timeout
        self._client: Any = None  # the parsed definitions, kept across connections
        self._connected = False
        self.definition_loads = 0
        self.connects = 0

    def open(self) -> None:
        """Connect; raises :class:`ApiUnavailable` with the reason when it cannot."""
        from vpp_papi import VPPApiClient

        if self._connected:
            return
        if not os.path.exists(self.api_socket):
            raise ApiUnavailable(f"no API socket at {self.api_socket}")
        if self._client is None:
            files = api_files(self.api_dirs)
            if not files:
                raise ApiUnavailable(f"no *.api.json files under {', '.join(self.api_dirs)}")
            try:
                self._client = VPPApiClient(
                    apifiles=files,
                    server_address=self.api_socket,
                    read_timeout=self.timeout,
                    async_thread=False,
                )
            except Exception as error:  # vpp_papi raises bare Exception subclasses
                raise ApiUnavailable(f"cannot load the API definitions: {error}") from error
            self.definition_loads += 1
        try:
            rv = self._client.connect(f"vppcomp-{os.getpid()}-{id(self):x}")
        except Exception as error:  # vpp_papi raises bare Exception and OSError subclasses
            raise ApiUnavailable(f"cannot connect to {self.api_socket}: {error}") from error
        if rv != 0:
            raise ApiUnavailable(f"cannot connect to {self.api_socket}: connect returned {rv}")
        self._connected = True
        self.connects += 1

    def close(self) -> None:
        """Disconnect (the parsed definitions stay for the next :meth:`open`)."""
        if not self._connected:
            return
        self._connected = False
        try:
            self._client.disconnect()
        except Exception as error:  # a VPP that is gone: nothing left to close
            log.debug("disconnect from %s: %s", self.api_socket, error)

    def has(self, method: str) -> bool:
        return self._connected and hasattr(self._client.api, method)

    def call(self, method: str, **args: Any) -> Answer:
        """One call; a transport failure also closes the connection, so that
        the next :meth:`open` reconnects."""
        if not self.has(method):
            raise ApiError(f"{method}: not offered by this VPP (plugin not loaded?)")
        try:
            return normalise(getattr(self._client.api, method)(**args))
        except Exception as error:  # transport errors, argument validation
            if not self._client.transport.connected:
                self.close()
            raise ApiError(f"{method}: {error}") from error


class PersistentSource:
    """One host's connection shared by every request: :meth:`open` connects
    when not connected (a lost connection is reopened), :meth:`close` leaves
    it open for the next request, :meth:`shutdown` really closes. Calls are
    serialised (one vpp_papi client is not safe for concurrent use)."""

    def __init__(self, inner: ApiSource) -> None:
        self.inner = inner
        self.name = inner.name
        self.lock = threading.RLock()

    def open(self) -> None:
        with self.lock:
            self.inner.open()

    def close(self) -> None:
        """Kept open on purpose (see the class docstring)."""

    def shutdown(self) -> None:
        with self.lock:
            self.inner.close()

    def has(self, method: str) -> bool:
        with self.lock:
            return self.inner.has(method)

    def call(self, method: str, **args: Any) -> Answer:
        with self.lock:
            return self.inner.call(method, **args)


class RecordingSource:
    """Wraps another source and keeps every question and answer, to be saved
    with :meth:`save` and replayed by :class:`RecordedSource`."""

    def __init__(self, inner: ApiSource) -> None:
        self.inner = inner
        self.name = inner.name
        self.unreachable: str | None = None
        self.methods: dict[str, bool] = {}
        self.calls: list[dict[str, Any]] = []

    def open(self) -> None:
        try:
            self.inner.open()
        except ApiUnavailable as error:
            self.unreachable = str(error)
            raise

    def close(self) -> None:
        self.inner.close()

    def has(self, method: str) -> bool:
        present = self.inner.has(method)
        self.methods[method] = present
        return present

    def call(self, method: str, **args: Any) -> Answer:
        entry: dict[str, Any] = {"method": method, "args": args}
        try:
            answer = self.inner.call(method, **args)
        except ApiError as error:
            entry["error"] = str(error)
            self.calls.append(entry)
            raise
        entry["reply"], entry["details"] = answer.reply, answer.details
        self.calls.append(entry)
        return answer

    def save(self, path: str | Path) -> None:
        document = {
            "format": RECORDING_FORMAT,
            "host": self.name,
            "unreachable": self.unreachable,
            "methods": self.methods,
            "calls": self.calls,
        }
        Path(path).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


class RecordedSource:
    """Answers from a recording. A question that was not recorded raises
    :class:`ApiError`; a recording of an unreachable host raises
    :class:`ApiUnavailable` on :meth:`open`; a file that is not a recording
    also raises :class:`ApiUnavailable` (the host cannot be read)."""

    def __init__(self, path: str | Path, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or self.path.stem
        self._document: dict[str, Any] = {}
        self._answers: dict[str, dict[str, Any]] = {}

    def open(self) -> None:
        try:
            document = json.loads(self.path.read_text())
        except (OSError, ValueError) as error:
            raise ApiUnavailable(f"cannot read recording {self.path}: {error}") from error
        if not isinstance(document, dict) or document.get("format") != RECORDING_FORMAT:
            raise ApiUnavailable(f"{self.path} is not a {RECORDING_FORMAT} recording")
        if document.get("unreachable"):
            raise ApiUnavailable(str(document["unreachable"]))
        self._document = document
        self.name = str(document.get("host") or self.name)
        for entry in document.get("calls") or []:
            if isinstance(entry, dict) and "method" in entry:
                self._answers[_key(entry["method"], entry.get("args") or {})] = entry

    def close(self) -> None:
        self._answers.clear()

    def has(self, method: str) -> bool:
        return bool((self._document.get("methods") or {}).get(method, False))

    def call(self, method: str, **args: Any) -> Answer:
        entry = self._answers.get(_key(method, args))
        if entry is None:
            raise ApiError(f"{method}: not in the recording")
        if entry.get("error"):
            raise ApiError(str(entry["error"]))
        reply = entry.get("reply")
        details = entry.get("details") or []
        if reply is not None and not isinstance(reply, dict):
            raise ApiError(f"{method}: malformed reply in the recording")
        if not isinstance(details, list):
            raise ApiError(f"{method}: malformed details in the recording")
        return Answer(reply, details)
