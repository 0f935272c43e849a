"""ipcomp SAs as tunnel ends: the project's own plugin (plugin/ipcomp).

An ipcomp SA is unidirectional like an IPsec SA: the sender compresses
(``local`` = outer source), the receiver decompresses; both hold an SA with
the same CPI and addresses. Rates and the compression ratio come from the
plugin's per-SA combined counters ``/net/ipcomp/sa/<counter>`` indexed by SA
index (plugin/ipcomp/ipcomp.h): sent = compressed-out + bypass +
incompressible, received = decompressed-in + rx-uncompressed, ratio =
compressed-in bytes / compressed-out bytes (sender) or decompressed-out /
decompressed-in (receiver).
"""

from __future__ import annotations

from typing import Any

from vppcomp.topology.api_source import ApiError, ApiSource
from vppcomp.topology.node_rates import combined_rate
from vppcomp.topology.tunnel_model import Host, HostStats, TunnelEnd

IPCOMP_DUMP = "ipcomp_sa_dump"
_SA = "/net/ipcomp/sa/"


def _sum_rates(stats: HostStats, index: int, counters: tuple[str, ...]) -> tuple[float, float]:
    pps = bps = 0.0
    for counter in counters:
        rate = combined_rate(stats.earlier, stats.later, _SA + counter, index)
        if rate is not None:
            pps, bps = pps + rate[0], bps + rate[1]
    return pps, bps


def _ratio(stats: HostStats, index: int, before: str, after: str) -> float | None:
    raw = combined_rate(stats.earlier, stats.later, _SA + before, index)
    packed = combined_rate(stats.earlier, stats.later, _SA + after, index)
    if raw is None or packed is None or packed[1] <= 0:
        return None
    return raw[1] / packed[1]


def _end(host: Host, d: dict[str, Any]) -> tuple[TunnelEnd, int]:
    """A tunnel end and its SA index from one SA details; raises on malformed."""
    sa = d.get("sa", d)
    local, peer = sa["local"], sa["peer"]
    if not isinstance(local, str) or not isinstance(peer, str):
        raise ValueError("no local/peer address")
    index = int(d.get("sa_index", sa.get("sa_index", -1)))
    end = TunnelEnd(
        "ipcomp",
        host.name,
        local,
        peer,
        f"CPI {int(sa['cpi']):#x}",
        f"ipcomp SA {int(sa.get('sa_id', sa.get('id', index)))}",
        directional=True,
    )
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
        if stats is not None and index >= 0:
            sent = _sum_rates(stats, index, ("compressed-out", "bypass", "incompressible"))
            received = _sum_rates(stats, index, ("decompressed-in", "rx-uncompressed"))
            end.tx, end.rx = sent, received
            end.ratio = _ratio(stats, index, "compressed-in", "compressed-out") or _ratio(
                stats, index, "decompressed-out", "decompressed-in"
            )
        host.tunnels.append(end)
