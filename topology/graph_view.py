"""Which part of the graph to draw, and the estimated packets per arc.

Selection (:func:`select_nodes`), in this order, each step narrowing the last:

1. all nodes (``show_all``), or by default the active ones (moved packets in
   the interval); idle plugin nodes (the ``-post`` twins, the async dequeue
   and process nodes, an ipcomp node without packets) are hidden so that the
   path carrying traffic stands out, except that while no ipcomp node is
   active (or there are no rates) the plugin's compress and decompress nodes
   are shown, to place it in the graph;
2. ``patterns``: node names matching any shell-style pattern;
3. ``arc``: nodes of that feature arc (start nodes, features, last node);
4. ``from_interface``: nodes reachable from the interface's input node along
   arcs, through active nodes only unless ``show_all``.

Arc rates (:func:`estimate_arc_rates`): VPP counts packets per node, not per
arc. An arc u->v gets ``rate(v) * w(u) / sum(w(p) for active predecessors p of
v)`` with ``w(u) = rate(u) / active successors of u``: exact when v has a
single active predecessor, a proportional estimate otherwise; the estimates
into a node add up to its rate. Only arcs between two active nodes get one.
"""

from __future__ import annotations

import fnmatch
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from vppcomp.topology.feature_arcs import known_arcs
from vppcomp.topology.graph_model import NODE_FLAG_IS_OUTPUT, GraphNode, NodeGraph
from vppcomp.topology.node_rates import NodeRate, Rates

# Device class name (sw_interface_details.interface_dev_type, VPP 26.06) ->
# the nodes that receive the interface's packets.
INPUT_NODES = {
    "memif": ("memif-input",),
    "af-packet": ("af-packet-input",),
    "virtio": ("virtio-input",),
    "pg": ("pg-input",),
    "IPIP tunnel device": ("ipip4-input", "ipip6-input"),
    "GRE tunnel device": ("gre4-input", "gre6-input"),
    "VXLAN": ("vxlan4-input", "vxlan6-input"),
    "IPComp tunnel": ("ipcomp4-decompress", "ipcomp6-decompress"),
}


@dataclass(frozen=True)
class GraphFilter:
    """What to draw; see the module docstring."""

    show_all: bool = False
    patterns: tuple[str, ...] = ()
    arc: str | None = None
    from_interface: str | None = None


def is_ipcomp(name: str) -> bool:
    return "ipcomp" in name


def is_ipcomp_data_node(name: str) -> bool:
    """An ipcomp compress/decompress node (not a ``-post`` twin, the async
    dequeue node or a process node)."""
    return is_ipcomp(name) and name.endswith(("compress", "decompress"))


def is_ipsec(name: str) -> bool:
    return "ipsec" in name or name.startswith(("esp", "ah4", "ah6", "ah-"))


@dataclass
class NodeView:
    """A node to draw: its graph entry and rate (``None`` without stats)."""

    node: GraphNode
    rate: NodeRate | None

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def is_output(self) -> bool:
        return bool(self.node.flags & NODE_FLAG_IS_OUTPUT)


@dataclass
class GraphView:
    """The nodes and arcs to draw, arc estimates in packets/s (``None`` when
    there is none), and every problem met on the way."""

    host: str
    nodes: list[NodeView] = field(default_factory=list)
    arcs: list[tuple[str, str, float | None]] = field(default_factory=list)
    seconds: float = 0.0
    source: str = ""
    problems: list[str] = field(default_factory=list)


def input_nodes(graph: NodeGraph, interface: str, dev_types: dict[str, str]) -> list[int]:
    """Indices of the nodes that receive ``interface``'s packets (its device
    type's input node, or ``<dev_type>-input``)."""
    dev_type = dev_types.get(interface)
    if dev_type is None:
        return []
    names = INPUT_NODES.get(dev_type, (f"{dev_type.lower()}-input",))
    by_name = graph.by_name()
    return [by_name[n].index for n in names if n in by_name]


def reachable(graph: NodeGraph, starts: Iterable[int], allowed: set[int] | None) -> set[int]:
    """Nodes reachable from ``starts`` along arcs, passing only through
    ``allowed`` nodes (all when ``None``); the starts are included."""
    seen = {s for s in starts if allowed is None or s in allowed}
    queue = deque(seen)
    while queue:
        for nxt in graph.successors(queue.popleft()):
            if nxt not in seen and (allowed is None or nxt in allowed):
                seen.add(nxt)
                queue.append(nxt)
    return seen


def select_nodes(
    graph: NodeGraph,
    rates: Rates | None,
    filt: GraphFilter,
    dev_types: dict[str, str],
    problems: list[str],
) -> set[int]:
    """Indices of the nodes to draw (module docstring); problems appended."""
    active = {
        i
        for i, n in graph.nodes.items()
        if rates is not None and (r := rates.nodes.get(n.name)) is not None and r.active
    }
    if filt.show_all:
        chosen = set(graph.nodes)
    else:
        chosen = set(active)
        if not any(is_ipcomp(graph.nodes[i].name) for i in active):
            chosen |= {i for i, n in graph.nodes.items() if is_ipcomp_data_node(n.name)}
        if rates is None:
            problems.append("no rates: cannot tell active nodes, showing ipcomp nodes only")
    if filt.patterns:
        chosen = {
            i
            for i in chosen
            if any(fnmatch.fnmatchcase(graph.nodes[i].name, p) for p in filt.patterns)
        }
    if filt.arc:
        arc = known_arcs().get(filt.arc)
        if arc is None:
            problems.append(f"unknown feature arc {filt.arc!r}")
            chosen = set()
        else:
            members = arc.members()
            chosen = {i for i in chosen if graph.nodes[i].name in members}
    if filt.from_interface:
        starts = input_nodes(graph, filt.from_interface, dev_types)
        if not starts:
            problems.append(f"no input node known for interface {filt.from_interface!r}")
        path = reachable(graph, starts, None if filt.show_all else active)
        chosen &= path
    return chosen


def estimate_arc_rates(graph: NodeGraph, rates: Rates) -> dict[tuple[int, int], float]:
    """Estimated packets/s on every arc between two active nodes (module docstring)."""
    rate = {
        i: r.vectors_per_second
        for i, n in graph.nodes.items()
        if (r := rates.nodes.get(n.name)) is not None and r.active
    }
    active_next = {u: [v for v in graph.successors(u) if v in rate] for u in rate}
    weight = {u: rate[u] / len(nexts) for u, nexts in active_next.items() if nexts}
    preds: dict[int, list[int]] = {}
    for u, nexts in active_next.items():
        for v in nexts:
            preds.setdefault(v, []).append(u)
    estimates: dict[tuple[int, int], float] = {}
    for v, us in preds.items():
        total = sum(weight[u] for u in us)
        for u in us:
            estimates[(u, v)] = rate[v] * weight[u] / total if total else 0.0
    return estimates


def build_view(
    host: str,
    graph: NodeGraph,
    rates: Rates | None,
    chosen: set[int],
) -> GraphView:
    """The view of ``chosen`` nodes (from :func:`select_nodes`)."""
    view = GraphView(host=host, source=graph.source, seconds=rates.seconds if rates else 0.0)
    view.problems.extend(graph.problems)
    if rates is not None:
        view.problems.extend(rates.problems)
    for i in sorted(chosen, key=lambda i: graph.nodes[i].name):
        node = graph.nodes[i]
        view.nodes.append(NodeView(node, rates.nodes.get(node.name) if rates else None))
        if node.problem:
            view.problems.append(f"{node.name}: {node.problem}")
    estimates = estimate_arc_rates(graph, rates) if rates is not None else {}
    for u in sorted(chosen, key=lambda i: graph.nodes[i].name):
        for v in graph.successors(u):
            if v in chosen:
                view.arcs.append((graph.nodes[u].name, graph.nodes[v].name, estimates.get((u, v))))
    return view
