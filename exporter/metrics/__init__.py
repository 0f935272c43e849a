"""Prometheus metrics from the VPP stats segment.

One collector per area (:mod:`vppcomp.exporter.metrics.collectors`), each turning one
:class:`~vppcomp.statseg.snapshot.Snapshot` into metric families built at
scrape time; :class:`~vppcomp.exporter.metrics.exporter.Exporter` takes the snapshot,
runs the collectors, keeps counters monotonic and adds the self-metrics.
"""
