"""The field contract of both data streams: every field the shipper writes.

One list per stream (:data:`LOG_FIELDS`, :data:`METRIC_FIELDS`), built from
the exporter's own tables of counters (so a counter added there appears in
both places). The templates' mappings (:mod:`.templates`), the fields file
``exporter/shipper/fields/fields.yml`` (Elastic integration style) and the
README table are rendered from these lists; tests check that the committed
file and table equal the rendering and that documents use no other field.

Metric documents carry, per counter ``<c>`` and unit ``<u>`` of a dimension
set: ``<c>.<u>`` (the increase since the previous sample, a gauge),
``<c>.<u>_total`` (the counter as VPP reports it: it falls on a clear and
on a VPP restart, which TSDS counters and the deltas treat as a reset;
``metric_type: counter``) and ``<c>.<u>_per_second`` (the
increase over the interval, a gauge).
"""

from __future__ import annotations

from dataclasses import dataclass

from vppcomp.exporter.metrics.collectors.interfaces import COMBINED, SIMPLE
from vppcomp.exporter.metrics.collectors.ipcomp import (
    ENGINE_GAUGES,
    FALLBACK_REASONS,
    OFFLOAD_COUNTERS,
    OPS,
    SA_COUNTERS,
    SA_OFFLOAD_COUNTERS,
)


@dataclass(frozen=True)
class Field:
    """One mapped field: dotted name, Elasticsearch type, and for metrics
    whether it is a time-series dimension or which metric type it is."""

    name: str
    type: str
    description: str
    dimension: bool = False
    metric_type: str | None = None  # "counter" | "gauge"


def word(stat: str) -> str:
    """A stat name as a field word: ``compressed-in`` -> ``compressed_in``."""
    return stat.replace("-", "_")


def counter_fields(prefix: str, counter: str, what: str) -> list[Field]:
    """The three fields of one counter (see the module docstring)."""
    return [
        Field(
            f"{prefix}.{counter}",
            "long",
            f"{what}: increase since the previous sample",
            False,
            "gauge",
        ),
        Field(
            f"{prefix}.{counter}_total",
            "long",
            f"{what}: counter (as VPP reports it; falls on a clear or restart)",
            False,
            "counter",
        ),
        Field(
            f"{prefix}.{counter}_per_second",
            "double",
            f"{what}: increase per second over the sample interval",
            False,
            "gauge",
        ),
    ]


COMMON_FIELDS: list[Field] = [
    Field("@timestamp", "date", "When the event happened or the sample was taken"),
    Field("data_stream.type", "constant_keyword", "logs or metrics"),
    Field("data_stream.dataset", "constant_keyword", "vpp.ipcomp"),
    Field("data_stream.namespace", "constant_keyword", "Namespace of the data stream"),
    Field("ecs.version", "keyword", "ECS version the document follows"),
    Field("agent.type", "keyword", "vppcomp"),
    Field("agent.version", "keyword", "vppcomp version"),
    Field("observer.hostname", "keyword", "Host name of the VPP host", dimension=True),
    Field("observer.name", "keyword", "Configured name of the VPP instance"),
    Field("observer.type", "keyword", "vpp"),
    Field("observer.vendor", "keyword", "FD.io"),
    Field("observer.product", "keyword", "VPP"),
    Field("observer.version", "keyword", "VPP version (from the binary API; absent without it)"),
    Field("vpp.boot_time", "date", "When this VPP instance started (/sys/boottime)"),
    Field("event.dataset", "keyword", "vpp.ipcomp"),
    Field("event.module", "keyword", "vpp"),
    Field("event.kind", "keyword", "event (logs) or metric (metrics)"),
]

LOG_FIELDS: list[Field] = [
    *COMMON_FIELDS,
    Field("message", "match_only_text", "One line describing the event"),
    Field("event.category", "keyword", "ECS category: network, configuration, host"),
    Field("event.type", "keyword", "ECS type: creation, deletion, error, change, info"),
    Field(
        "event.action",
        "keyword",
        "What happened: the ring's event type (sa-add, decompress-failure, ...) or a "
        "shipper event (ring-overrun, vpp-restart)",
    ),
    Field("event.outcome", "keyword", "success or failure"),
    Field("event.reason", "keyword", "Why: the node error name of a failure, where known"),
    Field("event.sequence", "long", "Sequence number of the record in its thread's ring"),
    Field("event.created", "date", "When the shipper read the record"),
    Field("source.ip", "ip", "Packet or SA source (for an SA: the local address)"),
    Field("destination.ip", "ip", "Packet or SA destination (for an SA: the peer)"),
    Field("network.type", "keyword", "ipv4 or ipv6"),
    Field("network.iana_number", "keyword", "108 (IPComp)"),
    Field("network.bytes", "long", "Packet bytes involved"),
    Field("vpp.thread", "long", "VPP thread whose ring held the record (0 = main)"),
    Field("vpp.ipcomp.sa.id", "long", "SA id (as configured)"),
    Field("vpp.ipcomp.sa.index", "long", "SA index in VPP"),
    Field("vpp.ipcomp.cpi", "long", "Compression parameter index"),
    Field("vpp.ipcomp.engine.index", "long", "Engine index (registration order)"),
    Field("vpp.ipcomp.engine.name", "keyword", "Engine name"),
    Field("vpp.ipcomp.interface.sw_if_index", "long", "sw_if_index of the tunnel interface"),
    Field("vpp.ipcomp.interface.name", "keyword", "Name of the tunnel interface"),
    Field("vpp.ipcomp.reason.code", "long", "The record's reason code (node error code)"),
    Field("vpp.ipcomp.ring.lost", "long", "ring-overrun: records overwritten before read"),
    Field("vpp.ipcomp.ring.schema_version", "long", "Version of the ring's record schema"),
]

METRICSET_FIELDS: list[Field] = [
    Field(
        "metricset.name",
        "keyword",
        "Dimension set: sa, engine, offload or interface",
        dimension=True,
    ),
    Field("metricset.period", "long", "Configured sample interval in milliseconds"),
    Field(
        "vpp.ipcomp.sample.interval_seconds",
        "double",
        "Seconds since the previous sample of this series (absent on the first)",
    ),
    Field(
        "vpp.ipcomp.sample.reset",
        "keyword",
        "Why the counters started over since the previous sample: restart (new VPP), "
        "clear (counter went backwards), new (series appeared: new SA, index reused)",
    ),
]


def _sa_fields() -> list[Field]:
    prefix = "vpp.ipcomp.sa"
    fields = [
        Field(f"{prefix}.id", "long", "SA id", dimension=True),
        Field(f"{prefix}.index", "long", "SA index in VPP", dimension=True),
    ]
    counters = {**SA_COUNTERS, **SA_OFFLOAD_COUNTERS}
    for counter, (_, packets, octets) in counters.items():
        fields += counter_fields(prefix, f"{word(counter)}.packets", f"Packets {packets}")
        fields += counter_fields(prefix, f"{word(counter)}.bytes", f"Bytes: {octets}")
    for reason in FALLBACK_REASONS:
        stem = f"offload_fallback.{word(reason)}"
        fields += counter_fields(prefix, f"{stem}.packets", f"Packets to software ({reason})")
        fields += counter_fields(prefix, f"{stem}.bytes", f"Input bytes to software ({reason})")
    fields += counter_fields(prefix, "saved.bytes", "Bytes saved (compressed-in - compressed-out)")
    fields.append(
        Field(
            f"{prefix}.compression_ratio",
            "double",
            "compressed-out over compressed-in bytes in the interval",
            metric_type="gauge",
        )
    )
    return fields


def _engine_fields() -> list[Field]:
    prefix = "vpp.ipcomp.engine"
    fields = [
        Field(f"{prefix}.name", "keyword", "Engine name", dimension=True),
        Field(f"{prefix}.index", "long", "Engine index"),
    ]
    for op in OPS:
        fields += counter_fields(prefix, f"{op}.ops", f"{op} operations")
        fields += counter_fields(prefix, f"{op}.input_bytes", f"{op} input bytes")
        fields += counter_fields(prefix, f"{op}.clocks", f"{op} CPU clocks")
    for gauge, (_, text) in ENGINE_GAUGES.items():
        fields.append(Field(f"{prefix}.{word(gauge)}", "long", text, metric_type="gauge"))
    return fields


def _offload_fields() -> list[Field]:
    prefix = "vpp.ipcomp.offload"
    fields = [
        Field(f"{prefix}.device", "keyword", "Offload device", dimension=True),
        Field(f"{prefix}.queue_pair", "long", "Queue pair (= VPP thread)", dimension=True),
    ]
    for counter, (_, text) in OFFLOAD_COUNTERS.items():
        fields += counter_fields(prefix, word(counter), text)
    return fields


def _interface_fields() -> list[Field]:
    prefix = "vpp.interface"
    fields = [
        Field(f"{prefix}.name", "keyword", "Interface name", dimension=True),
        Field(f"{prefix}.sw_if_index", "long", "sw_if_index"),
    ]
    for counter, (_, text) in SIMPLE.items():
        fields += counter_fields(prefix, f"{word(counter)}.packets", text.rstrip("."))
    for counter, (_, what) in COMBINED.items():
        fields += counter_fields(prefix, f"{word(counter)}.packets", f"Packets {what}")
        fields += counter_fields(prefix, f"{word(counter)}.bytes", f"Bytes {what}")
    return fields


METRIC_FIELDS: list[Field] = [
    *COMMON_FIELDS,
    *METRICSET_FIELDS,
    *_sa_fields(),
    *_engine_fields(),
    *_offload_fields(),
    *_interface_fields(),
]


def names(fields: list[Field]) -> set[str]:
    return {f.name for f in fields}


def render_yaml() -> str:
    """The fields file (``exporter/shipper/fields/fields.yml``): one entry per
    field and stream, in the keys of an Elastic integration's fields files."""
    out = [
        "# Generated from vppcomp/exporter/shipper/fields.py: the fields of the data streams",
        "# logs-vpp.ipcomp-<namespace> and metrics-vpp.ipcomp-<namespace>.",
        "# tests/test_shipper_fields.py fails when this file is not the rendering.",
    ]
    for stream, fields in (("logs", LOG_FIELDS), ("metrics", METRIC_FIELDS)):
        out.append(f"- name: {stream}")
        out.append("  type: group")
        out.append("  fields:")
        for f in fields:
            out.append(f"    - name: {f.name!r}".replace("'", '"'))
            out.append(f"      type: {f.type}")
            if f.dimension:
                out.append("      dimension: true")
            if f.metric_type:
                out.append(f"      metric_type: {f.metric_type}")
            out.append(f"      description: {_quote(f.description)}")
    return "\n".join(out) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_table() -> str:
    """The README's field table (logs fields, then the metric fields without
    the three-per-counter expansion spelled out for every counter)."""
    rows = ["| Field | Type | Streams | Meaning |", "|---|---|---|---|"]
    logs, metrics = names(LOG_FIELDS), names(METRIC_FIELDS)
    seen: set[str] = set()
    for f in [*LOG_FIELDS, *METRIC_FIELDS]:
        if f.name in seen:
            continue
        seen.add(f.name)
        streams = (
            "logs, metrics"
            if f.name in logs and f.name in metrics
            else ("logs" if f.name in logs else "metrics")
        )
        kind = f.type + (" (dimension)" if f.dimension else "")
        if f.metric_type:
            kind += f" ({f.metric_type})"
        rows.append(f"| `{f.name}` | {kind} | {streams} | {f.description} |")
    return "\n".join(rows) + "\n"
