"""``vppcomp exporter``: serve the Prometheus exporter over HTTP.

Every flag has an environment variable (``VPPCOMP_EXPORTER_*``, and
``VPPCOMP_STATS_SOCKET``); a flag given on the command line wins. Lists in
variables are comma-separated; booleans are ``1``/``true``/``yes``.
"""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any

from vppcomp.exporter.metrics.collectors import COLLECTORS, build_collectors
from vppcomp.exporter.metrics.options import Options
from vppcomp.statseg.client import DEFAULT_SOCKET
from vppcomp.statseg.reader import DEFAULT_BUSY_TIMEOUT
from vppcomp.topology.api_source import DEFAULT_API_DIRS

DEFAULT_LISTEN = "127.0.0.1:9482"


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _positive_seconds(text: str) -> float:
    """A duration in seconds, at least 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"seconds must be >= 0, got {text!r}")
    return value


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6]:PORT`` -> (host, port); raises ``ValueError``."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--listen wants HOST:PORT, got {listen!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "exporter",
        help="serve VPP and ipcomp statistics as Prometheus metrics",
        description="Serve /metrics (Prometheus text or OpenMetrics), /healthz, /readyz and "
        "/api/... JSON views of VPP's stats segment. Metric names: exporter/README.md.",
    )
    parser.add_argument(
        "--listen",
        default=os.environ.get("VPPCOMP_EXPORTER_LISTEN", DEFAULT_LISTEN),
        help=f"HOST:PORT to serve on (VPPCOMP_EXPORTER_LISTEN; default {DEFAULT_LISTEN})",
    )
    parser.add_argument(
        "--stats-socket",
        default=os.environ.get("VPPCOMP_STATS_SOCKET", DEFAULT_SOCKET),
        help=f"VPP stats socket (VPPCOMP_STATS_SOCKET; default {DEFAULT_SOCKET})",
    )
    parser.add_argument(
        "--busy-timeout",
        type=_positive_seconds,
        default=os.environ.get("VPPCOMP_STATS_BUSY_TIMEOUT", str(DEFAULT_BUSY_TIMEOUT)),
        metavar="SECONDS",
        help="how long a scrape waits for VPP to release the stats segment's lock "
        "before vpp_up is 0 (VPPCOMP_STATS_BUSY_TIMEOUT; default "
        f"{DEFAULT_BUSY_TIMEOUT:g})",
    )
    parser.add_argument(
        "--per-thread",
        action="store_true",
        default=_env_flag("VPPCOMP_EXPORTER_PER_THREAD"),
        help="one series per VPP thread (label thread) instead of the sum "
        "(VPPCOMP_EXPORTER_PER_THREAD)",
    )
    parser.add_argument(
        "--used-only",
        action="store_true",
        default=_env_flag("VPPCOMP_EXPORTER_USED_ONLY"),
        help="drop counter and histogram series that are zero (VPPCOMP_EXPORTER_USED_ONLY)",
    )
    parser.add_argument(
        "--all-errors",
        action="store_true",
        default=_env_flag("VPPCOMP_EXPORTER_ALL_ERRORS"),
        help="export every node error counter, also those that never counted (default: the "
        "ipcomp nodes' always, others once non-zero; VPPCOMP_EXPORTER_ALL_ERRORS)",
    )
    parser.add_argument(
        "--include",
        action="append",
        metavar="PATTERN",
        help="export only stat paths matching this shell pattern, e.g. '/if/*' "
        "(repeatable; VPPCOMP_EXPORTER_INCLUDE)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="do not export stat paths matching this pattern, e.g. '/err/*' "
        "(repeatable; VPPCOMP_EXPORTER_EXCLUDE)",
    )
    parser.add_argument(
        "--api-socket",
        default=os.environ.get("VPPCOMP_API_SOCKET"),
        help="VPP binary-API socket: adds vpp_ipcomp_sa_info (CPI, addresses, engine) and "
        "vpp_ipcomp_engine_info from the ipcomp plugin's API (VPPCOMP_API_SOCKET; default off)",
    )
    parser.add_argument(
        "--api-json-dir",
        action="append",
        metavar="DIR",
        help="directory of *.api.json files incl. ipcomp.api.json (repeatable; "
        f"VPPCOMP_API_JSON_DIRS; default {','.join(DEFAULT_API_DIRS)})",
    )
    parser.add_argument(
        "--topology-inventory",
        default=os.environ.get("VPPCOMP_TOPOLOGY_INVENTORY"),
        metavar="TOML",
        help="hosts whose tunnels /topology/tunnels.svg joins (see vppcomp.topology.inventory; "
        "VPPCOMP_TOPOLOGY_INVENTORY; default: this VPP alone). The /topology pages are "
        "served when --api-socket or an inventory is given; without --api-socket the "
        "graph is of the inventory's first host (live or recorded)",
    )
    parser.add_argument(
        "--no-collector",
        action="append",
        choices=sorted(COLLECTORS),
        help="disable a collector (repeatable; VPPCOMP_EXPORTER_NO_COLLECTORS)",
    )
    from vppcomp.exporter.shipper.commands import add_ship_arguments

    add_ship_arguments(parser, required_url=False)  # --ship-url: run the shipper in-process
    parser.set_defaults(handler=_serve)


def options_from(args: argparse.Namespace) -> Options:
    """Scrape options from parsed flags, falling back to the environment."""
    return Options(
        per_thread=args.per_thread,
        used_only=args.used_only,
        all_errors=args.all_errors,
        include=tuple(args.include or _env_list("VPPCOMP_EXPORTER_INCLUDE")),
        exclude=tuple(args.exclude or _env_list("VPPCOMP_EXPORTER_EXCLUDE")),
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from vppcomp.exporter.metrics.collectors.ipcomp_api import ApiDirectory, IpcompApiCollector
    from vppcomp.exporter.metrics.exporter import Exporter
    from vppcomp.exporter.web.app import create_app
    from vppcomp.statseg.client import StatsClient
    from vppcomp.topology.api_source import PapiSource, PersistentSource

    host, port = parse_listen(args.listen)
    collectors = build_collectors(
        tuple(args.no_collector or _env_list("VPPCOMP_EXPORTER_NO_COLLECTORS"))
    )
    api_dirs = args.api_json_dir or _env_list("VPPCOMP_API_JSON_DIRS") or list(DEFAULT_API_DIRS)
    if args.api_socket:
        source = PersistentSource(PapiSource(args.api_socket, api_dirs, name="vpp"))
        collectors.append(IpcompApiCollector(ApiDirectory(source)))
    shipper = None
    if args.ship_url:
        from vppcomp.exporter.shipper.commands import build_shipper
        from vppcomp.exporter.shipper.metrics import ShipperCollector

        shipper = build_shipper(args, args.stats_socket)
        collectors.append(ShipperCollector(shipper))
    client = StatsClient(args.stats_socket, busy_timeout=args.busy_timeout)
    exporter = Exporter(client, collectors, options_from(args))
    app = create_app(exporter)
    if args.api_socket or args.topology_inventory:
        from vppcomp.topology.web import TopologySettings, topology_router

        if args.api_socket:
            settings = TopologySettings.for_vpp(
                args.api_socket,
                args.stats_socket,
                inventory=args.topology_inventory,
                api_dirs=api_dirs,
            )
        else:
            settings = TopologySettings.for_inventory(args.topology_inventory, api_dirs=api_dirs)
        app.include_router(topology_router(settings))
    stop = threading.Event()
    if shipper is not None:
        threading.Thread(target=shipper.run, args=(stop,), name="shipper", daemon=True).start()
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=args.log_level.lower(),
            access_log=False,
        )
    finally:
        stop.set()
    return 0
