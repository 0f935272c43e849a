"""Read every host and join their tunnels into one map.

:func:`collect_tunnels` never fails because of one host: an unreachable host
is in the map with its reason, a host without stats is drawn without rates.
"""

from __future__ import annotations

from vppcomp.statseg.snapshot import Snapshot
from vppcomp.topology.api_source import ApiSource
from vppcomp.topology.inventory import HostSpec
from vppcomp.topology.tunnel_map import TunnelMap, join
from vppcomp.topology.tunnel_readers import read_host


def collect_tunnels(
    hosts: list[tuple[HostSpec, ApiSource]],
    pairs: dict[str, tuple[Snapshot, Snapshot]],
    stats_problems: dict[str, str],
) -> TunnelMap:
    """The tunnel map of ``hosts`` (each spec with the API source to read it
    through); ``pairs`` and ``stats_problems`` are keyed by host name."""
    read = []
    for spec, source in hosts:
        host = read_host(source, pairs.get(spec.name), stats_problems.get(spec.name))
        host.name, host.declared = spec.name, list(spec.addresses)
        read.append(host)
    return join(read)
