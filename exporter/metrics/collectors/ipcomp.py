"""The ipcomp plugin's statistics (``/net/ipcomp/*``, see plugin/README.md).

* per SA (label ``sa``, the SA id from ``/net/ipcomp/sa/names``): nine
  combined counters ``/net/ipcomp/sa/<counter>``, and two derived families:
  ``vpp_ipcomp_sa_saved_bytes_total`` (compressed-in minus compressed-out
  bytes, a counter, so ``rate()`` is exact; it does not dip on a torn read,
  see :mod:`~vppcomp.exporter.metrics.derived`) and
  ``vpp_ipcomp_sa_compression_ratio`` (cumulative out/in bytes, as
  plugin/README.md defines it); the asynchronous engines' path per SA:
  ``offload-hw`` and ``offload-dropped``, and the six
  ``offload-fallback-<reason>`` vectors as one family per unit with a
  ``reason`` label (``queue-full``, ``device-error``, ``no-device``,
  ``too-big``, ``data-error``, ``timeout``);
* per engine (label ``engine``, ``op``): calls, input bytes and clocks
  (``/net/ipcomp/engine/{calls,clocks}/<op>``, indexed by engine), gauges
  ``/net/ipcomp/engine/<name>/*`` and clock histograms whose ``_sum`` is the
  exact clock counter (``inflight``: the operations on an offload device
  now, the one in-flight figure the plugin publishes);
* payload-size histograms ``/net/ipcomp/hist/*`` (``_count`` but no ``_sum``:
  the plugin does not publish the sum), the SA and tunnel gauges, and the
  number of events written to the ``/net/ipcomp/events`` ring;
* offload devices (label ``device`` from ``/net/ipcomp/offload/devices``,
  ``queue_pair``): the ``/net/ipcomp/offload/*`` counters and the
  enqueue-to-dequeue latency histogram (buckets only, label
  ``queue_pair``: the plugin keeps it per queue pair, not per device). Their
  ``[thread]`` axis is the queue pair (each VPP thread owns the queue pair of
  its index), so it is always kept, as ``queue_pair``, and never summed nor
  relabelled ``thread`` by ``--per-thread``. Nothing is exported for them
  while no device is named (no ``compressdev`` section).

Engine indices (registration order, plugin/README.md) come from the name
vector ``/net/ipcomp/engine/names`` (``[engine_index]``).  Recordings of older
plugins lack it: there the order in which the engines' ``.../sas`` gauges
appear in the directory stands in (the plugin added them in index order).
SAs whose name is empty (deleted) are not exported.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.derived import NonDecreasingDifference
from vppcomp.exporter.metrics.scrape import Entities, EpochCache, Scrape, Series
from vppcomp.statseg.ipcomp import SA_NAMES, SA_PREFIX, compression_ratio, saved_bytes
from vppcomp.statseg.snapshot import RingBuffer, Snapshot

PREFIX = "/net/ipcomp/"
ENGINE_PREFIX = "/net/ipcomp/engine/"
ENGINE_NAMES = "/net/ipcomp/engine/names"
OPS = ("compress", "decompress")

#: /net/ipcomp/sa/<counter> -> (family stem, packets meaning, bytes meaning)
SA_COUNTERS: dict[str, tuple[str, str, str]] = {
    "compressed-in": ("vpp_ipcomp_sa_compressed_in", "compressed", "uncompressed payload"),
    "compressed-out": ("vpp_ipcomp_sa_compressed_out", "compressed", "IPComp header + deflate"),
    "bypass": ("vpp_ipcomp_sa_bypass", "sent uncompressed, below threshold", "payload"),
    "incompressible": ("vpp_ipcomp_sa_incompressible", "sent uncompressed, not smaller", "payload"),
    "decompressed-in": ("vpp_ipcomp_sa_decompressed_in", "decompressed", "IPComp header + deflate"),
    "decompressed-out": ("vpp_ipcomp_sa_decompressed_out", "decompressed", "restored payload"),
    "rx-errors": ("vpp_ipcomp_sa_rx_errors", "received and dropped", "IPComp header + data"),
    "tx-errors": ("vpp_ipcomp_sa_tx_errors", "dropped on the send side", "payload"),
    "backoff": ("vpp_ipcomp_sa_backoff", "sent uncompressed by the adaptive back-off", "payload"),
}

#: asynchronous-engine /net/ipcomp/sa/<counter> -> (family stem, packets meaning, bytes meaning)
SA_OFFLOAD_COUNTERS: dict[str, tuple[str, str, str]] = {
    "offload-hw": ("vpp_ipcomp_sa_offload_hw", "processed by an offload device", "input"),
    "offload-dropped": (
        "vpp_ipcomp_sa_offload_dropped",
        "dropped by the offload policy drop instead of a fallback",
        "input",
    ),
}

#: /net/ipcomp/sa/offload-fallback-<reason>, exported as one family with a ``reason`` label
FALLBACK = f"{SA_PREFIX}offload-fallback-"
FALLBACK_REASONS = ("queue-full", "device-error", "no-device", "too-big", "data-error", "timeout")

#: /net/ipcomp/engine/<name>/<gauge> -> (family, help)
ENGINE_GAUGES: dict[str, tuple[str, str]] = {
    "sas": ("vpp_ipcomp_engine_sas", "SAs using the engine."),
    "priority": ("vpp_ipcomp_engine_priority", "Engine priority (highest is the default)."),
    "context-bytes": ("vpp_ipcomp_engine_context_bytes", "Memory held by engine contexts."),
    "inflight": ("vpp_ipcomp_engine_inflight_ops", "Operations queued on an offload device."),
}

#: plain gauges -> (family, help)
GAUGES: dict[str, tuple[str, str]] = {
    "/net/ipcomp/sas": ("vpp_ipcomp_sas", "IPComp SAs configured."),
    "/net/ipcomp/tunnels": ("vpp_ipcomp_tunnels", "ipip tunnels with ipcomp protection."),
}

#: payload-size histograms -> op label
PAYLOAD_HISTOGRAMS: dict[str, str] = {
    "/net/ipcomp/hist/compress-in-bytes": "compress",
    "/net/ipcomp/hist/decompress-out-bytes": "decompress",
}
EVENTS = "/net/ipcomp/events"

OFFLOAD_PREFIX = "/net/ipcomp/offload/"
DEVICES = "/net/ipcomp/offload/devices"
QUEUE_PAIR = "queue_pair"
#: /net/ipcomp/offload/<counter> (simple ``[queue pair][device]``) -> (family, help)
OFFLOAD_COUNTERS: dict[str, tuple[str, str]] = {
    "enqueued": ("vpp_ipcomp_offload_enqueued_ops", "Operations the device accepted"),
    "dequeued": ("vpp_ipcomp_offload_dequeued_ops", "Operations back from the device, any status"),
    "enqueue-errors": (
        "vpp_ipcomp_offload_enqueue_error_ops",
        "Operations the enqueue refused: queue pair full",
    ),
    "dequeue-errors": (
        "vpp_ipcomp_offload_dequeue_error_ops",
        "Operations back with an error status",
    ),
    "out-of-space": (
        "vpp_ipcomp_offload_out_of_space_ops",
        "Operations back out of space: incompressible, bomb, or beyond mbuf-size",
    ),
    "late": (
        "vpp_ipcomp_offload_late_ops",
        "Operations back after their time-out, discarded",
    ),
    "reordered": (
        "vpp_ipcomp_offload_reordered_packets",
        "Packets sent at once, possibly ahead of their SA's, because the order queue was full",
    ),
}
OFFLOAD_LATENCY = "/net/ipcomp/offload/latency-clocks"
CALLS = "/net/ipcomp/engine/calls/<op>, indexed by engine"
CLOCKS = "/net/ipcomp/engine/clocks/<op>, indexed by engine"


def engine_names(snap: Snapshot) -> list[str]:
    """Engine names in index order (see the module docstring)."""
    published = snap.values.get(ENGINE_NAMES)
    if isinstance(published, list):
        return [str(name) for name in published]
    names = []
    for path in snap.values:
        if path.startswith(ENGINE_PREFIX) and path.endswith("/sas"):
            names.append(path[len(ENGINE_PREFIX) : -len("/sas")])
    return names


class IpcompCollector:
    """``vpp_ipcomp_*`` families."""

    name = "ipcomp"

    def __init__(self) -> None:
        self._cache = EpochCache()
        self._saved = NonDecreasingDifference()

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        yield from self._gauges(scrape)
        if SA_NAMES in snap:
            names = snap[SA_NAMES]
            sas = self._cache.get(SA_NAMES, names, lambda: Entities.named("sa", names))
            yield from self._sa(scrape, sas)
            yield from self._sa_offload(scrape, sas)
        engines = self._cache.get("engines", snap.types, lambda: engine_names(snap))
        yield from self._engines(scrape, engines)
        yield from self._payload(scrape)
        yield from self._offload_devices(scrape)
        if scrape.wants(EVENTS) and isinstance(snap[EVENTS], RingBuffer):
            ring: RingBuffer = snap[EVENTS]
            yield families.counter(
                "vpp_ipcomp_events",
                f"Records written to the event ring, all threads ({EVENTS}).",
                (),
                [{}],
                [sum(t.sequence for t in ring.threads)],
            )

    def _gauges(self, scrape: Scrape) -> Iterable[Metric]:
        for path, (family, text) in GAUGES.items():
            if scrape.wants(path):
                yield families.gauge(family, f"{text} ({path})", (), [{}], [scrape.snapshot[path]])

    def _sa(self, scrape: Scrape, sas: Entities) -> Iterable[Metric]:
        for counter, (stem, packets, octets) in SA_COUNTERS.items():
            yield from _sa_vector(scrape, f"{SA_PREFIX}{counter}", sas, stem, packets, octets)
        compressed_in = scrape.series(f"{SA_PREFIX}compressed-in", sas)
        compressed_out = scrape.series(f"{SA_PREFIX}compressed-out", sas)
        if compressed_in is None or compressed_out is None:
            return
        yield from self._derived(scrape, compressed_in, compressed_out)

    def _sa_offload(self, scrape: Scrape, sas: Entities) -> Iterable[Metric]:
        """Hardware path, drops and software fallback (one family, label
        ``reason``) of the SAs of asynchronous engines."""
        for counter, (stem, packets, octets) in SA_OFFLOAD_COUNTERS.items():
            yield from _sa_vector(scrape, f"{SA_PREFIX}{counter}", sas, stem, packets, octets)
        fallback: list[Metric] = []
        for reason in FALLBACK_REASONS:
            entities = self._cache.get(
                f"fallback:{reason}",
                sas,
                lambda reason=reason: sas.with_label("reason", reason),
            )
            fallback += _sa_vector(
                scrape,
                f"{FALLBACK}{reason}",
                entities,
                "vpp_ipcomp_sa_offload_fallback",
                "taken by the software fallback instead of the offload device",
                "input",
                f"{FALLBACK}<reason>",
            )
        yield from families.merge(fallback)

    def _offload_devices(self, scrape: Scrape) -> Iterable[Metric]:
        """Counters per device and queue pair and the latency histogram per
        queue pair; nothing while no device is named.  What is on the device
        now is the engine gauge (``ENGINE_GAUGES["inflight"]``)."""
        if DEVICES not in scrape.snapshot:
            return
        names = scrape.snapshot[DEVICES]
        devices = self._cache.get(DEVICES, names, lambda: Entities.named("device", names))
        if not devices.valid().any():
            return
        for counter, (family, text) in OFFLOAD_COUNTERS.items():
            path = f"{OFFLOAD_PREFIX}{counter}"
            yield from scrape.vector(
                path, devices, [(family, f"{text} ({path}).")], split=QUEUE_PAIR
            )
        yield from scrape.histogram(
            OFFLOAD_LATENCY,
            "vpp_ipcomp_offload_latency_clocks",
            "CPU clock cycles from enqueue to dequeue per offload operation (log2 buckets; "
            f"{OFFLOAD_LATENCY}).",
            {},
            split=QUEUE_PAIR,
        )

    def _derived(self, scrape: Scrape, into: Series, out: Series) -> Iterable[Metric]:
        n = min(len(into.data), len(out.data))
        in_bytes, out_bytes = into.data[:n, 1], out.data[:n, 1]
        saved = self._saved.apply(
            scrape.snapshot.segment_id, into.ids[:n], in_bytes, saved_bytes(in_bytes, out_bytes)
        )
        rows, labels = into.rows[:n], into.labels
        keep = scrape.keep(into)
        keep = keep[keep < n]
        yield families.counter(
            "vpp_ipcomp_sa_saved_bytes",
            "Bytes saved by compression: compressed-in minus compressed-out bytes.",
            labels,
            rows,
            saved,
            keep,
        )
        ratio = compression_ratio(in_bytes, out_bytes)
        yield families.gauge(
            "vpp_ipcomp_sa_compression_ratio",
            "Compressed over uncompressed bytes of the packets sent compressed, since "
            "the SA was added (plugin/README.md's ratio; for a window: rate of "
            "compressed_out_bytes over rate of compressed_in_bytes).",
            labels,
            rows,
            ratio,
            keep[in_bytes[keep] > 0],
        )

    def _engines(self, scrape: Scrape, engines: list[str]) -> Iterable[Metric]:
        snap = scrape.snapshot
        merged: list[Metric] = []
        clocks: dict[str, Series] = {}
        for op in OPS:
            entities = self._cache.get(
                f"engine-op:{op}",
                engines,
                lambda op=op: Entities.named("engine", engines).with_label("op", op),
            )
            calls = f"{ENGINE_PREFIX}calls/{op}"
            merged += scrape.vector(
                calls,
                entities,
                [
                    ("vpp_ipcomp_engine_ops", f"Operations handed to the engine ({CALLS})."),
                    ("vpp_ipcomp_engine_input_bytes", f"Bytes handed to the engine ({CALLS})."),
                ],
            )
            path = f"{ENGINE_PREFIX}clocks/{op}"
            series = scrape.series(path, entities)
            if series is not None:
                clocks[op] = series
                merged.append(
                    families.counter(
                        "vpp_ipcomp_engine_clocks",
                        f"CPU clock cycles spent in the engine ({CLOCKS}).",
                        series.labels,
                        series.rows,
                        series.data,
                        scrape.keep(series),
                    )
                )
        for gauge, (family, text) in ENGINE_GAUGES.items():
            rows, values = [], []
            for engine in engines:
                path = f"{ENGINE_PREFIX}{engine}/{gauge}"
                if scrape.wants(path):
                    rows.append({"engine": engine})
                    values.append(snap[path])
            if rows:
                merged.append(
                    families.gauge(
                        family,
                        f"{text} ({ENGINE_PREFIX}<engine>/{gauge})",
                        ("engine",),
                        rows,
                        values,
                    )
                )
        rows, values = [], []
        for engine in engines:
            for op in OPS:
                path = f"{ENGINE_PREFIX}{engine}/{op}-clocks-avg"
                if scrape.wants(path):
                    rows.append({"engine": engine, "op": op})
                    values.append(snap[path])
        if rows:
            merged.append(
                families.gauge(
                    "vpp_ipcomp_engine_clocks_per_op",
                    f"Average clocks per operation over the last interval "
                    f"({ENGINE_PREFIX}<engine>/<op>-clocks-avg).",
                    ("engine", "op"),
                    rows,
                    values,
                )
            )
        for index, engine in enumerate(engines):
            for op in OPS:
                path = f"{ENGINE_PREFIX}{engine}/{op}-clocks"
                series = clocks.get(op)
                exact_sum = None
                if (
                    series is not None
                    and not scrape.options.per_thread
                    and index < len(series.data)
                ):
                    exact_sum = float(series.data[index])
                merged += scrape.histogram(
                    path,
                    "vpp_ipcomp_engine_op_clocks",
                    "CPU clock cycles per engine operation (log2 buckets; "
                    f"{ENGINE_PREFIX}<engine>/<op>-clocks).",
                    {"engine": engine, "op": op},
                    exact_sum,
                )
        yield from families.merge(merged)

    def _payload(self, scrape: Scrape) -> Iterable[Metric]:
        merged: list[Metric] = []
        for path, op in PAYLOAD_HISTOGRAMS.items():
            merged += scrape.histogram(
                path,
                "vpp_ipcomp_payload_size_bytes",
                "Uncompressed payload size per packet (log2 buckets; "
                "/net/ipcomp/hist/{compress-in,decompress-out}-bytes).",
                {"op": op},
                None,
            )
        yield from families.merge(merged)


def _sa_vector(
    scrape: Scrape,
    path: str,
    sas: Entities,
    stem: str,
    packets: str,
    octets: str,
    source: str | None = None,
) -> list[Metric]:
    """``<stem>_packets_total`` and ``<stem>_bytes_total`` from the combined
    per-SA vector at ``path`` (``source``: the path named in the help text,
    default ``path``)."""
    source = source or path
    return scrape.vector(
        path,
        sas,
        [
            (f"{stem}_packets", f"Packets {packets} ({source})."),
            (f"{stem}_bytes", f"Bytes: {octets} ({source})."),
        ],
    )
