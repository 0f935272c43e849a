"""``vppcomp topology graph`` and ``vppcomp topology tunnels``: write diagrams to files."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from vppcomp.statseg.client import DEFAULT_SOCKET as DEFAULT_STATS_SOCKET
from vppcomp.topology.api_source import DEFAULT_API_DIRS, ApiSource, RecordingSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_view import GraphFilter
from vppcomp.topology.inventory import (
    HostSpec,
    InventoryError,
    StatsPairs,
    load_inventory,
    parse_host_option,
)
from vppcomp.topology.render import (
    ENGINES,
    FORMATS,
    RenderError,
    graph_dot,
    render,
    tunnels_dot,
)
from vppcomp.topology.tunnel_collect import collect_tunnels

log = logging.getLogger(__name__)
DEFAULT_API_SOCKET = "/run/vpp/api.sock"


def _output_options(parser: argparse.ArgumentParser, stem: str) -> None:
    parser.add_argument("-o", "--output", help=f"file to write ('-' = stdout; default {stem}.FMT)")
    parser.add_argument("--format", choices=FORMATS, default="svg", help="default: svg")
    parser.add_argument("--engine", choices=ENGINES, default="dot", help="layout engine")
    parser.add_argument(
        "--api-dir",
        action="append",
        default=[],
        help=f"directory of *.api.json files (repeatable; default {DEFAULT_API_DIRS[0]})",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="at least this many seconds between the two stats samples (graph: each sample "
        "waits for a refresh of VPP's node counters, every statseg update-interval, "
        "VPP's default 10 s)",
    )


def register(subparsers: Any) -> None:
    top = subparsers.add_parser(
        "topology",
        help="Graphviz diagrams of VPP's packet graph and of tunnels between hosts",
        description="Draw VPP's packet graph (binary API + stats segment, no CLI) or the "
        "tunnels between several VPP hosts.",
    )
    sub = top.add_subparsers(dest="topology_command", required=True, metavar="DIAGRAM")

    graph = sub.add_parser(
        "graph",
        help="the packet graph of one VPP with live rates",
        description="Nodes and arcs from graph_node_get (tracedump plugin) joined with node "
        "rates from the stats segment. By default only the nodes that moved packets in the "
        "interval, plus the ipcomp nodes.",
    )
    graph.add_argument("--api-socket", default=DEFAULT_API_SOCKET)
    graph.add_argument("--stats-socket", default=DEFAULT_STATS_SOCKET)
    graph.add_argument("--api-recording", help="replay recorded API answers instead of a VPP")
    graph.add_argument("--stats-recording", help="use a stats recording (first and last frame)")
    graph.add_argument("--record-api", help="also save the API answers to this JSON file")
    graph.add_argument("--all", action="store_true", help="every node, not only active ones")
    graph.add_argument("--match", action="append", default=[], help="node name pattern")
    graph.add_argument("--arc", help="only nodes of this feature arc (e.g. ip4-unicast)")
    graph.add_argument("--from-interface", help="only the path of packets from this interface")
    graph.add_argument("--no-legend", action="store_true")
    _output_options(graph, "vpp-graph")
    graph.set_defaults(handler=_graph)

    tunnels = sub.add_parser(
        "tunnels",
        help="tunnels (IPIP, GRE, VXLAN, IPsec, ipcomp) between several VPP hosts",
        description="Interfaces, addresses and tunnels of each host, joined where the "
        "tunnel endpoints of one host are addresses of another. Unreachable hosts are drawn "
        "as such.",
    )
    tunnels.add_argument(
        "--inventory", help="TOML inventory of hosts (see vppcomp.topology.inventory)"
    )
    tunnels.add_argument(
        "--host", action="append", default=[], help="NAME=API_SOCKET[,STATS_SOCKET] (repeatable)"
    )
    tunnels.add_argument(
        "--record-api", help="also save each host's API answers into this directory"
    )
    _output_options(tunnels, "vpp-tunnels")
    tunnels.set_defaults(handler=_tunnels)


def _write(args: argparse.Namespace, dot_source: str, stem: str) -> int:
    try:
        data = render(dot_source, args.format, args.engine)
    except RenderError as error:
        log.error("%s", error)
        return 1
    target = args.output or f"{stem}.{args.format}"
    if target == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(target).write_bytes(data)
        log.info("wrote %s (%d bytes)", target, len(data))
    return 0


def _graph(args: argparse.Namespace) -> int:
    spec = HostSpec(
        args.api_recording or args.api_socket,
        api_socket=args.api_socket,
        api_recording=args.api_recording,
        stats_socket=args.stats_socket,
        stats_recording=args.stats_recording,
    )
    source = spec.api_source(args.api_dir or None)
    recorder = RecordingSource(source) if args.record_api else None
    stats = StatsPairs()
    stats.take([spec], args.interval, aligned=True)
    filt = GraphFilter(
        show_all=args.all,
        patterns=tuple(args.match),
        arc=args.arc,
        from_interface=args.from_interface,
    )
    view = collect_graph(
        recorder or source,
        stats.pairs.get(spec.name),
        filt,
        stats_problem=stats.problems.get(spec.name),
    )
    if recorder is not None:
        recorder.save(args.record_api)
    return _write(args, graph_dot(view, legend=not args.no_legend), "vpp-graph")


def _tunnels(args: argparse.Namespace) -> int:
    try:
        specs = load_inventory(args.inventory) if args.inventory else []
        specs += [parse_host_option(h) for h in args.host]
    except InventoryError as error:
        log.error("%s", error)
        return 2
    if not specs:
        log.error("no hosts: give --inventory or --host")
        return 2
    stats = StatsPairs()
    stats.take(specs, args.interval)
    hosts: list[tuple[HostSpec, ApiSource]] = []
    recorders: list[tuple[str, RecordingSource]] = []
    for spec in specs:
        source: ApiSource = spec.api_source(args.api_dir or None)
        if args.record_api:
            recorder = RecordingSource(source)
            recorders.append((spec.name, recorder))
            source = recorder
        hosts.append((spec, source))
    tmap = collect_tunnels(hosts, stats.pairs, stats.problems)
    for name, recorder in recorders:
        Path(args.record_api).mkdir(parents=True, exist_ok=True)
        recorder.save(Path(args.record_api) / f"{name}-api.json")
    return _write(args, tunnels_dot(tmap), "vpp-tunnels")
