"""``vppcomp ship`` and ``vppcomp kibana import``.

Flags have environment variables ``VPPCOMP_SHIP_*``; a flag wins.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from vppcomp.statseg.client import DEFAULT_SOCKET

log = logging.getLogger(__name__)

DEFAULT_SPOOL = "/var/lib/vppcomp/shipper.sqlite"
DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"VPPCOMP_SHIP_{name}", default)


def add_ship_arguments(parser: argparse.ArgumentParser, *, required_url: bool) -> None:
    """The shipper's flags (also offered by ``vppcomp exporter`` with ``--ship-url``)."""
    parser.add_argument(
        "--ship-url" if not required_url else "--url",
        dest="ship_url",
        default=_env("URL"),
        required=required_url and _env("URL") is None,
        help="Elasticsearch or OpenSearch URL, e.g. http://127.0.0.1:9200 (VPPCOMP_SHIP_URL)",
    )
    parser.add_argument(
        "--ship-flavor",
        choices=("auto", "elasticsearch", "opensearch"),
        default=_env("FLAVOR", "auto"),
        help="which client to use; auto asks the cluster (VPPCOMP_SHIP_FLAVOR)",
    )
    parser.add_argument("--ship-username", default=_env("USERNAME"), help="VPPCOMP_SHIP_USERNAME")
    parser.add_argument("--ship-password", default=_env("PASSWORD"), help="VPPCOMP_SHIP_PASSWORD")
    parser.add_argument("--ship-api-key", default=_env("API_KEY"), help="VPPCOMP_SHIP_API_KEY")
    parser.add_argument("--ship-ca-certs", default=_env("CA_CERTS"), help="VPPCOMP_SHIP_CA_CERTS")
    parser.add_argument(
        "--ship-namespace",
        default=_env("NAMESPACE", "default"),
        help="data stream namespace: logs-vpp.ipcomp-<ns> (VPPCOMP_SHIP_NAMESPACE; default)",
    )
    parser.add_argument(
        "--ship-interval",
        type=float,
        default=float(_env("INTERVAL", "10") or 10),
        help="seconds between metric samples (VPPCOMP_SHIP_INTERVAL; 10)",
    )
    parser.add_argument(
        "--ship-spool",
        default=_env("SPOOL", DEFAULT_SPOOL),
        help=f"spool file (SQLite) (VPPCOMP_SHIP_SPOOL; {DEFAULT_SPOOL})",
    )
    parser.add_argument(
        "--ship-spool-bytes",
        type=int,
        default=int(_env("SPOOL_BYTES", str(DEFAULT_SPOOL_BYTES)) or DEFAULT_SPOOL_BYTES),
        help="spool bound in bytes of documents; when full the oldest metric documents are "
        "dropped first, then the oldest events (VPPCOMP_SHIP_SPOOL_BYTES; 256 MiB)",
    )
    parser.add_argument(
        "--ship-batch-size",
        type=int,
        default=int(_env("BATCH_SIZE", "1000") or 1000),
        help="documents per bulk request (VPPCOMP_SHIP_BATCH_SIZE; 1000)",
    )
    parser.add_argument(
        "--ship-host-name",
        default=_env("HOST_NAME"),
        help="observer.name and id identity of this VPP (VPPCOMP_SHIP_HOST_NAME; host name)",
    )


def build_shipper(args: argparse.Namespace, stats_socket: str) -> Any:
    """A :class:`~vppcomp.exporter.shipper.runner.Shipper` from parsed flags."""
    from vppcomp.exporter.shipper import backends
    from vppcomp.exporter.shipper.documents import Observer
    from vppcomp.exporter.shipper.runner import Shipper, ShipperConfig
    from vppcomp.exporter.shipper.spool import Spool
    from vppcomp.statseg.client import StatsClient

    settings = backends.Settings(
        url=args.ship_url,
        flavor=args.ship_flavor,
        username=args.ship_username,
        password=args.ship_password,
        api_key=args.ship_api_key,
        ca_certs=args.ship_ca_certs,
    )
    Path(args.ship_spool).parent.mkdir(parents=True, exist_ok=True)
    spool = Spool(args.ship_spool, args.ship_spool_bytes)
    version = None
    if getattr(args, "api_socket", None):
        from vppcomp.exporter.metrics.collectors.ipcomp_api import ApiDirectory
        from vppcomp.topology.api_source import DEFAULT_API_DIRS, PapiSource

        dirs = getattr(args, "api_json_dir", None) or list(DEFAULT_API_DIRS)
        source = PapiSource(args.api_socket, dirs, name="vpp")
        version = ApiDirectory(source).vpp_version()
        source.close()
    observer = Observer(name=args.ship_host_name, version=version)
    config = ShipperConfig(
        namespace=args.ship_namespace,
        interval=args.ship_interval,
        batch_size=args.ship_batch_size,
    )
    return Shipper(
        StatsClient(stats_socket), spool, lambda: backends.connect(settings), observer, config
    )


def register(subparsers: Any) -> None:
    ship = subparsers.add_parser(
        "ship",
        help="ship ipcomp events and metric documents to Elasticsearch or OpenSearch",
        description="Read the ipcomp event ring and sample the counters of VPP's stats "
        "segment into logs-vpp.ipcomp-<ns> and metrics-vpp.ipcomp-<ns>, through a durable "
        "spool (see exporter/shipper/README.md).",
    )
    ship.add_argument(
        "--stats-socket",
        default=os.environ.get("VPPCOMP_STATS_SOCKET", DEFAULT_SOCKET),
        help=f"VPP stats socket (VPPCOMP_STATS_SOCKET; {DEFAULT_SOCKET})",
    )
    ship.add_argument(
        "--api-socket",
        default=os.environ.get("VPPCOMP_API_SOCKET"),
        help="VPP binary-API socket: observer.version from show_version (VPPCOMP_API_SOCKET; off)",
    )
    ship.add_argument(
        "--api-json-dir",
        action="append",
        metavar="DIR",
        help="directory of *.api.json files (repeatable; default /usr/share/vpp/api/...)",
    )
    ship.add_argument(
        "--metrics-listen",
        default=_env("METRICS_LISTEN"),
        help="HOST:PORT to serve the shipper's self-metrics on (VPPCOMP_SHIP_METRICS_LISTEN; off)",
    )
    add_ship_arguments(ship, required_url=True)
    ship.set_defaults(handler=_ship)

    kibana = subparsers.add_parser("kibana", help="Kibana saved objects")
    sub = kibana.add_subparsers(dest="kibana_command", required=True)
    load = sub.add_parser(
        "import",
        help="import dashboards/kibana/*.ndjson into Kibana",
        description="POST the saved objects (data views, searches, dashboard) to Kibana's "
        "/api/saved_objects/_import?overwrite=true.",
    )
    load.add_argument("--url", required=True, help="Kibana URL, e.g. http://127.0.0.1:5601")
    load.add_argument("--username", default=os.environ.get("VPPCOMP_KIBANA_USERNAME"))
    load.add_argument("--password", default=os.environ.get("VPPCOMP_KIBANA_PASSWORD"))
    load.add_argument("--space", default=None, help="Kibana space id (default space if unset)")
    load.add_argument(
        "--file", action="append", help="NDJSON file (repeatable; default dashboards/kibana/*)"
    )
    load.set_defaults(handler=_kibana_import)


def _ship(args: argparse.Namespace) -> int:
    shipper = build_shipper(args, args.stats_socket)
    if args.metrics_listen:
        from prometheus_client import CollectorRegistry, start_http_server

        from vppcomp.exporter.shipper.metrics import ShipperCollector
        from vppcomp.exporter.web.commands import parse_listen

        host, port = parse_listen(args.metrics_listen)
        registry = CollectorRegistry()
        registry.register(ShipperCollector(shipper))
        start_http_server(port, host, registry=registry)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    shipper.run(stop)
    shipper.spool.close()
    return 0


def _kibana_import(args: argparse.Namespace) -> int:
    from vppcomp.exporter.shipper import kibana

    files = [Path(f) for f in args.file] if args.file else kibana.default_files()
    result = kibana.import_objects(args.url, files, args.username, args.password, args.space)
    log.info("Kibana import: %s", result)
    return 0 if result.get("success") else 1
