"""Interface counters: the ``/if/*`` vectors, labelled by interface name.

VPP publishes each counter once as a vector indexed by ``sw_if_index``
(``/if/rx``) and again per interface as symlinks
(``/interfaces/<name>/rx``); this collector reads the vectors with
``/if/names`` and never touches the ~25 symlinks per interface.
Deleted interfaces (name ``deleted`` or none) are not exported.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from prometheus_client.core import Metric

from vppcomp.exporter.metrics import families
from vppcomp.exporter.metrics.collectors.base import metric_word
from vppcomp.exporter.metrics.scrape import Entities, EpochCache, Scrape
from vppcomp.statseg.layout import StatType

NAMES = "/if/names"
DELETED = "deleted"

#: /if/<counter> (simple) -> (family, help)
SIMPLE: dict[str, tuple[str, str]] = {
    "drops": ("vpp_interface_drop_packets", "Packets dropped by the interface's nodes."),
    "punt": ("vpp_interface_punt_packets", "Packets punted to the host stack."),
    "ip4": ("vpp_interface_rx_ip4_packets", "IPv4 packets received."),
    "ip6": ("vpp_interface_rx_ip6_packets", "IPv6 packets received."),
    "rx-no-buf": ("vpp_interface_rx_no_buffer_packets", "Receive failures: no buffer."),
    "rx-miss": ("vpp_interface_rx_miss_packets", "Packets missed by the receive queue."),
    "rx-error": ("vpp_interface_rx_error_packets", "Packets received with errors."),
    "tx-error": ("vpp_interface_tx_error_packets", "Packets that failed to send."),
    "mpls": ("vpp_interface_rx_mpls_packets", "MPLS packets received."),
}

#: /if/<counter> (combined) -> (family stem, what)
COMBINED: dict[str, tuple[str, str]] = {
    "rx": ("vpp_interface_rx", "received"),
    "rx-unicast": ("vpp_interface_rx_unicast", "received unicast"),
    "rx-multicast": ("vpp_interface_rx_multicast", "received multicast"),
    "rx-broadcast": ("vpp_interface_rx_broadcast", "received broadcast"),
    "tx": ("vpp_interface_tx", "sent"),
    "tx-unicast": ("vpp_interface_tx_unicast", "sent unicast"),
    "tx-multicast": ("vpp_interface_tx_multicast", "sent multicast"),
    "tx-broadcast": ("vpp_interface_tx_broadcast", "sent broadcast"),
}


def interface_entities(names: list[str | None]) -> Entities:
    """Entities for ``/if/names``: deleted and duplicate names are skipped."""
    seen: set[str] = set()
    kept: list[str | None] = []
    for name in names:
        if name is None or name == DELETED or name in seen:
            kept.append(None)
        else:
            seen.add(name)
            kept.append(name)
    return Entities.named("interface", kept)


def family_names(counter: str, kind: StatType) -> list[tuple[str, str]]:
    """``(family, help)`` pairs for ``/if/<counter>``; counters this table
    does not know get ``vpp_interface_<counter>_total`` (simple) or
    ``..._packets_total`` / ``..._bytes_total`` (combined)."""
    if kind == StatType.COUNTER_VECTOR_COMBINED:
        stem, what = COMBINED.get(counter, (f"vpp_interface_{metric_word(counter)}", counter))
        return [
            (f"{stem}_packets", f"Packets {what} (/if/{counter})."),
            (f"{stem}_bytes", f"Bytes {what} (/if/{counter})."),
        ]
    name, text = SIMPLE.get(counter, (f"vpp_interface_{metric_word(counter)}", counter))
    return [(name, f"{text} (/if/{counter})")]


def info_rows(entities: Entities) -> list[dict[str, str] | None]:
    """``vpp_interface_info`` labels per sw_if_index (``None``: not exported)."""
    return [
        None if name is None else {"interface": str(name), "sw_if_index": str(index)}
        for index, name in enumerate(entities.ids)
    ]


class InterfaceCollector:
    """``vpp_interface_*`` families and ``vpp_interface_info``."""

    name = "interfaces"

    def __init__(self) -> None:
        self._cache = EpochCache()

    def collect(self, scrape: Scrape) -> Iterable[Metric]:
        snap = scrape.snapshot
        if NAMES not in snap:
            return
        names = snap[NAMES]
        entities = self._cache.get(NAMES, names, lambda: interface_entities(names))
        if scrape.options.wants(NAMES):
            rows = self._cache.get("info", names, lambda: info_rows(entities))
            yield families.gauge(
                "vpp_interface_info",
                "Interface name and sw_if_index; always 1 (/if/names).",
                ("interface", "sw_if_index"),
                rows,
                np.ones(len(rows), dtype=np.uint64),
                np.flatnonzero(entities.valid()),
            )
        for path in scrape.entries("/if/"):
            if path.count("/") != 2:
                continue
            kind = snap.type(path)
            if kind not in (StatType.COUNTER_VECTOR_SIMPLE, StatType.COUNTER_VECTOR_COMBINED):
                continue
            yield from scrape.vector(path, entities, family_names(path[4:], kind))
