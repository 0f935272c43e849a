"""How long the graph diagram takes for a large graph (issue 6: 1,000 nodes < 10 s).

Builds a synthetic graph of N nodes (each with a few arcs, VPP-like names,
all of them active so that every node and arc is drawn), joins it with
synthetic rates, and times selection + DOT generation and the layout per
engine; then the whole graph of a real VPP 26.06 (the recording in
tests/data, ~400 nodes and ~1,400 arcs, many of them into the drop nodes).
Prints the times; asserts nothing.

    /work/venv/bin/python bench/topology_bench.py [N ...]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from vppcomp.topology.api_source import RecordedSource
from vppcomp.topology.graph_collect import collect_graph
from vppcomp.topology.graph_model import GraphNode, NodeGraph
from vppcomp.topology.graph_view import GraphFilter, build_view, select_nodes
from vppcomp.topology.inventory import recorded_pair
from vppcomp.topology.node_rates import NodeRate, Rates
from vppcomp.topology.render import graph_dot, render


def synthetic(n: int, seed: int = 6) -> tuple[NodeGraph, Rates]:
    rng = random.Random(seed)
    graph = NodeGraph(source="synthetic")
    rates = Rates(seconds=1.0)
    kinds = ("ip4", "ip6", "ethernet", "ipcomp4", "esp4", "l2", "mpls", "gre4")
    for i in range(n):
        name = f"{kinds[i % len(kinds)]}-node-{i}"
        # mostly forward arcs, like a pipeline, some back arcs
        arcs = sorted({min(n - 1, i + rng.randint(1, 8)) for _ in range(rng.randint(1, 4))})
        graph.nodes[i] = GraphNode(i, name, 0x4 if i % 97 == 0 else 0, arcs)
        pps = rng.uniform(10, 1e6)
        rates.nodes[name] = NodeRate(pps, pps / 32, 32.0, rng.uniform(10, 2000))
    return graph, rates


def real_vpp() -> None:
    data = Path(__file__).resolve().parent.parent / "tests" / "data"
    started = time.perf_counter()
    view = collect_graph(
        RecordedSource(data / "topology_graph_api.json"),
        recorded_pair(str(data / "topology_graph_stats.vcr")),
        GraphFilter(show_all=True),
    )
    dot = graph_dot(view)
    prepared = time.perf_counter() - started
    print(f"real VPP, all {len(view.nodes)} nodes, {len(view.arcs)} arcs: "
          f"replayed answers + DOT {prepared:.2f} s", flush=True)  # fmt: skip
    for fmt in ("svg", "pdf", "png"):
        started = time.perf_counter()
        out = render(dot, fmt, "dot")
        took = time.perf_counter() - started
        print(f"  dot   -> {fmt.upper()} {len(out) / 1e6:.1f} MB in {took:.2f} s", flush=True)


def main(sizes: list[int]) -> None:
    for n in sizes:
        graph, rates = synthetic(n)
        started = time.perf_counter()
        chosen = select_nodes(graph, rates, GraphFilter(), {}, [])
        view = build_view("bench", graph, rates, chosen)
        dot = graph_dot(view)
        prepared = time.perf_counter() - started
        print(f"{n} nodes, {len(view.arcs)} arcs: select + DOT {prepared:.2f} s", flush=True)
        for engine in ("dot", "sfdp"):
            started = time.perf_counter()
            svg = render(dot, "svg", engine)
            took = time.perf_counter() - started
            print(f"  {engine:5s} -> SVG {len(svg) / 1e6:.1f} MB in {took:.2f} s", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
    real_vpp()
