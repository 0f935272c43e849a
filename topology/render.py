"""Graphviz diagrams of a graph view and of a tunnel map, and their output.

Graph visual language (as VPP's ``show vlib graphviz``): fill colour by
vectors per call (``ylorrd8`` colours, 1-32 -> 1 ... 225+ -> 8), minimum width
``1 + log10(clocks per packet + 1)`` (capped at 5); both explained in a legend. Drop nodes
are red octagons, punt nodes purple houses, output nodes boxes; ipcomp and
IPsec nodes sit in marked clusters. Arcs carry the estimated packets/s
("~"); inactive nodes and arcs are grey and dashed. Problems go into a red
note in the diagram. Graphs of more than :data:`FAST_LAYOUT_NODES` nodes get
bounded layout effort and straight arcs (said in the title).

DOT text is deterministic for the same input (golden files rely on it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import graphviz

from vppcomp.topology.graph_view import GraphView, NodeView, is_ipcomp, is_ipsec
from vppcomp.topology.tunnel_map import Link, TunnelMap
from vppcomp.topology.tunnel_model import Host, TunnelEnd

FORMATS = ("svg", "png", "pdf", "dot")
# Above this many nodes dot's crossing minimisation, network simplex and
# spline routing take minutes on VPP's full graph (~400 nodes, ~1,400 arcs:
# 49 s); bounded iterations and straight arcs bring it to a few seconds, and
# a size bound (inches) keeps a PNG from growing to tens of megabytes.
FAST_LAYOUT_NODES = 150
FAST_LAYOUT = {
    "mclimit": "0.1",
    "nslimit": "1",
    "nslimit1": "1",
    "splines": "line",
    "size": "80,80",
}
ENGINES = ("dot", "neato", "fdp", "sfdp", "circo", "twopi")
FONT = "Helvetica"
# Graphviz's ylorrd8 colour scheme, which VPP's own graphviz output uses.
YLORRD8 = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")


def si(value: float, unit: str) -> str:
    """``value`` with an SI prefix, 3 significant digits: ``si(1234, "pps")`` -> ``1.23 kpps``."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def colour_index(vectors_per_call: float) -> int:
    """VPP's colour for a node: 1 for 1-32 vectors per call, ... 8 for 225 and more."""
    return min(8, max(0, math.ceil(vectors_per_call) - 1) // 32 + 1)


MAX_SIZE_RATIO = 5.0  # polling input nodes reach 10^6 clocks/packet and more


def size_ratio(clocks_per_packet: float) -> float:
    """VPP's node size, ``1 + log10(clocks/packet + 1)``, capped at :data:`MAX_SIZE_RATIO`."""
    return min(MAX_SIZE_RATIO, 1 + math.log10(clocks_per_packet + 1))


def _note(dot: graphviz.Digraph, problems: Iterable[str]) -> None:
    lines = list(dict.fromkeys(problems))
    if not lines:
        return
    shown = lines[:12] + ([f"... and {len(lines) - 12} more"] if len(lines) > 12 else [])
    text = "\\l".join(p.replace("\\", "\\\\") for p in ["Problems:", *shown]) + "\\l"
    dot.node(
        "problems", text, shape="note", color="red", fontcolor="red", penwidth="2", fontsize="11"
    )


def _legend(dot: graphviz.Digraph) -> None:
    """One compact legend node (an HTML-like table)."""
    ranges = ("1-32", "33-64", "65-96", "97-128", "129-160", "161-192", "193-224", "225+")
    colours = "".join(f'<TD BGCOLOR="{YLORRD8[i]}">{text}</TD>' for i, text in enumerate(ranges))
    sizes = ", ".join(f"{c} clk/pkt: {size_ratio(c):.1f}" for c in (10, 100, 1000))
    label = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
        '<TR><TD COLSPAN="8"><B>Legend</B></TD></TR>'
        f'<TR><TD COLSPAN="8">fill: vectors per call</TD></TR><TR>{colours}</TR>'
        f'<TR><TD COLSPAN="8">minimum width: 1 + log10(clocks/packet + 1): {sizes}</TD></TR>'
        '<TR><TD COLSPAN="3"><FONT COLOR="red">octagon: drop</FONT></TD>'
        '<TD COLSPAN="3"><FONT COLOR="purple">house: punt</FONT></TD>'
        '<TD COLSPAN="2">box: output</TD></TR>'
        '<TR><TD COLSPAN="8">arcs: ~estimated packets/s; dashed: no traffic</TD></TR>'
        "</TABLE>>"
    )
    dot.node("legend", label, shape="plaintext", fontsize="14")


def _node_attrs(view: NodeView) -> dict[str, str]:
    attrs = {"fontname": FONT, "label": view.name}
    rate = view.rate
    if view.node.is_drop:
        attrs.update(shape="octagon", color="red", penwidth="2")
    elif view.node.is_punt:
        attrs.update(shape="house", color="purple", penwidth="2")
    elif view.is_output:
        attrs["shape"] = "box"
    if rate is not None and rate.active:
        ratio = size_ratio(rate.clocks_per_packet)
        attrs.update(
            style="filled",
            fillcolor=YLORRD8[colour_index(rate.vectors_per_call) - 1],
            width=f"{ratio:.2f}",
            fontsize=f"{11 + 3 * ratio:.1f}",
            label=(
                f"{view.name}\\n{si(rate.vectors_per_second, 'pps')}"
                f"\\n{rate.vectors_per_call:.1f} v/call, {rate.clocks_per_packet:.0f} clk/pkt"
            ),
            tooltip=(
                f"{view.name}: {rate.vectors_per_second:.1f} packets/s, "
                f"{rate.calls_per_second:.1f} calls/s"
            ),
        )
    else:
        attrs.update(style="dashed", color=attrs.get("color", "grey50"), fontcolor="grey40")
    if view.node.problem:
        attrs.update(color="red", xlabel=f"! {view.node.problem}")
    return attrs


def graph_dot(view: GraphView, *, legend: bool = True) -> str:
    """DOT text of a graph view."""
    dot = graphviz.Digraph("vpp_graph", strict=False)
    seconds = f", rates over {view.seconds:.1f} s" if view.seconds else ""
    fast = len(view.nodes) > FAST_LAYOUT_NODES
    if fast:
        dot.attr(**FAST_LAYOUT)
    dot.attr(
        label=f"VPP graph of {view.host}{seconds}{', fast layout' if fast else ''}\\n{view.source}",
        labelloc="t",
        fontname=FONT,
        fontsize="20",
        rankdir="LR",
        newrank="true",  # dot's older ranking fails on clusters in large graphs
    )
    dot.attr("node", fontname=FONT)
    dot.attr("edge", fontname=FONT, fontsize="16")
    groups: dict[str, list[NodeView]] = {"ipcomp": [], "ipsec": [], "": []}
    for node in view.nodes:
        group = "ipcomp" if is_ipcomp(node.name) else "ipsec" if is_ipsec(node.name) else ""
        groups[group].append(node)
    ids = {node.name: f"n{node.node.index}" for node in view.nodes}
    for node in groups[""]:
        dot.node(ids[node.name], **_node_attrs(node))
    for group, title, colour in (
        ("ipcomp", "ipcomp (compression)", "lightblue"),
        ("ipsec", "IPsec", "lightgrey"),
    ):
        if groups[group]:
            with dot.subgraph(name=f"cluster_{group}") as cluster:
                cluster.attr(
                    label=title, style="filled,bold", fillcolor=colour, color="navy", fontname=FONT
                )
                for node in groups[group]:
                    cluster.node(ids[node.name], **_node_attrs(node))
    for src_name, dst_name, pps in view.arcs:
        src, dst = ids[src_name], ids[dst_name]
        if pps is None:
            dot.edge(src, dst, style="dashed", color="grey60")
        else:
            dot.edge(
                src, dst, label=f"~{si(pps, 'pps')}", penwidth=f"{1 + math.log10(pps + 1) / 2:.2f}"
            )
    if not view.nodes and not view.problems:
        dot.node("empty", "no node moved packets in the interval", shape="plaintext")
    _note(dot, view.problems)
    if legend:
        _legend(dot)
    return dot.source


def _end_id(end: TunnelEnd) -> str:
    return "end/" + end.end_id


def _end_label(end: TunnelEnd) -> str:
    return f"{end.label}\\n{end.src} \u2192 {end.dst}"


def _rate_text(end: TunnelEnd | None, to: str) -> list[str]:
    """``west → east: 500 pps, 156 kbit/s, compressed to 5%`` for what ``end`` sends."""
    if end is None or end.tx is None:
        return []
    text = f"{end.host} \u2192 {to}: {si(end.tx[0], 'pps')}, {si(end.tx[1], 'bit/s')}"
    if end.ratio is not None:
        text += f", compressed to {end.ratio:.0%}"
    return [text]


def _link_label(link: Link) -> str:
    lines = [f"{link.a.kind.upper()} {link.a.ident}".strip()]
    lines += _rate_text(link.a, link.b.host if link.b else link.peer)
    if not link.a.directional:  # an SA's counters count one direction only
        lines += _rate_text(link.b, link.a.host)
    if link.problem:
        lines.append(f"! {link.problem}")
    return "\\n".join(lines)


def _host_cluster(dot: graphviz.Digraph, host: Host) -> None:
    with dot.subgraph(name=f"cluster_host_{host.name}") as cluster:
        if not host.reachable:
            cluster.attr(
                label=f"{host.name}: unreachable", color="red", style="dashed", fontcolor="red"
            )
            cluster.node(
                f"host/{host.name}",
                f"unreachable\\n{host.reason}",
                shape="box",
                color="red",
                fontcolor="red",
                style="dashed",
            )
            return
        cluster.attr(label=f"{host.name}  {host.version}".strip(), style="rounded", color="navy")
        rows = [
            f"{i.name}{' (down)' if not i.up else ''}: {', '.join(i.addresses) or '-'}"
            for _, i in sorted(host.interfaces.items())
        ]
        rows.append(f"tunnels read: {', '.join(host.sources) or 'none offered'}")
        cluster.node(
            f"host/{host.name}",
            "\\l".join(rows) + "\\l",
            shape="box",
            style="rounded",
            fontsize="10",
        )
        for end in host.tunnels:
            colour = "lightblue" if end.kind == "ipcomp" else "white"
            cluster.node(
                _end_id(end),
                _end_label(end),
                shape="box",
                style="filled",
                fillcolor=colour,
                fontsize="10",
            )
            cluster.edge(f"host/{host.name}", _end_id(end), style="invis")
        if host.problems:
            cluster.node(
                f"problems/{host.name}",
                "\\l".join(["Problems:", *dict.fromkeys(host.problems)]) + "\\l",
                shape="note",
                color="red",
                fontcolor="red",
                fontsize="10",
            )


def tunnels_dot(tmap: TunnelMap) -> str:
    """DOT text of a tunnel map: a cluster per host with its interfaces and
    tunnel ends; one edge per link (both ends) or per half link."""
    dot = graphviz.Digraph("vpp_tunnels", strict=False)
    dot.attr(label="Tunnels between VPP hosts", labelloc="t", fontname=FONT, rankdir="LR")
    dot.attr("node", fontname=FONT)
    dot.attr("edge", fontname=FONT, fontsize="10")
    for host in tmap.hosts:
        _host_cluster(dot, host)
    known = {h.name for h in tmap.hosts}
    for link in tmap.links:
        colour = "blue" if link.a.kind == "ipcomp" else "black"
        attrs = {"label": _link_label(link), "color": colour, "penwidth": "2"}
        if not link.a.directional:
            attrs["dir"] = "both"
        if link.b is not None:
            dot.edge(_end_id(link.a), _end_id(link.b), **attrs)
            continue
        target = f"host/{link.peer}"
        if link.peer not in known:
            target = f"addr/{link.peer}"
            dot.node(target, f"{link.peer}\\n(no known host)", shape="ellipse", style="dashed")
        attrs.update(style="dashed", color="red")
        dot.edge(_end_id(link.a), target, **attrs)
    _note(dot, tmap.problems)
    return dot.source


class RenderError(Exception):
    """Graphviz could not lay out or write the diagram; the message has its stderr."""


def render(dot_source: str, fmt: str = "svg", engine: str = "dot") -> bytes:
    """The diagram in ``fmt`` (one of :data:`FORMATS`) laid out by ``engine``.
    Raises ValueError for an unknown format or engine, :class:`RenderError`
    when Graphviz fails."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if engine not in ENGINES:
        raise ValueError(f"unknown layout engine {engine!r}; one of {', '.join(ENGINES)}")
    if fmt == "dot":
        return dot_source.encode()
    try:
        return graphviz.Source(dot_source, engine=engine).pipe(format=fmt)
    except (graphviz.CalledProcessError, graphviz.ExecutableNotFound) as error:
        stderr = getattr(error, "stderr", b"") or b""
        detail = stderr.decode(errors="replace").strip().splitlines()[:3]
        raise RenderError(f"Graphviz {engine} failed: {' / '.join(detail) or error}") from error


def error_svg(message: str) -> bytes:
    """A small SVG that shows ``message`` (for when the diagram itself failed)."""
    dot = graphviz.Digraph("error")
    dot.node("error", message.replace("\\", "\\\\"), shape="note", color="red", fontcolor="red")
    return render(dot.source, "svg")
