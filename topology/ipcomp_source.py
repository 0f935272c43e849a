"""ipcomp SAs as tunnel ends: the project's own plugin (plugin/ipcomp).

``ipcomp_sa_dump`` (plugin/ipcomp/ipcomp.api) lists every SA, tunnel mode
(``is_tunnel``, on interface ``sw_if_index``) or transport mode. One SA
serves both directions between ``local`` and ``peer`` with one CPI, so the
two ends of an ipcomp link mirror each other like an IPIP tunnel's.

Rates come from the per-SA combined counters ``/net/ipcomp/sa/<counter>``
at the details' ``sa_index`` (plugin/README.md): sent = compressed-out +
bypass + incompressible, received = decompressed-in (what the peer left
uncompressed is ipip's, counted on the tunnel interface); the
compression ratio is the plugin's, compressed-out bytes / compressed-in
bytes of what this end sent (smaller is better; ``None`` if it compressed
nothing in the interval).
"""

from __future__ import annotations

import math
from typing import Any

from vppcomp.statseg.ipcomp import SA_PREFIX, compression_ratio
from vppcomp.topology.api_source import ApiError, ApiSource
from vppcomp.topology.node_rates import combined_rate
from vppcomp.topology.tunnel_model import Host, HostStats, TunnelEnd

IPCOMP_DUMP = "ipcomp_sa_dump"


def _sum_rates(stats: HostStats, index: int, counters: tuple[str, ...]) -> tuple[float, float]:
    pps = bps = 0.0
    for counter in counters:
        rate = combined_rate(stats.earlier, stats.later, SA_PREFIX + counter, index)
        if rate is not None:
            pps, bps = pps + rate[0], bps + rate[1]
    return pps, bps


def _ratio(stats: HostStats, index: int) -> float | None:
    """The SA's compression ratio over the interval (``None`` if it
    compressed nothing)."""
    into = combined_rate(stats.earlier, stats.later, SA_PREFIX + "compressed-in", index)
    out = combined_rate(stats.earlier, stats.later, SA_PREFIX + "compressed-out", index)
    if into is None or out is None:
        return None
    ratio = float(compression_ratio(into[1], out[1]))
    return None if math.isnan(ratio) else ratio


def _end(host: Host, d: dict[str, Any]) -> tuple[TunnelEnd, int]:
    """A tunnel end and its SA index from one SA details; raises on malformed."""
    sa = d["sa"]
    local, peer = sa["local"], sa["peer"]
    if not isinstance(local, str) or not isinstance(peer, str):
        raise ValueError("no local/peer address")
    index = int(d["sa_index"])
    label = f"ipcomp SA {int(sa['sa_id'])}"
    if d.get("is_tunnel"):
        interface = host.interfaces.get(int(d["sw_if_index"]))
        label = f"{interface.name if interface else 'tunnel'} ({label})"
    end = TunnelEnd("ipcomp", host.name, local, peer, f"CPI {int(sa['cpi'])}", label)
    return end, index


def read_ipcomp(source: ApiSource, host: Host, stats: HostStats | None) -> None:
    """Append the host's ipcomp SAs (both directions) as tunnel ends."""
    try:
        answer = source.call(IPCOMP_DUMP, sa_id=0xFFFFFFFF)
    except ApiError as error:
        host.problems.append(str(error))
        return
    for d in answer.details:
        try:
            end, index = _end(host, d)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            host.problems.append(f"{IPCOMP_DUMP}: malformed details ({error!r})")
            continue
        if stats is not None:
            sent = _sum_rates(stats, index, ("compressed-out", "bypass", "incompressible"))
            received = _sum_rates(stats, index, ("decompressed-in",))
            end.tx, end.rx = sent, received
            end.ratio = _ratio(stats, index)
        host.tunnels.append(end)
