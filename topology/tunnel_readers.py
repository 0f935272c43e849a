"""Read a host through its API: interfaces, addresses and tunnel ends.

Tunnel ends come from independent readers, one per kind, each used only when
the host offers its dump message (:data:`TUNNEL_READERS`):

* ``ipip``: ``ipip_tunnel_dump`` (core);
* ``gre``: ``gre_tunnel_dump`` (gre plugin);
* ``vxlan``: ``vxlan_tunnel_v2_dump`` (vxlan plugin);
* ``ipsec``: ``ipsec_sa_v5_dump`` (core), tunnel-mode SAs (transport-mode
  SAs have no endpoints and are left out); rates from
  ``/net/ipsec/sa`` at the SA's ``stat_index`` (packets the SA processed:
  drawn for the sender's end only);
* ``ipcomp``: see :mod:`vppcomp.topology.ipcomp_source`.

Tunnel interfaces' rates are the interface counters (``/if/tx``, ``/if/rx``).
Readers never raise on a bad answer; they add problems to the host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.api_source import ApiError, ApiSource, ApiUnavailable
from vppcomp.topology.ipcomp_source import IPCOMP_DUMP, read_ipcomp
from vppcomp.topology.node_rates import combined_rate
from vppcomp.topology.tunnel_model import Host, HostStats, Interface, TunnelEnd, host_stats

ANY_INDEX = 0xFFFFFFFF
UNSPECIFIED = ("0.0.0.0", "::")
TunnelReader = Callable[[ApiSource, Host, HostStats | None], None]


def _dump(source: ApiSource, host: Host, method: str, **args: Any) -> list[dict[str, Any]]:
    try:
        answer = source.call(method, **args)
    except ApiError as error:
        host.problems.append(str(error))
        return []
    if answer.retval != 0:
        host.problems.append(f"{method}: retval {answer.retval}")
    return [d for d in answer.details if isinstance(d, dict)]


def _interface_tunnel(
    host: Host, stats: HostStats | None, kind: str, sw_if_index: Any, src: Any, dst: Any, ident: str
) -> TunnelEnd:
    """An interface tunnel end; raises ValueError/TypeError when malformed."""
    if not isinstance(src, str) or not isinstance(dst, str):
        raise ValueError("no src/dst address")
    interface = host.interfaces.get(int(sw_if_index))
    label = interface.name if interface else f"sw_if_index {int(sw_if_index)}"
    end = TunnelEnd(kind, host.name, src, dst, ident, label)
    rate = stats.rates.interfaces.get(label) if stats else None
    if rate is not None:
        end.tx, end.rx = (rate.tx_pps, rate.tx_bps), (rate.rx_pps, rate.rx_bps)
    return end


def _tunnel_dump_reader(kind: str, method: str) -> TunnelReader:
    """A reader for dumps whose details carry a ``tunnel`` with ``sw_if_index``,
    ``src`` and ``dst`` (ipip_tunnel_dump, gre_tunnel_dump)."""

    def read(source: ApiSource, host: Host, stats: HostStats | None) -> None:
        for d in _dump(source, host, method, sw_if_index=ANY_INDEX):
            try:
                t = d["tunnel"]
                end = _interface_tunnel(host, stats, kind, t["sw_if_index"], t["src"], t["dst"], "")
            except (KeyError, TypeError, ValueError) as error:
                host.problems.append(f"{method}: malformed details ({error!r})")
                continue
            host.tunnels.append(end)

    return read


def read_vxlan(source: ApiSource, host: Host, stats: HostStats | None) -> None:
    for d in _dump(source, host, "vxlan_tunnel_v2_dump", sw_if_index=ANY_INDEX):
        try:
            host.tunnels.append(
                _interface_tunnel(
                    host,
                    stats,
                    "vxlan",
                    d["sw_if_index"],
                    d["src_address"],
                    d["dst_address"],
                    f"VNI {int(d['vni'])}",
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            host.problems.append(f"vxlan_tunnel_v2_dump: malformed details ({error!r})")


def read_ipsec(source: ApiSource, host: Host, stats: HostStats | None) -> None:
    for d in _dump(source, host, "ipsec_sa_v5_dump", sa_id=ANY_INDEX):
        try:
            entry = d["entry"]
            src, dst = entry["tunnel"]["src"], entry["tunnel"]["dst"]
            proto = "AH" if int(entry.get("protocol", 50)) == 51 else "ESP"
            end = TunnelEnd(
                "ipsec",
                host.name,
                str(src),
                str(dst),
                f"{proto} SPI {int(entry['spi']):#x}",
                f"SA {int(entry['sad_id'])}",
                directional=True,
            )
            stat_index = int(d.get("stat_index", ANY_INDEX))
        except (KeyError, TypeError, ValueError) as error:
            host.problems.append(f"ipsec_sa_v5_dump: malformed details ({error!r})")
            continue
        if end.src in UNSPECIFIED:  # transport mode: no endpoints to link
            continue
        if stats is not None:
            end.tx = combined_rate(stats.earlier, stats.later, "/net/ipsec/sa", stat_index)
        host.tunnels.append(end)


def read_interfaces(source: ApiSource, host: Host) -> None:
    """Interfaces from ``sw_interface_dump`` and their addresses from ``ip_address_dump``."""
    for d in _dump(source, host, "sw_interface_dump", name_filter_valid=False, name_filter=""):
        try:
            index = int(d["sw_if_index"])
            host.interfaces[index] = Interface(
                index,
                str(d["interface_name"]),
                bool(int(d.get("flags", 0)) & 1),
            )
        except (KeyError, TypeError, ValueError) as error:
            host.problems.append(f"sw_interface_dump: malformed details ({error!r})")
    for index, interface in sorted(host.interfaces.items()):
        for is_ipv6 in (False, True):
            for d in _dump(source, host, "ip_address_dump", sw_if_index=index, is_ipv6=is_ipv6):
                prefix = d.get("prefix")
                if isinstance(prefix, str) and prefix:
                    interface.addresses.append(prefix.split("/")[0])
                else:
                    host.problems.append(f"ip_address_dump {interface.name}: malformed prefix")


# (kind, the dump message that must be offered, reader)
TUNNEL_READERS: list[tuple[str, str, TunnelReader]] = [
    ("ipip", "ipip_tunnel_dump", _tunnel_dump_reader("ipip", "ipip_tunnel_dump")),
    ("gre", "gre_tunnel_dump", _tunnel_dump_reader("gre", "gre_tunnel_dump")),
    ("vxlan", "vxlan_tunnel_v2_dump", read_vxlan),
    ("ipsec", "ipsec_sa_v5_dump", read_ipsec),
    ("ipcomp", IPCOMP_DUMP, read_ipcomp),
]


def read_host(
    source: ApiSource, pair: tuple[Snapshot, Snapshot] | None, stats_problem: str | None = None
) -> Host:
    """Everything about one host; an unreachable host comes back with ``reason``.
    Opens and closes ``source``."""
    host = Host(source.name)
    try:
        source.open()
    except ApiUnavailable as error:
        host.reason = str(error)
        return host
    try:
        host.name = source.name
        if stats_problem:
            host.problems.append(f"no rates: {stats_problem}")
        if source.has("show_version"):
            try:
                host.version = str((source.call("show_version").reply or {}).get("version", ""))
            except ApiError as error:
                host.problems.append(str(error))
        read_interfaces(source, host)
        stats = host_stats(pair)
        for kind, method, reader in TUNNEL_READERS:
            if source.has(method):
                host.sources.append(kind)
                reader(source, host, stats)
    finally:
        source.close()
    return host
