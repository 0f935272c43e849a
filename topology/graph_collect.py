"""Gather one VPP's graph view: API graph, stats rates, selection.

:func:`collect_graph` never raises for a VPP that is down or answers badly:
the view it returns carries the problem and as much of the graph as could be
read.
"""

from __future__ import annotations

from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.api_source import ApiError, ApiSource, ApiUnavailable
from vppcomp.topology.graph_model import probe_arcs, read_graph
from vppcomp.topology.graph_view import GraphFilter, GraphView, build_view, select_nodes
from vppcomp.topology.node_rates import names_of, rates_between

MAX_PROBED_NODES = 60


def interface_dev_types(source: ApiSource, problems: list[str]) -> dict[str, str]:
    """Interface name -> device type, from ``sw_interface_dump``."""
    try:
        answer = source.call("sw_interface_dump", name_filter_valid=False, name_filter="")
    except ApiError as error:
        problems.append(f"sw_interface_dump: {error}")
        return {}
    types: dict[str, str] = {}
    for details in answer.details:
        if isinstance(details, dict) and isinstance(details.get("interface_name"), str):
            types[details["interface_name"]] = str(details.get("interface_dev_type", ""))
    return types


def collect_graph(
    source: ApiSource,
    snapshots: tuple[Snapshot, Snapshot] | None,
    filt: GraphFilter,
    *,
    stats_problem: str | None = None,
) -> GraphView:
    """The view of ``source``'s graph joined with the rates between
    ``snapshots`` (``None``: no stats, ``stats_problem`` says why). Opens and
    closes ``source``."""
    try:
        source.open()
    except ApiUnavailable as error:
        view = GraphView(host=source.name)
        view.problems.append(f"unreachable: {error}")
        if stats_problem:
            view.problems.append(f"no rates: {stats_problem}")
        return view
    try:
        return _collect(source, snapshots, filt, stats_problem)
    finally:
        source.close()


def _collect(
    source: ApiSource,
    snapshots: tuple[Snapshot, Snapshot] | None,
    filt: GraphFilter,
    stats_problem: str | None,
) -> GraphView:
    problems: list[str] = [f"no rates: {stats_problem}"] if stats_problem else []
    names = names_of(snapshots[1], "/sys/node/names") if snapshots is not None else None
    graph = read_graph(source, names)
    rates = rates_between(*snapshots) if snapshots is not None else None
    dev_types = interface_dev_types(source, problems) if filt.from_interface else {}
    if not graph.arcs_known:
        candidates = select_nodes(
            graph, rates, GraphFilter(filt.show_all, filt.patterns, filt.arc), {}, []
        )
        if len(candidates) > MAX_PROBED_NODES:
            problems.append(
                f"{len(candidates)} nodes selected: arcs probed only for {MAX_PROBED_NODES}"
            )
            candidates = set(sorted(candidates)[:MAX_PROBED_NODES])
        probe_arcs(source, graph, candidates)
    chosen = select_nodes(graph, rates, filt, dev_types, problems)
    view = build_view(source.name, graph, rates, chosen)
    view.problems[:0] = problems
    return view
