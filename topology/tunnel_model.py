"""Hosts, their interfaces and addresses, and the tunnel ends each one holds.

Interface tunnels (ipip, gre, vxlan) are bidirectional: their ends on two
hosts mirror each other (src/dst swapped). SAs (ipsec, ipcomp) are
unidirectional (``directional``): both hosts hold the same SA (same SPI/CPI,
same src and dst). :mod:`vppcomp.topology.tunnel_readers` fills these in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.node_rates import Rates, rates_between


@dataclass
class TunnelEnd:
    """One end of a tunnel as one host sees it.

    ``ident`` is what must agree between the two ends (VNI, key, SPI, CPI);
    ``label`` names the end for people (interface or SA id). ``tx`` and
    ``rx`` are (packets/s, bits/s) sent and received through this end, and
    ``ratio`` the compression ratio (uncompressed / compressed bytes), each
    ``None`` when the stats do not say."""

    kind: str
    host: str
    src: str
    dst: str
    ident: str
    label: str
    tx: tuple[float, float] | None = None
    rx: tuple[float, float] | None = None
    ratio: float | None = None
    directional: bool = False

    @property
    def end_id(self) -> str:
        return f"{self.host}|{self.kind}|{self.label}|{self.src}|{self.dst}|{self.ident}"


@dataclass
class Interface:
    """An interface of a host with its addresses (without prefix length)."""

    sw_if_index: int
    name: str
    up: bool
    addresses: list[str] = field(default_factory=list)


@dataclass
class Host:
    """One VPP host; ``reason`` says why it is unreachable (``None`` if it was
    read); ``declared`` are addresses the inventory gives for it, used to
    recognise it as a tunnel's peer even when it cannot be read; ``sources``
    the tunnel kinds whose dump message the host offered (and was read)."""

    name: str
    reason: str | None = None
    declared: list[str] = field(default_factory=list)
    version: str = ""
    interfaces: dict[int, Interface] = field(default_factory=dict)
    tunnels: list[TunnelEnd] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def reachable(self) -> bool:
        return self.reason is None

    def addresses(self) -> set[str]:
        return {a for i in self.interfaces.values() for a in i.addresses} | set(self.declared)


@dataclass
class HostStats:
    """Two snapshots of a host's stats segment and the rates between them."""

    earlier: Snapshot
    later: Snapshot
    rates: Rates


def host_stats(pair: tuple[Snapshot, Snapshot] | None) -> HostStats | None:
    return HostStats(pair[0], pair[1], rates_between(*pair)) if pair else None
