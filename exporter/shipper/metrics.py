"""The shipper's self-metrics, built at scrape time from :class:`ShipperStats`.

:class:`ShipperCollector` follows the exporter's collector contract (it is
added to the exporter's collectors when the shipper runs in-process, so the
families appear on its ``/metrics``); :meth:`ShipperCollector.describe_all`
gives the same families to a prometheus-client registry for ``vppcomp ship
--metrics-listen``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.shipper.documents import EVENT, METRIC
from vppcomp.exporter.shipper.runner import Shipper


class ShipperCollector:
    """``vpp_shipper_*`` families of one :class:`Shipper`."""

    name = "shipper"
    without_vpp = True  # the shipper's health matters most while VPP is gone

    def __init__(self, shipper: Shipper) -> None:
        self.shipper = shipper

    def collect(self, scrape: object = None) -> Iterable[Metric]:
        """Families now (``scrape`` is unused: the values are the shipper's)."""
        return list(self._families())

    def _families(self) -> Iterator[Metric]:
        stats = self.shipper.stats
        spool = self.shipper.spool
        kinds = [{"kind": EVENT}, {"kind": METRIC}]
        yield families.counter(
            "vpp_shipper_documents_read",
            "Documents made from the ring and the counters.",
            ("kind",),
            kinds,
            [stats.read[EVENT], stats.read[METRIC]],
        )
        yield families.counter(
            "vpp_shipper_documents_shipped",
            "Documents the cluster created.",
            ("kind",),
            kinds,
            [stats.shipped[EVENT], stats.shipped[METRIC]],
        )
        yield families.counter(
            "vpp_shipper_documents_already_present",
            "Documents the cluster already had (409 on a resend): delivered.",
            (),
            [{}],
            [stats.already_present],
        )
        failed = sorted(stats.failed.items())
        yield families.counter(
            "vpp_shipper_documents_failed",
            "Documents the cluster refused for good (kept in the spool's dead table), by reason.",
            ("reason",),
            [{"reason": r} for r, _ in failed],
            [n for _, n in failed],
        )
        retried = sorted(stats.retried.items())
        yield families.counter(
            "vpp_shipper_documents_retried",
            "Bulk items kept spooled for a resend (429, 5xx, no answer), by status.",
            ("status",),
            [{"status": s} for s, _ in retried],
            [n for _, n in retried],
        )
        yield families.counter(
            "vpp_shipper_documents_spooled",
            "Documents written to the spool.",
            (),
            [{}],
            [stats.spooled],
        )
        yield families.counter(
            "vpp_shipper_documents_dropped",
            "Documents dropped by a full spool (oldest metrics first), by kind.",
            ("kind",),
            kinds,
            [spool.dropped[EVENT], spool.dropped[METRIC]],
        )
        yield families.gauge(
            "vpp_shipper_spool_bytes",
            "Bytes of document bodies in the spool.",
            (),
            [{}],
            [spool.bytes],
        )
        yield families.gauge(
            "vpp_shipper_spool_documents",
            "Documents waiting in the spool.",
            (),
            [{}],
            [spool.count],
        )
        yield families.counter(
            "vpp_shipper_ring_overrun_records",
            "Event ring records overwritten before the shipper read them.",
            (),
            [{}],
            [stats.ring_overruns],
        )
        yield families.counter(
            "vpp_shipper_vpp_restarts",
            "VPP restarts seen by the shipper.",
            (),
            [{}],
            [stats.vpp_restarts],
        )
        yield families.gauge(
            "vpp_shipper_cluster_up",
            "1 when the last bulk request was answered.",
            (),
            [{}],
            [int(stats.cluster_up)],
        )
        yield families.gauge(
            "vpp_shipper_last_success_timestamp_seconds",
            "Unix time of the last acknowledged bulk request (0: never).",
            (),
            [{}],
            [stats.last_success],
        )
