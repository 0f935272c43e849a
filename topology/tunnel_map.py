"""Join the tunnel ends of several hosts into links between them.

Contract of :func:`join`: every tunnel end of every reachable host appears in
exactly one :class:`Link`. Two ends form one link when the peer address of
one is an address of the other's host and they agree:

* interface tunnels: same kind and ident, ``a.src == b.dst`` and ``a.dst == b.src``;
* SAs (``directional``): same kind and ident, same ``src`` and ``dst``.

An end without a partner gives a half link whose ``problem`` says why (the
peer host holds no matching end, the peer address is on no known host, or
the peer host is unreachable). An address held by two hosts is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vppcomp.topology.tunnel_model import Host, TunnelEnd


@dataclass
class Link:
    """A tunnel between ``a`` and ``b`` (``b`` is ``None`` for a half link;
    then ``peer`` is the peer host name or, if unknown, its address). For an
    SA, ``a`` is the sender's end when both are known."""

    a: TunnelEnd
    b: TunnelEnd | None
    peer: str
    problem: str | None = None


@dataclass
class TunnelMap:
    hosts: list[Host]
    links: list[Link] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _matches(a: TunnelEnd, b: TunnelEnd) -> bool:
    if a.kind != b.kind or a.ident != b.ident or a.host == b.host:
        return False
    if a.directional:
        return a.src == b.src and a.dst == b.dst
    return a.src == b.dst and a.dst == b.src


def join(hosts: list[Host]) -> TunnelMap:
    """Links between ``hosts`` (module docstring)."""
    tmap = TunnelMap(hosts)
    owner: dict[str, str] = {}
    for host in hosts:
        for address in sorted(host.addresses()):
            if owner.get(address, host.name) != host.name:
                tmap.problems.append(f"{address} is held by both {owner[address]} and {host.name}")
            owner.setdefault(address, host.name)
    by_name = {h.name: h for h in hosts}
    paired: set[str] = set()
    for host in hosts:
        for end in host.tunnels:
            if end.end_id in paired:
                continue
            far = end.src if end.directional and end.src not in host.addresses() else end.dst
            peer_name = owner.get(far)
            if peer_name is None:
                tmap.links.append(Link(end, None, far, f"{far} is on no known host"))
                continue
            peer = by_name[peer_name]
            if not peer.reachable:
                tmap.links.append(Link(end, None, peer_name, f"{peer_name} is unreachable"))
                continue
            partner = next(
                (e for e in peer.tunnels if e.end_id not in paired and _matches(end, e)), None
            )
            if partner is None:
                tmap.links.append(
                    Link(end, None, peer_name, f"no matching {end.kind} end on {peer_name}")
                )
                continue
            paired.update((end.end_id, partner.end_id))
            if end.directional and far == end.src:  # the sender's end first
                tmap.links.append(Link(partner, end, host.name))
            else:
                tmap.links.append(Link(end, partner, peer_name))
    return tmap
