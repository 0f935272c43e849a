"""The shipper loop: ring and counters -> documents -> spool -> cluster.

Every poll (default 1 s) :meth:`Shipper.read` takes one snapshot, turns the
ring records no earlier read took into event documents and, every
``interval`` (default 10 s), the counters into metric documents, and puts
them into the spool *together with the ring cursor* in one transaction.
:meth:`Shipper.flush` then sends the spool's oldest documents in bulk and
removes what the cluster has (created, or 409: already there). A crash
between the two loses nothing: on restart the cursor says where reading
stopped, and the spool still holds what was not acknowledged (a resend of
something the cluster did get is a 409).

Losses are never silent: ring records overwritten before they were read
(from the ring's sequence numbers, also across a shipper restart) become a
``ring-overrun`` event and a counter; a new VPP instance becomes a
``vpp-restart`` event; documents dropped by a full spool and documents the
cluster refused for good (kept in the spool's ``dead`` table) are counted
by reason.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from vppcomp.exporter.metrics.collectors.ipcomp import EVENTS
from vppcomp.exporter.metrics.exporter import READ_ERRORS
from vppcomp.exporter.shipper import backends, templates
from vppcomp.exporter.shipper.backends import RETRIABLE, Backend, ClusterUnavailable
from vppcomp.exporter.shipper.documents import (
    EVENT,
    METRIC,
    Document,
    EventContext,
    MetricSampler,
    Observer,
    boot_time,
    event_documents,
    shipper_event,
)
from vppcomp.exporter.shipper.spool import Spool, Spooled
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.events import EventSchema, SchemaError, records_since
from vppcomp.statseg.snapshot import RingBuffer, Snapshot

log = logging.getLogger(__name__)

CURSOR = "cursor"


@dataclass
class ShipperConfig:
    namespace: str = "default"
    interval: float = 10.0  # seconds between metric samples
    poll: float = 1.0  # seconds between ring reads
    batch_size: int = 1000
    install_templates: bool = True
    lifecycle: bool = True
    max_backoff: float = 60.0


@dataclass
class ShipperStats:
    """What the self-metrics report (see :mod:`.metrics`)."""

    read: Counter[str] = field(default_factory=Counter)  # by kind
    shipped: Counter[str] = field(default_factory=Counter)  # by kind
    already_present: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # refused for good, by reason
    retried: Counter[str] = field(default_factory=Counter)  # kept for a resend, by reason
    spooled: int = 0
    ring_overruns: int = 0  # records lost
    vpp_restarts: int = 0
    last_success: float = 0.0
    cluster_up: bool = False
    vpp_up: bool = False


class Shipper:
    """Reads ``client``'s segment, spools, and ships to ``connect()``'s cluster."""

    def __init__(
        self,
        client: StatsClient,
        spool: Spool,
        connect: Callable[[], Backend],
        observer: Observer | None = None,
        config: ShipperConfig | None = None,
    ) -> None:
        self.client = client
        self.spool = spool
        self._connect = connect
        self.observer = observer or Observer()
        self.config = config or ShipperConfig()
        self.stats = ShipperStats()
        self.sampler = MetricSampler(self.observer, self.config.namespace, self.config.interval)
        self.backend: Backend | None = None
        self._cursor: dict[str, Any] | None = self._load_cursor()
        self._schema: tuple[tuple[bytes, int, int], EventSchema] | None = None
        self._next_sample = 0.0
        self._retry_at = 0.0
        self._backoff = 1.0
        self._lock = threading.Lock()

    # -- reading --------------------------------------------------------

    def _load_cursor(self) -> dict[str, Any] | None:
        text = self.spool.state(CURSOR)
        return None if text is None else dict(json.loads(text))

    def read(self, now: float | None = None) -> int:
        """One snapshot into the spool; returns the documents spooled.
        A missing VPP is logged once and reads nothing."""
        with self._lock, _collector_paused():
            try:
                snap = self.client.snapshot(ring_records=True)
            except READ_ERRORS as error:
                if self.stats.vpp_up:
                    log.warning("VPP stats segment unreachable: %s", error)
                self.stats.vpp_up = False
                return 0
            if not self.stats.vpp_up:
                log.info("reading VPP's stats segment (%s)", self.client.socket_path)
            self.stats.vpp_up = True
            now = time.time() if now is None else now
            docs, cursor = self._events(snap, now)
            if now >= self._next_sample:
                docs += self.sampler.documents(snap)
                self._next_sample = now + self.config.interval
            for doc in docs:
                self.stats.read[doc.kind] += 1
            dropped = self.spool.put(docs, {CURSOR: json.dumps(cursor)})
            self._cursor = cursor
            self.stats.spooled += len(docs)
            for kind, n in dropped.items():
                if n:
                    log.warning("spool full: dropped the %d oldest %s documents", n, kind)
            return len(docs)

    def _events(self, snap: Snapshot, now: float) -> tuple[list[Document], dict[str, Any]]:
        boot = boot_time(snap)
        cursor = self._cursor
        docs: list[Document] = []
        if cursor is not None and cursor.get("boot") != boot:
            self.stats.vpp_restarts += 1
            log.info("VPP restarted (boot time %s, was %s)", boot, cursor.get("boot"))
            docs.append(
                shipper_event(
                    "vpp-restart",
                    f"VPP restarted (boot time {boot:.0f}, previous {cursor.get('boot', 0):.0f})",
                    self.observer,
                    self.config.namespace,
                    boot,
                    boot or now,
                    (cursor.get("boot"),),
                )
            )
            cursor = None
        if cursor is None:
            cursor = {"boot": boot, "next": []}
        ring = snap.get(EVENTS)
        if not isinstance(ring, RingBuffer):
            return docs, cursor
        schema = self._ring_schema(ring)
        if schema is None:
            return docs, cursor
        context = EventContext.of(snap)
        nexts = list(cursor["next"]) + [0] * max(len(ring.threads) - len(cursor["next"]), 0)
        for thread, ring_thread in enumerate(ring.threads):
            part = records_since(ring_thread, nexts[thread])
            nexts[thread] = part.next
            if part.lost:
                self.stats.ring_overruns += part.lost
                log.warning(
                    "event ring thread %d: %d records overwritten before read", thread, part.lost
                )
                docs.append(
                    shipper_event(
                        "ring-overrun",
                        f"event ring of thread {thread}: {part.lost} records overwritten "
                        "before the shipper read them",
                        self.observer,
                        self.config.namespace,
                        boot,
                        now,
                        (thread, part.first),
                        {
                            "vpp.thread": thread,
                            "vpp.ipcomp.ring.lost": part.lost,
                            "event.sequence": part.first,
                        },
                    )
                )
            docs += event_documents(
                schema.decode(part.records),
                thread,
                part.first,
                context,
                self.observer,
                self.config.namespace,
                schema.version,
                now,
            )
        return docs, {"boot": boot, "next": nexts}

    def _ring_schema(self, ring: RingBuffer) -> EventSchema | None:
        key = (ring.schema, ring.schema_version, ring.entry_size)
        if self._schema is not None and self._schema[0] == key:
            return self._schema[1]
        try:
            schema = EventSchema.parse(ring.schema, ring.schema_version, ring.entry_size)
        except SchemaError as error:
            log.error("cannot decode %s: %s (events not shipped)", EVENTS, error)
            return None
        self._schema = (key, schema)
        return schema

    # -- sending --------------------------------------------------------

    def _ensure_backend(self) -> Backend | None:
        if self.backend is not None:
            return self.backend
        try:
            backend = self._connect()
            if self.config.install_templates:
                templates.install(backend, lifecycle=self.config.lifecycle)
        except Exception as error:  # any refusal: keep spooling, retry with the backoff
            self._down(f"cannot set up the cluster: {error}")
            return None
        self.backend = backend
        return backend

    def _down(self, why: str) -> None:
        if self.stats.cluster_up or self._backoff == 1.0:
            log.warning(
                "cluster unavailable (%s); documents stay spooled (%d)", why, self.spool.count
            )
        self.stats.cluster_up = False
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self.config.max_backoff)

    def flush(self, budget: float = 1.0) -> bool:
        """Send spooled documents, oldest first, for about ``budget`` seconds.
        Returns True when the spool is empty afterwards."""
        if time.monotonic() < self._retry_at:
            return False
        backend = self._ensure_backend()
        if backend is None:
            return False
        started = time.monotonic()
        backlog = self.spool.count
        if backlog > 10 * self.config.batch_size:
            log.info("flushing a backlog of %d spooled documents", backlog)
        last_report = started
        while self.spool.count:
            if not self._send_batch(backend):
                return False
            now = time.monotonic()
            if backlog > 10 * self.config.batch_size and now - last_report >= 10:
                log.info("backlog: %d documents left", self.spool.count)
                last_report = now
            if now - started >= budget:
                break
        return self.spool.count == 0

    def _send_batch(self, backend: Backend) -> bool:
        with _collector_paused():
            return self._send(backend, self.spool.peek(self.config.batch_size))

    def _send(self, backend: Backend, batch: list[Spooled]) -> bool:
        id_kinds = {EVENT} if backend.tsds else {EVENT, METRIC}
        actions = backends.actions_for(batch, id_kinds)
        try:
            results = backend.bulk(actions)
        except ClusterUnavailable as error:
            self._down(str(error))
            return False
        acked: list[int] = []
        retry = False
        for doc, result in zip(batch, results, strict=True):
            if result.ok:
                self.stats.shipped[doc.kind] += 1
                acked.append(doc.seq)
            elif result.status == 409:
                self.stats.already_present += 1
                acked.append(doc.seq)
            elif result.status is None or result.status in RETRIABLE or result.whole_request:
                # a refusal of the whole request (401, 403, 413, ...) says nothing
                # about the document: keep it, and say why in the log
                self.stats.retried[str(result.status or "no_answer")] += 1
                retry = True
            else:
                reason = result.error_type or str(result.status)
                self.stats.failed[reason] += 1
                log.error("cluster refused document %s (%s): %s", doc.id, reason, result.error)
                self.spool.bury(doc, reason, result.error or "")
        self.spool.ack(acked)
        if acked:
            if not self.stats.cluster_up:
                log.info("cluster accepting documents again (%d spooled)", self.spool.count)
            self.stats.cluster_up = True
            self.stats.last_success = time.time()
            self._backoff = 1.0
        if retry:
            failed = [r for r in results if not r.ok]
            self._down(f"{len(failed)} items to retry, e.g. {failed[0].status}: {failed[0].error}")
            return False
        return True

    # -- the loop -------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Read and flush until ``stop`` is set; never raises for a missing
        VPP or cluster."""
        log.info("shipping to data streams *-vpp.ipcomp-%s", self.config.namespace)
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.read()
                self.flush(budget=self.config.poll)
            except Exception:
                log.exception("shipper step failed; going on")
            stop.wait(max(self.config.poll - (time.monotonic() - started), 0.05))
        self.flush(budget=self.config.poll)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector paused for one read or one bulk
    batch. Both make tens of thousands of short-lived, acyclic containers
    (records, documents, actions, results) that reference counting frees;
    left on, the collector scans them again and again while the batch is
    alive (about half the time spent building documents, bench/
    shipper_bench.py). It runs again right after, as it was; the longest
    pause is one bulk request that waits for its timeout. The collector is
    process-wide: in-process beside the exporter, its threads' cycles wait
    for the end of the pause too."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
