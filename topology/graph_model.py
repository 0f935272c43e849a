"""VPP's packet-processing graph (nodes and arcs) as read from the binary API.

Primary source: ``graph_node_get`` of the tracedump plugin, asked node by node
(by index, from 0 until VPP answers "no such entry"): its all-nodes form
crashed VPP 26.06 over the socket transport. Older VPPs, or a VPP without
tracedump, offer no node enumeration on the socket API (``get_node_graph``
answers with a pointer into VPP's shared memory); there the node names come
from the stats segment (``/sys/node/names``) and arcs are probed between the
nodes that will be drawn with the core ``get_next_index`` message
(:func:`probe_arcs`).

Nothing here raises on a bad answer: each problem is kept in
``NodeGraph.problems`` (or the node's ``problem``) for the diagram to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vppcomp.topology.api_source import ApiError, ApiSource

NO_SUCH_ENTRY = -6
NODE_FLAG_IS_OUTPUT = 0x2
NODE_FLAG_IS_DROP = 0x4
NODE_FLAG_IS_PUNT = 0x8
MAX_NODES = 65536


@dataclass
class GraphNode:
    """One graph node; ``arcs`` are the indices of its next nodes, in next-slot
    order (``None`` when unknown)."""

    index: int
    name: str
    flags: int = 0
    arcs: list[int] | None = None
    problem: str | None = None

    @property
    def is_drop(self) -> bool:
        return bool(self.flags & NODE_FLAG_IS_DROP) or self.name.endswith("drop")

    @property
    def is_punt(self) -> bool:
        return bool(self.flags & NODE_FLAG_IS_PUNT) or self.name.endswith("punt")


@dataclass
class NodeGraph:
    """All nodes by index; ``source`` says how they were obtained;
    ``arcs_known`` is false when arcs still have to be probed."""

    nodes: dict[int, GraphNode] = field(default_factory=dict)
    source: str = ""
    arcs_known: bool = True
    problems: list[str] = field(default_factory=list)

    def by_name(self) -> dict[str, GraphNode]:
        return {n.name: n for n in self.nodes.values()}

    def successors(self, index: int) -> list[int]:
        """Known next nodes of ``index`` that exist in the graph, without repeats."""
        node = self.nodes.get(index)
        if node is None or not node.arcs:
            return []
        return list(dict.fromkeys(a for a in node.arcs if a in self.nodes))


def _node_from_details(details: Any, index: int) -> GraphNode:
    """A node from one ``graph_node_details``; raises ValueError when malformed."""
    if not isinstance(details, dict):
        raise ValueError(f"node {index}: details are not a message")
    try:
        name = details["name"]
        flags = int(details.get("flags", 0))
        arcs_raw = details.get("arcs_out")
        number = int(details.get("index", index))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"node {index}: malformed details ({error!r})") from error
    if not isinstance(name, str) or not name:
        raise ValueError(f"node {index}: no name")
    arcs: list[int] = []
    problem = None
    if isinstance(arcs_raw, list):
        for arc in arcs_raw:
            if isinstance(arc, int) and not isinstance(arc, bool):
                arcs.append(arc)
            else:
                problem = f"arc {arc!r} is not a node index"
    elif arcs_raw is not None:
        problem = "arcs are not a list"
    if number != index:
        problem = f"asked for node {index}, got {number}"
    return GraphNode(index, name, flags, arcs, problem)


def read_graph(source: ApiSource, stats_names: list[str | None] | None = None) -> NodeGraph:
    """The whole graph of the VPP behind ``source``.

    With ``graph_node_get``: every node by index with its arcs. Without it:
    nodes from ``stats_names`` (``/sys/node/names``) and ``arcs_known`` false.
    """
    if not source.has("graph_node_get"):
        return _graph_from_names(stats_names)
    graph = NodeGraph(source="graph_node_get (tracedump), node by node")
    for index in range(MAX_NODES):
        try:
            answer = source.call(
                "graph_node_get", cursor=0xFFFFFFFF, index=index, name="", flags=0, want_arcs=True
            )
        except ApiError as error:
            graph.problems.append(f"graph_node_get stopped at node {index}: {error}")
            break
        if answer.retval == NO_SUCH_ENTRY:
            break
        if answer.retval != 0:
            graph.problems.append(f"graph_node_get node {index}: retval {answer.retval}")
            continue
        if len(answer.details) != 1:
            graph.problems.append(
                f"graph_node_get node {index}: {len(answer.details)} details, expected 1"
            )
            if not answer.details:
                continue
        try:
            graph.nodes[index] = _node_from_details(answer.details[0], index)
        except ValueError as error:
            graph.problems.append(str(error))
    if not graph.nodes:
        graph.problems.append("graph_node_get returned no nodes")
    return graph


def _graph_from_names(stats_names: list[str | None] | None) -> NodeGraph:
    graph = NodeGraph(
        source="stats segment /sys/node/names; arcs probed with get_next_index",
        arcs_known=False,
    )
    graph.problems.append("graph_node_get not offered (tracedump plugin not loaded)")
    if not stats_names:
        graph.problems.append("no node names in the stats segment either")
        return graph
    for index, name in enumerate(stats_names):
        if name:
            graph.nodes[index] = GraphNode(index, name)
    return graph


def probe_arcs(source: ApiSource, graph: NodeGraph, indices: Iterable[int]) -> int:
    """Fill in the arcs among ``indices`` with ``get_next_index`` (one call per
    ordered pair: keep ``indices`` small). Returns the number of calls made."""
    chosen = [i for i in indices if i in graph.nodes]
    for i in chosen:
        graph.nodes[i].arcs = []
    calls = 0
    if not source.has("get_next_index"):
        graph.problems.append("get_next_index not offered: arcs unknown")
        return calls
    for i in chosen:
        for j in chosen:
            if i == j:
                continue
            calls += 1
            try:
                answer = source.call(
                    "get_next_index",
                    node_name=graph.nodes[i].name,
                    next_name=graph.nodes[j].name,
                )
            except ApiError as error:
                graph.problems.append(f"get_next_index: {error}")
                return calls
            if answer.retval == 0:
                arcs = graph.nodes[i].arcs
                assert arcs is not None
                arcs.append(j)
    graph.arcs_known = True
    return calls
