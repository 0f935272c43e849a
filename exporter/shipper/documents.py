"""Documents in ECS: ipcomp ring records become log documents, counter
samples become metric documents. Pure functions of a snapshot and state;
nothing here talks to a cluster.

Field names and types: :mod:`.fields` (the contract); ids: :mod:`.ids`.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from vppcomp import __version__
from vppcomp.exporter.metrics.collectors.interfaces import COMBINED, DELETED, NAMES, SIMPLE
from vppcomp.exporter.metrics.collectors.ipcomp import (
    DEVICES,
    ENGINE_GAUGES,
    ENGINE_PREFIX,
    FALLBACK,
    FALLBACK_REASONS,
    OFFLOAD_COUNTERS,
    OFFLOAD_PREFIX,
    OPS,
    SA_COUNTERS,
    SA_NAMES,
    SA_OFFLOAD_COUNTERS,
    SA_PREFIX,
    engine_names,
)
from vppcomp.exporter.shipper import ids
from vppcomp.exporter.shipper.fields import word
from vppcomp.statseg.snapshot import Snapshot

DATASET = "vpp.ipcomp"
ECS_VERSION = "8.11.0"
BOOT_TIME = "/sys/boottime"
IANA_IPCOMP = "108"

EVENT = "event"
METRIC = "metric"


def stream_name(kind: str, namespace: str) -> str:
    """``logs-vpp.ipcomp-<namespace>`` or ``metrics-vpp.ipcomp-<namespace>``."""
    return f"{'logs' if kind == EVENT else 'metrics'}-{DATASET}-{namespace}"


@dataclass(frozen=True)
class Document:
    """One document for one data stream, with its deterministic id."""

    kind: str  # EVENT | METRIC
    stream: str
    id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Observer:
    """The VPP host the documents describe (``observer.*``)."""

    hostname: str = field(default_factory=socket.gethostname)
    name: str | None = None
    version: str | None = None

    @property
    def identity(self) -> str:
        return self.name or self.hostname


def timestamp(seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds (what a ``date`` field keeps), e.g.
    ``2027-01-15T08:00:00.123Z``; sub-milliseconds are cut, not rounded."""
    return timestamp_ns(round(seconds * 1_000_000) * 1000)


def timestamp_ns(ns: int) -> str:
    """:func:`timestamp` of ``ns`` nanoseconds since the epoch."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return f"{_second(seconds)}.{rest // 1_000_000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat()


@functools.lru_cache(maxsize=8192)
def _path(key: str) -> tuple[tuple[str, ...], str]:
    *parents, leaf = key.split(".")
    return tuple(parents), leaf


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "a.c": 2}`` -> ``{"a": {"b": 1, "c": 2}}`` (``None`` values dropped)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None:
            continue
        parents, leaf = _path(key)
        node = out
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[leaf] = value
    return out


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The inverse of :func:`nest` (for tests and the fields check)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def boot_time(snap: Snapshot) -> float:
    """VPP's boot time (``/sys/boottime``), or 0 when the segment lacks it."""
    value = snap.get(BOOT_TIME, 0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def common(observer: Observer, kind: str, namespace: str, boot: float) -> dict[str, Any]:
    """Fields every document of ``kind`` carries (a new dict each call)."""
    return dict(_common(observer, kind, namespace, boot))


@functools.lru_cache(maxsize=64)
def _common(observer: Observer, kind: str, namespace: str, boot: float) -> dict[str, Any]:
    return {
        "data_stream.type": "logs" if kind == EVENT else "metrics",
        "data_stream.dataset": DATASET,
        "data_stream.namespace": namespace,
        "ecs.version": ECS_VERSION,
        "agent.type": "vppcomp",
        "agent.version": __version__,
        "observer.hostname": observer.hostname,
        "observer.name": observer.name,
        "observer.type": "vpp",
        "observer.vendor": "FD.io",
        "observer.product": "VPP",
        "observer.version": observer.version,
        "vpp.boot_time": timestamp(boot) if boot else None,
        "event.dataset": DATASET,
        "event.module": "vpp",
        "event.kind": "event" if kind == EVENT else "metric",
    }


# -- events ------------------------------------------------------------------

#: ring event type -> (event.category, event.type, event.outcome, node stem of the reason)
EVENT_KINDS: dict[str, tuple[list[str], list[str], str, str | None]] = {
    "sa-add": (["configuration"], ["creation"], "success", None),
    "sa-del": (["configuration"], ["deletion"], "success", None),
    "protect-add": (["configuration", "network"], ["creation"], "success", None),
    "protect-del": (["configuration", "network"], ["deletion"], "success", None),
    "engine-failure": (["network"], ["error"], "failure", "compress"),
    "decompress-failure": (["network"], ["error"], "failure", "decompress"),
    "device-failure": (["host"], ["error"], "failure", None),
    "device-recovery": (["host"], ["change"], "success", None),
    "engine-switch": (["host"], ["change"], "success", None),
}


def error_names(snap: Snapshot, node: str) -> dict[int, str]:
    """Error code -> name for ``node``, from its ``/err/<node>/<name>``
    symlinks: VPP gives a node's errors consecutive counter indices in code
    order, so code = index - the node's first index."""
    prefix = f"/err/{node}/"
    found = [
        (link.index, name[len(prefix) :])
        for name in snap.matching((prefix,))
        if (link := snap.symlink(name)) is not None
    ]
    if not found:
        return {}
    base = min(index for index, _ in found)
    return {index - base: name for index, name in found}


@dataclass
class EventContext:
    """What a snapshot tells about the records of its ring: names for indices."""

    boot_time: float
    engines: list[str]
    interfaces: list[str | None]
    reasons: dict[str, dict[int, str]]

    @classmethod
    def of(cls, snap: Snapshot) -> EventContext:
        nodes = [f"ipcomp{v}-{op}" for v in (4, 6) for op in OPS]
        return cls(
            boot_time(snap),
            engine_names(snap),
            list(snap.get(NAMES, [])),
            {node: error_names(snap, node) for node in nodes},
        )


@functools.lru_cache(maxsize=4096)
def _address(raw: bytes, is_ip6: int | None) -> str | None:
    packed = raw if is_ip6 else raw[:4]
    if not any(packed):
        return None
    return str(ipaddress.ip_address(packed))


def event_documents(
    records: Sequence[dict[str, Any]],
    thread: int,
    first_sequence: int,
    context: EventContext,
    observer: Observer,
    namespace: str,
    schema_version: int,
    read_at: float,
) -> list[Document]:
    """The log documents of decoded ipcomp ring records of one thread, record
    ``k`` being ring sequence ``first_sequence + k`` (fields named as the
    plugin's schema names them: type, reason, sa_index, sa_id, cpi, is_ip6,
    engine_index, sw_if_index, length, src, dst, timestamp_ns).

    What every document of the call shares (the common fields, ``created``,
    the ring's schema version, the id prefix) is built once; documents share
    those constant sub-objects, so callers must not mutate a body."""
    base = _nested_common(observer, EVENT, namespace, context.boot_time)
    base_event = base["event"]
    base_vpp = base.get("vpp", {})
    created = timestamp(read_at)
    ring = {"schema_version": schema_version}
    stream = stream_name(EVENT, namespace)
    engines = context.engines
    interfaces = context.interfaces
    doc_ids = ids.event_ids(
        observer.identity, context.boot_time, thread, first_sequence, len(records)
    )
    docs: list[Document] = []
    for k, record in enumerate(records):
        get = record.get
        action = str(get("type"))
        category, kinds, outcome, stem = EVENT_KINDS.get(action, _UNKNOWN_KIND)
        is_ip6 = get("is_ip6")
        code = get("reason")
        # the schema's reason lines name it (plugin schema v2); older recordings'
        # schema v1 did not: there the node's error order and the fallback enum
        reason = get("reason_name")
        if reason is None and code is not None:
            if stem is not None:
                node = f"ipcomp{6 if is_ip6 else 4}-{stem}"
                reason = context.reasons.get(node, {}).get(code)
            elif action == "engine-switch":
                reason = _switch_reason(code)
        sa_id = get("sa_id")
        src = _address(get("src", b""), is_ip6)
        dst = _address(get("dst", b""), is_ip6)

        event = {
            **base_event,
            "category": category,
            "type": kinds,
            "action": action,
            "outcome": outcome,
        }
        if reason is not None:
            event["reason"] = reason
        event["sequence"] = first_sequence + k
        event["created"] = created

        ipcomp: dict[str, Any] = {}
        sa_index = get("sa_index")
        if sa_id is not None or sa_index is not None:
            ipcomp["sa"] = _clean({"id": sa_id, "index": sa_index})
        if sa_id is not None and (cpi := get("cpi")) is not None:
            ipcomp["cpi"] = cpi
        engine = get("engine_index")
        if engine is not None:
            name = engines[engine] if engine < len(engines) else None
            ipcomp["engine"] = _clean({"index": engine, "name": name})
        sw_if_index = get("sw_if_index")
        if sw_if_index is not None:
            name = interfaces[sw_if_index] if sw_if_index < len(interfaces) else None
            ipcomp["interface"] = _clean({"sw_if_index": sw_if_index, "name": name})
        if code is not None:
            ipcomp["reason"] = {"code": code}
        ipcomp["ring"] = ring

        words = [action]
        if sa_id is not None:
            words.append(f"sa {sa_id}")
        if src or dst:
            words.append(f"{src} -> {dst}")
        if code:
            words.append(f"reason {reason or code}")
        body: dict[str, Any] = {
            **base,
            "@timestamp": timestamp_ns(get("timestamp_ns", 0)),
            "message": " ".join(words),
            "event": event,
            "vpp": {**base_vpp, "thread": thread, "ipcomp": ipcomp},
        }
        if src:
            body["source"] = {"ip": src}
        if dst:
            body["destination"] = {"ip": dst}
        if src or dst:
            network: dict[str, Any] = {
                "type": "ipv6" if is_ip6 else "ipv4",
                "iana_number": IANA_IPCOMP,
            }
            if length := get("length"):
                network["bytes"] = length
            body["network"] = network
        docs.append(Document(EVENT, stream, doc_ids[k], body))
    return docs


_UNKNOWN_KIND: tuple[list[str], list[str], str, str | None] = (["host"], ["info"], "unknown", None)


def _switch_reason(code: int) -> str | None:
    """An engine-switch record's reason: the plugin's ``ipcomp_fallback_reason_t``
    (0: back to the device, then the ``foreach_ipcomp_fallback_reason`` order
    that ``FALLBACK_REASONS`` follows). Not in the ring's schema text yet."""
    if code == 0:
        return "hardware"
    return FALLBACK_REASONS[code - 1] if code <= len(FALLBACK_REASONS) else None


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without its ``None`` values."""
    return {k: v for k, v in fields.items() if v is not None}


@functools.lru_cache(maxsize=64)
def _nested_common(observer: Observer, kind: str, namespace: str, boot: float) -> dict[str, Any]:
    """:func:`common` nested once per observer, stream and VPP instance (shared:
    callers copy what they extend)."""
    return nest(_common(observer, kind, namespace, boot))


def shipper_event(
    action: str,
    message: str,
    observer: Observer,
    namespace: str,
    boot: float,
    at: float,
    key: Sequence[object],
    extra: dict[str, Any] | None = None,
) -> Document:
    """An event the shipper reports about itself or VPP (``ring-overrun``,
    ``vpp-restart``); ``key`` makes its id unique and repeatable."""
    flat = common(observer, EVENT, namespace, boot)
    flat.update(
        {
            "@timestamp": timestamp(at),
            "message": message,
            "event.category": ["host"],
            "event.type": ["start"] if action == "vpp-restart" else ["info"],
            "event.action": action,
            "event.outcome": "success" if action == "vpp-restart" else "failure",
            "event.created": timestamp(at),
            **(extra or {}),
        }
    )
    doc_id = ids.shipper_event_id(observer.identity, boot, action, *key)
    return Document(EVENT, stream_name(EVENT, namespace), doc_id, nest(flat))


# -- metrics -----------------------------------------------------------------


@dataclass
class Step:
    """One counter vector at one sample, per row: the monotonic total, the
    increase since the previous sample (``None`` on the shipper's first
    sample), why it started over (``None``, restart, clear, new), and the
    seconds the increase covers."""

    total: np.ndarray
    delta: list[Any]
    reset: list[str | None]
    interval: list[float | None]


@dataclass
class _Previous:
    ids: list[Hashable]
    total: np.ndarray
    taken_at: float


class DeltaTracker:
    """Increases between samples of VPP's counters, exported as VPP reports
    them (as the exporter does): a counter below its previous sample was
    cleared (or its index reused) and its increase is its value since then;
    a VPP restart (a new ``segment_id``) starts every series again."""

    def __init__(self) -> None:
        self._previous: dict[str, _Previous] = {}
        self._segment: tuple[int, int] | None = None
        self._fresh_instance = False
        self._taken_at = 0.0
        self._boot = 0.0

    def begin(self, snap: Snapshot) -> bool:
        """Start a sample; True when ``snap`` comes from a new VPP instance
        after one was seen (a restart)."""
        restarted = self._segment is not None and snap.segment_id != self._segment
        if snap.segment_id != self._segment:
            self._previous.clear()
            self._fresh_instance = restarted
        self._segment = snap.segment_id
        self._taken_at = snap.taken_at
        self._boot = boot_time(snap)
        return restarted

    def step(self, key: str, raw: np.ndarray, row_ids: list[Hashable]) -> Step:
        """``raw`` (rows, ...) uint64 with ``row_ids`` naming the rows."""
        total = np.asarray(raw, dtype=np.uint64)
        previous = self._previous.get(key)
        self._previous[key] = _Previous(list(row_ids), total.copy(), self._taken_at)
        n = len(row_ids)
        if previous is None:
            if not self._fresh_instance:
                return Step(total, [None] * n, [None] * n, [None] * n)
            since = self._taken_at - self._boot if self._boot else None
            return Step(total, _as_list(total), ["restart"] * n, [since] * n)
        interval = self._taken_at - previous.taken_at
        deltas: list[Any] = []
        resets: list[str | None] = []
        for i in range(n):
            if i >= len(previous.ids) or previous.ids[i] != row_ids[i]:
                deltas.append(_as_list(total[i : i + 1])[0])
                resets.append("new")
                continue
            cleared = bool((total[i] < previous.total[i]).any())
            row = total[i : i + 1]
            increase = row if cleared else row - previous.total[i : i + 1]
            deltas.append(_as_list(increase)[0])
            resets.append("clear" if cleared else None)
        return Step(total, deltas, resets, [interval] * n)


def _as_list(array: np.ndarray) -> list[Any]:
    return array.tolist()


class _Rows:
    """Flat field dicts of one dimension set, one per row, filled counter by counter."""

    def __init__(self, row_ids: list[Hashable], keys: list[dict[str, Any]]) -> None:
        self.ids = row_ids
        self.flat = keys
        self.reset: list[str | None] = [None] * len(row_ids)
        self.interval: list[float | None] = [None] * len(row_ids)

    def counter(self, prefix: str, units: Sequence[str], step: Step) -> None:
        """Write ``<prefix>.<unit>``, ``_total``, ``_per_second`` per row."""
        totals = step.total.tolist()
        for i, flat in enumerate(self.flat):
            total = totals[i]
            delta = step.delta[i]
            interval = step.interval[i]
            if step.reset[i] and not self.reset[i]:
                self.reset[i] = step.reset[i]
            if interval is not None:
                self.interval[i] = interval
            for u, unit in enumerate(units):
                value = total[u] if len(units) > 1 else total
                name = f"{prefix}.{unit}"
                flat[f"{name}_total"] = value
                if delta is not None:
                    d = delta[u] if len(units) > 1 else delta
                    flat[name] = d
                    if interval:
                        flat[f"{name}_per_second"] = d / interval

    def finish(self) -> None:
        for i, flat in enumerate(self.flat):
            flat["vpp.ipcomp.sample.reset"] = self.reset[i]
            flat["vpp.ipcomp.sample.interval_seconds"] = self.interval[i]


class MetricSampler:
    """Metric documents of one snapshot: one per SA, engine, offload device
    and queue pair, and interface; all counters of a dimension set in one
    document (a time-series data stream rejects two documents with the same
    dimensions and timestamp)."""

    def __init__(self, observer: Observer, namespace: str, period: float) -> None:
        self.observer = observer
        self.namespace = namespace
        self.period_ms = int(period * 1000)
        self.deltas = DeltaTracker()

    def documents(self, snap: Snapshot) -> list[Document]:
        self.deltas.begin(snap)
        docs: list[Document] = []
        for name, rows in (
            ("sa", self._sa(snap)),
            ("engine", self._engine(snap)),
            ("offload", self._offload(snap)),
            ("interface", self._interface(snap)),
        ):
            if rows is None:
                continue
            rows.finish()
            docs += self._documents(snap, name, rows)
        return docs

    def _documents(self, snap: Snapshot, metricset: str, rows: _Rows) -> Iterable[Document]:
        boot = boot_time(snap)
        base = common(self.observer, METRIC, self.namespace, boot)
        base["@timestamp"] = timestamp(snap.taken_at)
        base["metricset.name"] = metricset
        base["metricset.period"] = self.period_ms
        millis = round(snap.taken_at * 1000)
        stream = stream_name(METRIC, self.namespace)
        for row_id, flat in zip(rows.ids, rows.flat, strict=True):
            key = row_id if isinstance(row_id, tuple) else (row_id,)
            doc_id = ids.metric_id(self.observer.identity, millis, metricset, key)
            yield Document(METRIC, stream, doc_id, nest({**base, **flat}))

    def _sa(self, snap: Snapshot) -> _Rows | None:
        if SA_NAMES not in snap:
            return None
        names = snap[SA_NAMES]
        live = [i for i, name in enumerate(names) if name]
        if not live:
            return None
        row_ids: list[Hashable] = [names[i] for i in live]
        rows = _Rows(
            row_ids,
            [{"vpp.ipcomp.sa.id": _int(names[i]), "vpp.ipcomp.sa.index": i} for i in live],
        )
        paths = {
            f"{SA_PREFIX}{c}": f"vpp.ipcomp.sa.{word(c)}"
            for c in (*SA_COUNTERS, *SA_OFFLOAD_COUNTERS)
        }
        paths.update(
            {
                f"{FALLBACK}{r}": f"vpp.ipcomp.sa.offload_fallback.{word(r)}"
                for r in FALLBACK_REASONS
            }
        )
        raw: dict[str, np.ndarray] = {}
        for path, prefix in paths.items():
            if path not in snap:
                continue
            values = _rows_of(snap.total(path), live)
            raw[path] = values
            rows.counter(prefix, ("packets", "bytes"), self.deltas.step(path, values, row_ids))
        into, out = raw.get(f"{SA_PREFIX}compressed-in"), raw.get(f"{SA_PREFIX}compressed-out")
        if into is not None and out is not None:
            saved = np.where(into[:, 1] > out[:, 1], into[:, 1] - out[:, 1], np.uint64(0))
            step = self.deltas.step("derived:saved", saved, row_ids)
            rows.counter("vpp.ipcomp.sa.saved", ("bytes",), step)
            for flat in rows.flat:
                d_in = flat.get("vpp.ipcomp.sa.compressed_in.bytes")
                d_out = flat.get("vpp.ipcomp.sa.compressed_out.bytes")
                if d_in:
                    flat["vpp.ipcomp.sa.compression_ratio"] = (d_out or 0) / d_in
        return rows

    def _engine(self, snap: Snapshot) -> _Rows | None:
        engines = engine_names(snap)
        if not engines:
            return None
        row_ids: list[Hashable] = list(engines)
        rows = _Rows(
            row_ids,
            [
                {"vpp.ipcomp.engine.name": e, "vpp.ipcomp.engine.index": i}
                for i, e in enumerate(engines)
            ],
        )
        everyone = list(range(len(engines)))
        for op in OPS:
            calls = f"{ENGINE_PREFIX}calls/{op}"
            if calls in snap:
                values = _rows_of(snap.total(calls), everyone)
                step = self.deltas.step(calls, values, row_ids)
                rows.counter(f"vpp.ipcomp.engine.{op}", ("ops", "input_bytes"), step)
            clocks = f"{ENGINE_PREFIX}clocks/{op}"
            if clocks in snap:
                values = _rows_of(snap.total(clocks), everyone)
                step = self.deltas.step(clocks, values, row_ids)
                rows.counter(f"vpp.ipcomp.engine.{op}", ("clocks",), step)
        for gauge in ENGINE_GAUGES:
            for engine, flat in zip(engines, rows.flat, strict=True):
                path = f"{ENGINE_PREFIX}{engine}/{gauge}"
                if path in snap:
                    flat[f"vpp.ipcomp.engine.{word(gauge)}"] = int(snap[path])
        return rows

    def _offload(self, snap: Snapshot) -> _Rows | None:
        if DEVICES not in snap:
            return None
        devices = snap[DEVICES]
        named = [i for i, d in enumerate(devices) if d]
        if not named:
            return None
        threads = 0
        for counter in OFFLOAD_COUNTERS:
            path = f"{OFFLOAD_PREFIX}{counter}"
            if path in snap:
                threads = snap[path].shape[0]
                break
        pairs = [(devices[d], qp, d) for d in named for qp in range(threads)]
        row_ids: list[Hashable] = [(dev, qp) for dev, qp, _ in pairs]
        rows = _Rows(
            row_ids,
            [
                {"vpp.ipcomp.offload.device": dev, "vpp.ipcomp.offload.queue_pair": qp}
                for dev, qp, _ in pairs
            ],
        )
        for counter in OFFLOAD_COUNTERS:
            path = f"{OFFLOAD_PREFIX}{counter}"
            if path not in snap:
                continue
            array = snap[path]
            values = np.array(
                [array[qp, d] if d < array.shape[1] else 0 for _, qp, d in pairs], dtype=np.uint64
            )
            rows.counter(
                "vpp.ipcomp.offload", (word(counter),), self.deltas.step(path, values, row_ids)
            )
        return rows

    def _interface(self, snap: Snapshot) -> _Rows | None:
        if NAMES not in snap:
            return None
        names = snap[NAMES]
        live = [i for i, n in enumerate(names) if n and n != DELETED]
        if not live:
            return None
        row_ids: list[Hashable] = [names[i] for i in live]
        rows = _Rows(
            row_ids,
            [{"vpp.interface.name": names[i], "vpp.interface.sw_if_index": i} for i in live],
        )
        for counter in SIMPLE:
            path = f"/if/{counter}"
            if path in snap:
                values = _rows_of(snap.total(path), live)
                rows.counter(
                    f"vpp.interface.{word(counter)}",
                    ("packets",),
                    self.deltas.step(path, values, row_ids),
                )
        for counter in COMBINED:
            path = f"/if/{counter}"
            if path in snap:
                values = _rows_of(snap.total(path), live)
                rows.counter(
                    f"vpp.interface.{word(counter)}",
                    ("packets", "bytes"),
                    self.deltas.step(path, values, row_ids),
                )
        return rows


def _rows_of(array: np.ndarray, rows: list[int]) -> np.ndarray:
    """Rows ``rows`` of a vector summed over threads; rows beyond it are 0."""
    array = np.asarray(array, dtype=np.uint64)
    out = np.zeros((len(rows), *array.shape[1:]), dtype=np.uint64)
    for k, i in enumerate(rows):
        if i < len(array):
            out[k] = array[i]
    return out


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
