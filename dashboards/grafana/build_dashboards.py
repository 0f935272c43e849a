"""Write the four provisioned Grafana dashboards (dashboards/grafana/dashboards/*.json).

    .venv/bin/python dashboards/grafana/build_dashboards.py

The JSON files are what Grafana provisions and what the tests evaluate
(tests/test_dashboards.py checks them against this script, and runs every
panel query on a real Prometheus); edit the panels here, then run it.

* Compression overview (``vppcomp-overview``): per SA ratio, bytes saved,
  what happened to each packet, receive failures by reason;
* Offload engines (``vppcomp-offload``): device vs fallback share and
  reasons, in-flight, enqueue-to-dequeue latency (heatmap and quantiles),
  device counters and events, engine cost;
* VPP data plane (``vppcomp-dataplane``): interface rates and drops, vectors
  per call and clocks per packet of the ipcomp nodes against the rest, errors
  by node, buffers;
* Exporter and shipper health (``vppcomp-exporter``).

All share the tag ``vppcomp`` and link to each other keeping time range and
variables. SAs are shown with CPI and peer by joining ``vpp_ipcomp_sa_info``
(present when the exporter has ``--api-socket``; without it the plain SA id
is shown). Per-SA rates come from the recording rules of
dashboards/prometheus/rules/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"
INST = 'instance=~"$instance"'
SA = f'{INST}, sa=~"$sa"'


def with_sa_info(expr: str, by: str = "instance, sa") -> str:
    """``expr`` (one series per SA) with the SA's CPI and peer as labels
    from ``vpp_ipcomp_sa_info``; where that is absent (no ``--api-socket``)
    the series with ``cpi`` and ``peer`` "?"."""
    unknown = f'label_replace(label_replace({expr}, "cpi", "?", "", ""), "peer", "?", "", "")'
    return (
        f"(({expr}) * on ({by}) group_left (cpi, peer) "
        f"max by ({by}, cpi, peer) (vpp_ipcomp_sa_info{{{INST}}})) or on ({by}) {unknown}"
    )


LOG_SCALE = {"type": "log", "log": 10}
SA_LEGEND = "{{instance}} SA {{sa}} cpi {{cpi}} peer {{peer}}"


class Board:
    """One dashboard being laid out: rows of panels, 24 columns wide."""

    def __init__(self, uid: str, title: str, description: str) -> None:
        self.uid, self.title, self.description = uid, title, description
        self.panels: list[dict[str, Any]] = []
        self.variables: list[dict[str, Any]] = []
        self._x = self._y = self._row_height = 0

    def variable(self, name: str, label: str, query: str) -> None:
        self.variables.append(
            {
                "name": name,
                "label": label,
                "type": "query",
                "datasource": DS,
                "query": {"query": query, "refId": name},
                "definition": query,
                "refresh": 2,
                "includeAll": True,
                "multi": True,
                "allValue": ".*",
                "current": {"text": "All", "value": "$__all"},
                "sort": 1,
            }
        )

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": {"x": 0, "y": self._y, "w": 24, "h": 1},
                "panels": [],
            }
        )
        self._y += 1

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_height
        self._x = self._row_height = 0

    def panel(
        self,
        kind: str,
        title: str,
        description: str,
        targets: list[tuple[str, str]],
        *,
        w: int = 12,
        h: int = 8,
        unit: str = "short",
        log: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A panel; ``targets`` are (PromQL, legend) pairs; ``log``: a
        logarithmic y axis (values spanning orders of magnitude)."""
        if self._x + w > 24:
            self._newline()
        panel: dict[str, Any] = {
            "id": len(self.panels) + 1,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": {"x": self._x, "y": self._y, "w": w, "h": h},
            "fieldConfig": {
                "defaults": {
                    "unit": unit,
                    **({"custom": {"scaleDistribution": LOG_SCALE}} if log else {}),
                },
                "overrides": [],
            },
            "options": {},
            "targets": [
                {
                    "refId": chr(ord("A") + i),
                    "datasource": DS,
                    "expr": expr,
                    "legendFormat": legend,
                    **({"format": "heatmap"} if kind == "heatmap" else {}),
                    **({"instant": True, "format": "table"} if kind == "table" else {}),
                }
                for i, (expr, legend) in enumerate(targets)
            ],
        }
        if kind == "timeseries":
            panel["options"] = {"legend": {"displayMode": "table", "placement": "bottom"}}
        if kind == "heatmap":
            panel["options"] = {"calculate": False, "yAxis": {"unit": unit}}
        panel.update(extra or {})
        self.panels.append(panel)
        self._x += w
        self._row_height = max(self._row_height, h)

    def json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["vpp", "vppcomp"],
            "schemaVersion": 39,
            "version": 1,
            "editable": True,
            "refresh": "10s",
            "time": {"from": "now-1h", "to": "now"},
            "links": [
                {
                    "title": "vppcomp dashboards",
                    "type": "dashboards",
                    "tags": ["vppcomp"],
                    "asDropdown": False,
                    "includeVars": True,
                    "keepTime": True,
                }
            ],
            "templating": {
                "list": [
                    {
                        "name": "datasource",
                        "label": "Prometheus",
                        "type": "datasource",
                        "query": "prometheus",
                    },
                    *self.variables,
                ]
            },
            "panels": self.panels,
        }


def instance_variable(board: Board) -> None:
    board.variable("instance", "VPP", "label_values(vpp_up, instance)")


def overview() -> Board:
    b = Board(
        "vppcomp-overview",
        "VPP IPComp: compression overview",
        "Per SA: how well it compresses, bytes saved, what happened to each packet, "
        "receive failures by reason.",
    )
    instance_variable(b)
    b.variable(
        "sa",
        "SA",
        'label_values(vpp_ipcomp_sa_compressed_in_packets_total{instance=~"$instance"}, sa)',
    )
    b.row("Now")
    b.panel(
        "stat",
        "VPP up",
        "1 while the exporter reads VPP's stats segment.",
        [(f"vpp_up{{{INST}}}", "{{instance}}")],
        w=4,
        h=4,
    )
    b.panel(
        "stat",
        "Bytes saved / s",
        "compressed-in minus compressed-out bytes, 5 m rate.",
        [(f"sum(vppcomp:sa_saved_bytes:rate5m{{{SA}}})", "saved")],
        w=5,
        h=4,
        unit="Bps",
    )
    b.panel(
        "stat",
        "Compression ratio",
        "Compressed over original bytes (lower is better), 5 m.",
        [
            (
                f"sum(rate(vpp_ipcomp_sa_compressed_out_bytes_total{{{SA}}}[5m])) / "
                f"sum(rate(vpp_ipcomp_sa_compressed_in_bytes_total{{{SA}}}[5m]))",
                "ratio",
            )
        ],
        w=5,
        h=4,
        unit="percentunit",
    )
    b.panel(
        "stat",
        "Compressed packets / s",
        "Packets sent compressed.",
        [(f"sum(rate(vpp_ipcomp_sa_compressed_in_packets_total{{{SA}}}[{RI}]))", "compressed")],
        w=5,
        h=4,
        unit="pps",
    )
    b.panel(
        "stat",
        "Receive failures / s",
        "Packets the decompressor dropped, all reasons.",
        [(f"sum(rate(vpp_ipcomp_sa_rx_errors_packets_total{{{SA}}}[{RI}]))", "rx errors")],
        w=5,
        h=4,
        unit="pps",
    )
    b.row("Per SA")
    b.panel(
        "table",
        "SAs",
        "Every SA with its CPI, peer and engine (binary API), "
        "its 5 m ratio and bytes saved per second.",
        [
            (
                f"vppcomp:sa_compression_ratio:rate5m{{{SA}}} * on (instance, sa) "
                f"group_left (cpi, local, peer, engine) vpp_ipcomp_sa_info{{{INST}}}",
                "ratio",
            ),
            (
                f"vppcomp:sa_saved_bytes:rate5m{{{SA}}} * on (instance, sa) "
                f"group_left (cpi, local, peer, engine) vpp_ipcomp_sa_info{{{INST}}}",
                "saved",
            ),
        ],
        w=24,
        h=6,
    )
    b.panel(
        "timeseries",
        "Compression ratio per SA",
        "Compressed over original bytes of the packets sent compressed (5 m).",
        [(with_sa_info(f"vppcomp:sa_compression_ratio:rate5m{{{SA}}}"), SA_LEGEND)],
        unit="percentunit",
    )
    b.panel(
        "timeseries",
        "Bytes saved per SA",
        "5 m rate of compressed-in minus compressed-out bytes.",
        [(with_sa_info(f"vppcomp:sa_saved_bytes:rate5m{{{SA}}}"), SA_LEGEND)],
        unit="Bps",
    )
    b.panel(
        "timeseries",
        "Send side: what happened to each packet",
        "Compressed, sent as is below the threshold (bypass), not smaller when "
        "compressed (incompressible), failed.",
        [
            (f"sum(rate(vpp_ipcomp_sa_compressed_in_packets_total{{{SA}}}[{RI}]))", "compressed"),
            (
                f"sum(rate(vpp_ipcomp_sa_bypass_packets_total{{{SA}}}[{RI}]))",
                "bypass (below threshold)",
            ),
            (
                f"sum(rate(vpp_ipcomp_sa_incompressible_packets_total{{{SA}}}[{RI}]))",
                "incompressible",
            ),
            (f"sum(rate(vpp_ipcomp_sa_tx_errors_packets_total{{{SA}}}[{RI}]))", "tx errors"),
        ],
        unit="pps",
    )
    b.panel(
        "timeseries",
        "Receive side: what happened to each packet",
        "Decompressed and dropped (packets the peer left uncompressed are ipip's: the "
        "tunnel interface's counters on the data-plane dashboard).",
        [
            (
                f"sum(rate(vpp_ipcomp_sa_decompressed_in_packets_total{{{SA}}}[{RI}]))",
                "decompressed",
            ),
            (f"sum(rate(vpp_ipcomp_sa_rx_errors_packets_total{{{SA}}}[{RI}]))", "rx errors"),
        ],
        unit="pps",
    )
    b.panel(
        "timeseries",
        "Receive failures by reason",
        "Packets dropped by the decompress nodes, per reason (5 m): unknown-cpi, "
        "corrupt, truncated-deflate, bad-inner, too-big (bomb guard), ...",
        [
            (
                f"sum by (reason) (vppcomp:ipcomp_drops:rate5m{{{INST}, "
                f'node=~"ipcomp[46]-decompress"}}) > 0',
                "{{reason}}",
            )
        ],
        unit="pps",
    )
    b.panel(
        "timeseries",
        "Incompressible share per SA",
        "Share of the packets an SA tried to compress that did not get smaller: wasted CPU (5 m).",
        [(with_sa_info(f"vppcomp:sa_incompressible_share:rate5m{{{SA}}}"), SA_LEGEND)],
        unit="percentunit",
    )
    b.panel(
        "heatmap",
        "Payload sizes entering compression",
        "Sizes of the payloads the compress nodes saw (log2 buckets).",
        [
            (
                f"sum by (le) (rate(vpp_ipcomp_payload_size_bytes_bucket{{{INST}, "
                f'op="compress"}}[{RI}]))',
                "{{le}}",
            )
        ],
        unit="bytes",
    )
    b.panel(
        "timeseries",
        "Events written / s",
        "Records written to the plugin's event ring (SA changes, decompress failures, "
        "device events); /api/ipcomp/events decodes them.",
        [(f"sum by (instance) (rate(vpp_ipcomp_events_total{{{INST}}}[{RI}]))", "{{instance}}")],
        unit="ops",
    )
    return b


def offload() -> Board:
    b = Board(
        "vppcomp-offload",
        "VPP IPComp: offload engines",
        "The compressdev engine: device vs software fallback and why, queue "
        "pairs, latency, device events; the cost of every engine.",
    )
    instance_variable(b)
    b.variable(
        "engine",
        "Engine",
        'label_values(vpp_ipcomp_engine_ops_total{instance=~"$instance"}, engine)',
    )
    b.variable(
        "device",
        "Device",
        'label_values(vpp_ipcomp_offload_enqueued_ops_total{instance=~"$instance"}, device)',
    )
    dev = f'{INST}, device=~"$device"'
    b.row("Device vs software fallback")
    b.panel(
        "timeseries",
        "Packets / s: on the device, fallback by reason, dropped",
        "Packets the offload engine handled on the device, gave to the software "
        "fallback (per reason) or dropped (policy drop).",
        [
            (f"sum(rate(vpp_ipcomp_sa_offload_hw_packets_total{{{INST}}}[{RI}]))", "device"),
            (
                f"sum by (reason) (rate(vpp_ipcomp_sa_offload_fallback_packets_total"
                f"{{{INST}}}[{RI}]))",
                "fallback: {{reason}}",
            ),
            (
                f"sum(rate(vpp_ipcomp_sa_offload_dropped_packets_total{{{INST}}}[{RI}]))",
                "dropped (policy drop)",
            ),
        ],
        unit="pps",
    )
    b.panel(
        "timeseries",
        "Fallback share by reason",
        "Fallback packets over all packets given to the offload engine (5 m).",
        [(f"vppcomp:offload_fallback_share:rate5m{{{INST}}}", "{{instance}} {{reason}}")],
        unit="percentunit",
    )
    b.row("Queue pairs and latency")
    b.panel(
        "timeseries",
        "Late operations and reordered packets / s",
        "Operations back after their time-out (discarded: their packets had left through "
        "the fallback) and packets sent ahead of their SA's because the order queue was "
        "full. In-flight operations: the engine panel below.",
        [
            (
                f"sum by (device, queue_pair) (rate(vpp_ipcomp_offload_late_ops_total"
                f"{{{dev}}}[{RI}]))",
                "late {{device}} qp {{queue_pair}}",
            ),
            (
                f"sum by (device, queue_pair) (rate(vpp_ipcomp_offload_reordered_packets_total"
                f"{{{dev}}}[{RI}]))",
                "reordered {{device}} qp {{queue_pair}}",
            ),
        ],
    )
    b.panel(
        "timeseries",
        "Queue pair refusals (full)",
        "Share of the operations offered that the queue pair refused (5 m).",
        [
            (
                f"vppcomp:offload_enqueue_refused_share:rate5m{{{dev}}}",
                "{{device}} qp {{queue_pair}}",
            )
        ],
        unit="percentunit",
    )
    b.panel(
        "heatmap",
        "Enqueue-to-dequeue latency (clocks)",
        "CPU clocks from enqueue to dequeue per operation (log2 buckets).",
        [
            (
                f"sum by (le) (rate(vpp_ipcomp_offload_latency_clocks_bucket{{{INST}}}[{RI}]))",
                "{{le}}",
            )
        ],
    )
    b.panel(
        "timeseries",
        "Enqueue-to-dequeue latency quantiles (clocks)",
        "p50 and p99 per queue pair; p99 over 5 m from the recording rule.",
        [
            (
                f"histogram_quantile(0.5, sum by (le, queue_pair) (rate("
                f"vpp_ipcomp_offload_latency_clocks_bucket{{{INST}}}[{RI}])))",
                "p50 qp {{queue_pair}}",
            ),
            (f"vppcomp:offload_latency_clocks:p99_5m{{{INST}}}", "p99 (5 m) qp {{queue_pair}}"),
        ],
        log=True,
    )
    b.row("Device")
    b.panel(
        "timeseries",
        "Device operations / s",
        "Accepted, returned, refused (queue full), returned with an error, out of space.",
        [
            (f"sum(rate(vpp_ipcomp_offload_enqueued_ops_total{{{dev}}}[{RI}]))", "enqueued"),
            (f"sum(rate(vpp_ipcomp_offload_dequeued_ops_total{{{dev}}}[{RI}]))", "dequeued"),
            (
                f"sum(rate(vpp_ipcomp_offload_enqueue_error_ops_total{{{dev}}}[{RI}]))",
                "enqueue refused",
            ),
            (
                f"sum(rate(vpp_ipcomp_offload_dequeue_error_ops_total{{{dev}}}[{RI}]))",
                "dequeue error",
            ),
            (
                f"sum(rate(vpp_ipcomp_offload_out_of_space_ops_total{{{dev}}}[{RI}]))",
                "out of space",
            ),
        ],
        unit="ops",
    )
    b.panel(
        "timeseries",
        "Device failures and events",
        "Packets sent to software because the device failed or is missing, and "
        "event records written (device-failure, -recovery, engine-switch among them).",
        [
            (
                f"sum by (reason) (rate(vpp_ipcomp_sa_offload_fallback_packets_total{{{INST}, "
                f'reason=~"device-error|no-device"}}[{RI}]))',
                "fallback: {{reason}}",
            ),
            (f"sum(increase(vpp_ipcomp_events_total{{{INST}}}[{RI}]))", "events"),
        ],
    )
    b.row("Engines")
    eng = f'{INST}, engine=~"$engine"'
    b.panel(
        "timeseries",
        "Engine operations / s",
        "Calls per engine and direction.",
        [
            (
                f"sum by (engine, op) (rate(vpp_ipcomp_engine_ops_total{{{eng}}}[{RI}]))",
                "{{engine}} {{op}}",
            )
        ],
        unit="ops",
    )
    b.panel(
        "timeseries",
        "Engine clocks per operation (p50, p99)",
        "CPU clocks per engine call; p99 over 5 m from the recording rule.",
        [
            (
                f"histogram_quantile(0.5, sum by (le, engine, op) (rate("
                f"vpp_ipcomp_engine_op_clocks_bucket{{{eng}}}[{RI}])))",
                "p50 {{engine}} {{op}}",
            ),
            (f"vppcomp:engine_op_clocks:p99_5m{{{eng}}}", "p99 (5 m) {{engine}} {{op}}"),
        ],
        log=True,
    )
    b.panel(
        "timeseries",
        "Engine SAs and in-flight operations",
        "SAs per engine, operations an asynchronous engine has outstanding.",
        [
            (f"vpp_ipcomp_engine_sas{{{eng}}}", "SAs on {{engine}}"),
            (f"vpp_ipcomp_engine_inflight_ops{{{eng}}}", "in flight on {{engine}}"),
        ],
    )
    return b


def dataplane() -> Board:
    b = Board(
        "vppcomp-dataplane",
        "VPP: data plane",
        "Interfaces, the packet graph (ipcomp nodes against the rest), errors by node, buffers.",
    )
    instance_variable(b)
    b.variable(
        "interface",
        "Interface",
        'label_values(vpp_interface_info{instance=~"$instance"}, interface)',
    )
    itf = f'{INST}, interface=~"$interface"'
    b.row("Interfaces")
    b.panel(
        "timeseries",
        "Interface throughput",
        "Bits per second received (up) and sent (down).",
        [
            (
                f"sum by (interface) (rate(vpp_interface_rx_bytes_total{{{itf}}}[{RI}])) * 8",
                "rx {{interface}}",
            ),
            (
                f"-sum by (interface) (rate(vpp_interface_tx_bytes_total{{{itf}}}[{RI}])) * 8",
                "tx {{interface}}",
            ),
        ],
        unit="bps",
    )
    b.panel(
        "timeseries",
        "Interface drops / s",
        "Dropped, receive and transmit errors, no buffer, missed.",
        [
            (
                f"sum by (interface) (rate(vpp_interface_drop_packets_total{{{itf}}}[{RI}]))",
                "drop {{interface}}",
            ),
            (
                f"sum by (interface) (rate(vpp_interface_rx_error_packets_total{{{itf}}}[{RI}]))",
                "rx error {{interface}}",
            ),
            (
                f"sum by (interface) (rate(vpp_interface_tx_error_packets_total{{{itf}}}[{RI}]))",
                "tx error {{interface}}",
            ),
            (
                f"sum by (interface) (rate(vpp_interface_rx_no_buffer_packets_total{{{itf}}}"
                f"[{RI}]))",
                "no buffer {{interface}}",
            ),
        ],
        unit="pps",
    )
    b.row("Packet graph")
    b.panel(
        "timeseries",
        "Vectors per call: ipcomp nodes vs the rest",
        "Packets per node dispatch; a low value means the node runs with small frames.",
        [
            (
                f'sum by (node) (rate(vpp_node_vectors_total{{{INST}, node=~"ipcomp.*"}}[{RI}])) '
                f'/ (sum by (node) (rate(vpp_node_calls_total{{{INST}, node=~"ipcomp.*"}}[{RI}])) '
                f"> 0)",
                "{{node}}",
            ),
            (
                f'sum(rate(vpp_node_vectors_total{{{INST}, node!~"ipcomp.*"}}[{RI}])) / '
                f'sum(rate(vpp_node_calls_total{{{INST}, node!~"ipcomp.*"}}[{RI}]))',
                "all other nodes",
            ),
        ],
        log=True,
    )
    b.panel(
        "timeseries",
        "Clocks per packet: ipcomp nodes vs the busiest others",
        "CPU clocks per packet of each ipcomp node, and of the five other nodes "
        "that spend the most clocks.",
        [
            (
                f'sum by (node) (rate(vpp_node_clocks_total{{{INST}, node=~"ipcomp.*"}}[{RI}])) '
                f'/ (sum by (node) (rate(vpp_node_vectors_total{{{INST}, node=~"ipcomp.*"}}'
                f"[{RI}])) > 0)",
                "{{node}}",
            ),
            (
                f'sum by (node) (rate(vpp_node_clocks_total{{{INST}, node!~"ipcomp.*"}}[{RI}])) '
                f"/ on (node) topk(5, sum by (node) (rate(vpp_node_vectors_total{{{INST}, "
                f'node!~"ipcomp.*"}}[{RI}])) > 0)',
                "{{node}}",
            ),
        ],
        log=True,
    )
    b.panel(
        "timeseries",
        "Errors by node (top 10)",
        "Node error counters per node and reason (informational counters included).",
        [
            (
                f"topk(10, sum by (node, reason) (rate(vpp_node_errors_total{{{INST}}}[{RI}])) "
                f"> 0)",
                "{{node}}: {{reason}}",
            )
        ],
        unit="pps",
    )
    b.panel(
        "timeseries",
        "ipcomp drops by reason",
        "Drops of the ipcomp compress and decompress nodes (5 m).",
        [
            (
                f"sum by (node, reason) (vppcomp:ipcomp_drops:rate5m{{{INST}}})",
                "{{node}}: {{reason}}",
            )
        ],
        unit="pps",
    )
    b.row("Threads, buffers, memory")
    b.panel(
        "timeseries",
        "Vector rate",
        "Packets per main-loop iteration.",
        [(f"vpp_vector_rate{{{INST}}}", "{{instance}}")],
        w=8,
    )
    b.panel(
        "timeseries",
        "Buffers per pool",
        "Used, available and cached buffers.",
        [
            (f"sum by (pool) (vpp_buffer_pool_used_buffers{{{INST}}})", "used {{pool}}"),
            (f"sum by (pool) (vpp_buffer_pool_available_buffers{{{INST}}})", "available {{pool}}"),
            (f"sum by (pool) (vpp_buffer_pool_cached_buffers{{{INST}}})", "cached {{pool}}"),
        ],
        w=8,
    )
    b.panel(
        "timeseries",
        "Free buffer share",
        "Available plus cached over all buffers.",
        [(f"vppcomp:buffer_pool_free:ratio{{{INST}}}", "{{pool}}")],
        w=8,
        unit="percentunit",
    )
    b.panel(
        "timeseries",
        "Heap memory used",
        "Bytes used per VPP heap.",
        [(f"vpp_memory_heap_used_bytes{{{INST}}}", "{{heap}}")],
        unit="bytes",
    )
    b.panel(
        "timeseries",
        "Loops per second per thread",
        "Main-loop iterations per second.",
        [(f"vpp_thread_loops_per_second{{{INST}}}", "thread {{thread}}")],
    )
    return b


def exporter() -> Board:
    b = Board(
        "vppcomp-exporter",
        "vppcomp: exporter and shipper health",
        "Is the exporter scraped, how long a scrape takes and where, VPP restarts and "
        "reconnects; the Elasticsearch shipper's losses and spool.",
    )
    instance_variable(b)
    b.row("Exporter")
    b.panel(
        "stat",
        "Scrape up",
        "1 while Prometheus gets an answer from the exporter.",
        [(f"up{{{INST}}}", "{{instance}}")],
        w=6,
        h=4,
    )
    b.panel(
        "stat",
        "Last good read age",
        "Seconds since the exporter last read VPP's segment.",
        [(f"time() - vpp_exporter_last_success_timestamp_seconds{{{INST}}}", "{{instance}}")],
        w=6,
        h=4,
        unit="s",
    )
    b.panel(
        "stat",
        "Series per scrape",
        "Samples Prometheus took from one scrape.",
        [(f"scrape_samples_scraped{{{INST}}}", "{{instance}}")],
        w=6,
        h=4,
    )
    b.panel(
        "stat",
        "VPP restarts (1 h)",
        "New stats segments seen by the exporter.",
        [(f"increase(vpp_exporter_vpp_restarts_total{{{INST}}}[1h])", "{{instance}}")],
        w=6,
        h=4,
    )
    b.panel(
        "timeseries",
        "Scrape duration",
        "Whole scrape as Prometheus saw it, and the copy of VPP's segment.",
        [
            (f"scrape_duration_seconds{{{INST}}}", "scrape {{instance}}"),
            (f"vpp_exporter_segment_read_duration_seconds{{{INST}}}", "segment read {{instance}}"),
        ],
        unit="s",
    )
    b.panel(
        "timeseries",
        "Time per collector",
        "Seconds each collector took in the last scrape.",
        [(f"vpp_exporter_scrape_collector_duration_seconds{{{INST}}}", "{{collector}}")],
        unit="s",
    )
    b.panel(
        "timeseries",
        "Collector success",
        "1/0 per collector, last scrape.",
        [
            (
                f"min by (collector) (vpp_exporter_scrape_collector_success{{{INST}}})",
                "{{collector}}",
            )
        ],
    )
    b.panel(
        "timeseries",
        "Segment reads: retries, failures, connects",
        "Reads retried (VPP was updating), failed reads, new connections.",
        [
            (f"sum(rate(vpp_exporter_segment_retries_total{{{INST}}}[{RI}]))", "retries"),
            (f"sum(rate(vpp_exporter_segment_read_failures_total{{{INST}}}[{RI}]))", "failures"),
            (f"sum(increase(vpp_exporter_segment_connects_total{{{INST}}}[{RI}]))", "connects"),
        ],
    )
    b.panel(
        "table",
        "Alerts",
        "vppcomp alerts pending or firing.",
        [('ALERTS{alertname=~"VPP.*|IPComp.*|VPPComp.*"}', "{{alertname}}")],
        w=24,
        h=6,
    )
    b.row("Shipper")
    b.panel(
        "timeseries",
        "Shipper ring overruns",
        "Event records VPP overwrote before the shipper read them.",
        [(f"sum(increase(vpp_shipper_ring_overrun_records_total{{{INST}}}[{RI}]))", "overruns")],
    )
    b.panel(
        "timeseries",
        "Shipper spool",
        "Bytes waiting on disk for Elasticsearch.",
        [(f"vpp_shipper_spool_bytes{{{INST}}}", "{{instance}}")],
        unit="bytes",
    )
    return b


BOARDS = (overview, offload, dataplane, exporter)


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON of every board."""
    return {f"{board.uid}.json": board.json() for board in (make() for make in BOARDS)}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for name, board in dashboards().items():
        (OUT / name).write_text(json.dumps(board, indent=1) + "\n")
        print(OUT / name)


if __name__ == "__main__":
    main()
