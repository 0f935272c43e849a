"""One scrape: a snapshot, every collector over it, and the self-metrics.

:meth:`Exporter.collect` is what ``/metrics`` calls. Scrapes are serialised
by a lock: the counter guard must see snapshots in the order they were
taken, and the interpreter would not run two collections in parallel anyway.
The segment itself is only held while :meth:`StatsClient.snapshot` copies it;
families are built from the copy. When VPP is gone (or the segment is busy or
malformed) the scrape still answers, with ``vpp_up 0``, every collector
reported as failed, and the self-metrics; the client reconnects on the next
scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import exposition, families
from vppcomp.exporter.metrics.collectors import Collector
from vppcomp.exporter.metrics.guard import CounterGuard
from vppcomp.exporter.metrics.options import Options
from vppcomp.exporter.metrics.scrape import Scrape
from vppcomp.statseg.client import StatsClient
from vppcomp.statseg.layout import READ_ERRORS
from vppcomp.statseg.snapshot import Snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectorResult:
    """How one collector fared in the last scrape."""

    name: str
    success: bool
    duration: float


class Exporter:
    """Turns ``client``'s segment into families with ``collectors``."""

    def __init__(
        self,
        client: StatsClient,
        collectors: Sequence[Collector],
        options: Options | None = None,
    ) -> None:
        self.client = client
        self.collectors = list(collectors)
        self.options = options or Options()
        self.guard = CounterGuard()
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._bad_logged: object = None  # bad_entries of the epoch last logged
        self.scrapes = 0

    def collect(self) -> list[Metric]:
        """All families for one scrape (never raises for a missing or broken VPP)."""
        with self._lock:
            self.scrapes += 1
            started = time.perf_counter()
            snapshot = self._snapshot()
            read_time = time.perf_counter() - started
            metrics: list[Metric] = []
            results: list[CollectorResult] = []
            if snapshot is not None:
                self.guard.begin(snapshot.segment_id)
                scrape = Scrape(snapshot, self.options, self.guard)
                for collector in self.collectors:
                    results.append(self._run(collector, scrape, metrics))
            else:
                results = [CollectorResult(c.name, False, 0.0) for c in self.collectors]
            metrics.extend(self._self_metrics(snapshot, read_time, results))
            return metrics

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """One scrape encoded for an HTTP ``Accept`` header: OpenMetrics when
        asked for, else the Prometheus text format. Returns (body, content type)."""
        chunks, content_type = self.stream(accept)
        return b"".join(chunks), content_type

    def stream(self, accept: str | None = None) -> tuple[Iterator[bytes], str]:
        """Like :meth:`render`, the body as chunks encoded while they are read
        (the scrape itself is complete before this returns)."""
        return exposition.encode(self.collect(), accept)

    def _snapshot(self) -> Snapshot | None:
        try:
            snapshot = self.client.snapshot()
        except READ_ERRORS as error:
            if self.last_error != str(error):
                log.warning("cannot read the stats segment: %s", error)
            self.last_error = str(error)
            return None
        if self.last_error is not None:
            log.info("reading the stats segment again")
        self.last_error = None
        if snapshot.bad_entries and self._bad_logged is not snapshot.bad_entries:
            for path, reason in snapshot.bad_entries.items():
                log.warning(
                    "stats segment entry left out: %s",
                    reason if path in reason else f"{path}: {reason}",
                )
            self._bad_logged = snapshot.bad_entries
        return snapshot

    @staticmethod
    def _run(collector: Collector, scrape: Scrape, out: list[Metric]) -> CollectorResult:
        started = time.perf_counter()
        try:
            metrics = list(collector.collect(scrape))
        except Exception:
            log.exception("collector %s failed", collector.name)
            return CollectorResult(collector.name, False, time.perf_counter() - started)
        out.extend(metrics)
        return CollectorResult(collector.name, True, time.perf_counter() - started)

    def _self_metrics(
        self, snapshot: Snapshot | None, read_time: float, results: list[CollectorResult]
    ) -> Iterable[Metric]:
        stats = self.client.stats
        rows = [{"collector": r.name} for r in results]
        yield families.gauge(
            "vpp_up",
            "1 when the last scrape read VPP's stats segment, else 0.",
            (),
            [{}],
            [int(snapshot is not None)],
        )
        bad = sorted(snapshot.bad_entries) if snapshot is not None else []
        yield families.gauge(
            "vpp_exporter_segment_bad_entries",
            "Entries of the stats segment left out of the last scrape because they do not "
            "decode (a dangling symlink, a pointer outside the segment); 1 per path, the "
            "reason is logged.",
            ("path",),
            [{"path": path} for path in bad],
            [1] * len(bad),
        )
        yield families.gauge(
            "vpp_exporter_scrape_collector_duration_seconds",
            "Time a collector took in the last scrape.",
            ("collector",),
            rows,
            [r.duration for r in results],
        )
        yield families.gauge(
            "vpp_exporter_scrape_collector_success",
            "1 when a collector succeeded in the last scrape, else 0.",
            ("collector",),
            rows,
            [int(r.success) for r in results],
        )
        yield families.gauge(
            "vpp_exporter_segment_read_duration_seconds",
            "Time to copy the stats segment in the last scrape.",
            (),
            [{}],
            [read_time],
        )
        for name, text, value in (
            ("segment_retries", "Segment reads retried: VPP was updating it.", stats.retries),
            ("segment_read_failures", "Segment reads that failed.", stats.failures),
            ("vpp_restarts", "VPP restarts seen (new stats segment).", stats.restarts),
            (
                "segment_connects",
                "Connections to the stats socket that mapped a segment.",
                stats.connects,
            ),
            (
                "cleared_series",
                "Counter series that went backwards without a restart "
                "(cleared); exported values were kept monotonic.",
                self.guard.resets,
            ),
            ("scrapes", "Scrapes served.", self.scrapes),
        ):
            yield families.counter(f"vpp_exporter_{name}", text, (), [{}], [value])
        yield families.gauge(
            "vpp_exporter_last_success_timestamp_seconds",
            "Unix time of the last good read of the segment (0: never).",
            (),
            [{}],
            [stats.last_success],
        )
