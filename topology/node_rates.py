"""Per-node and per-interface rates from two stats-segment snapshots.

Node counters (``/sys/node/{clocks,vectors,calls}`` with ``/sys/node/names``)
are refreshed by VPP's stats collector every ``statseg { update-interval }``
and the collector bumps ``/sys/heartbeat`` at each refresh;
:func:`sample_pair` therefore waits for two refreshes so that the two
snapshots bracket whole collector intervals. Interface counters are live.

Contract: rates are per second over ``later.taken_at - earlier.taken_at``;
counters summed over threads; a counter that went backwards (VPP restarted
or counters cleared) gives no rate and a problem instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vppcomp.statseg.layout import READ_ERRORS
from vppcomp.statseg.snapshot import Snapshot

NODE_COUNTERS = ("vectors", "calls", "clocks")


@dataclass(frozen=True)
class NodeRate:
    """One node over the interval: packets (vectors) and calls per second,
    vectors per call and clocks per packet (0 when it moved no packet)."""

    vectors_per_second: float
    calls_per_second: float
    vectors_per_call: float
    clocks_per_packet: float

    @property
    def active(self) -> bool:
        return self.vectors_per_second > 0


@dataclass(frozen=True)
class InterfaceRate:
    """One interface over the interval, both directions."""

    rx_pps: float
    rx_bps: float
    tx_pps: float
    tx_bps: float


@dataclass
class Rates:
    """Rates by node name and by interface name over ``seconds``."""

    seconds: float = 0.0
    nodes: dict[str, NodeRate] = field(default_factory=dict)
    interfaces: dict[str, InterfaceRate] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _summed(snap: Snapshot, name: str) -> np.ndarray | None:
    if name not in snap:
        return None
    value = snap[name]
    if not isinstance(value, np.ndarray) or value.ndim < 2:
        return None
    return np.asarray(value.sum(axis=0, dtype=np.uint64), dtype=np.float64)


def names_of(snap: Snapshot, name: str) -> list[str | None] | None:
    """The name vector ``name``; ``None`` when absent or not a name vector."""
    try:
        value = snap[name]
    except KeyError:
        return None
    return value if isinstance(value, list) else None


def _delta(earlier: np.ndarray | None, later: np.ndarray | None) -> np.ndarray | None:
    """``later - earlier`` with new entries counted from 0; ``None`` if either
    is missing or any counter went backwards."""
    if earlier is None or later is None:
        return None
    if earlier.shape[0] < later.shape[0]:
        pad = [(0, later.shape[0] - earlier.shape[0])] + [(0, 0)] * (later.ndim - 1)
        earlier = np.pad(earlier, pad)
    earlier = earlier[: later.shape[0]]
    delta = later - earlier
    if (delta < 0).any():
        return None
    return delta


def node_rates(earlier: Snapshot, later: Snapshot, rates: Rates) -> None:
    """Fill ``rates.nodes`` from the node counters of two snapshots."""
    names = names_of(later, "/sys/node/names")
    if names is None:
        rates.problems.append("no /sys/node/names (statseg per-node-counters off?)")
        return
    deltas = {
        c: _delta(_summed(earlier, f"/sys/node/{c}"), _summed(later, f"/sys/node/{c}"))
        for c in NODE_COUNTERS
    }
    if any(d is None for d in deltas.values()):
        rates.problems.append("node counters missing or went backwards: no node rates")
        return
    vectors, calls, clocks = (deltas[c] for c in NODE_COUNTERS)
    assert vectors is not None and calls is not None and clocks is not None
    seconds = rates.seconds
    for i, name in enumerate(names[: vectors.shape[0]]):
        if not name:
            continue
        v, c, k = float(vectors[i]), float(calls[i]), float(clocks[i])
        rates.nodes[name] = NodeRate(
            vectors_per_second=v / seconds,
            calls_per_second=c / seconds,
            vectors_per_call=v / c if c else 0.0,
            clocks_per_packet=k / v if v else 0.0,
        )


def interface_rates(earlier: Snapshot, later: Snapshot, rates: Rates) -> None:
    """Fill ``rates.interfaces`` from ``/if/rx`` and ``/if/tx``."""
    names = names_of(later, "/if/names")
    if names is None:
        rates.problems.append("no /if/names in the stats segment")
        return
    rx = _delta(_summed(earlier, "/if/rx"), _summed(later, "/if/rx"))
    tx = _delta(_summed(earlier, "/if/tx"), _summed(later, "/if/tx"))
    if rx is None or tx is None:
        rates.problems.append("interface counters missing or went backwards")
        return
    s = rates.seconds
    for i, name in enumerate(names[: min(rx.shape[0], tx.shape[0])]):
        if name:
            rates.interfaces[name] = InterfaceRate(
                rx[i, 0] / s, rx[i, 1] * 8 / s, tx[i, 0] / s, tx[i, 1] * 8 / s
            )


def combined_rate(earlier: Snapshot, later: Snapshot, name: str, index: int) -> Any:
    """``(packets/s, bits/s)`` of column ``index`` of combined vector ``name``,
    or ``None`` when it cannot be computed."""
    a, b = _summed(earlier, name), _summed(later, name)
    delta = _delta(a, b)
    seconds = later.taken_at - earlier.taken_at
    if delta is None or seconds <= 0 or delta.ndim != 2 or not 0 <= index < delta.shape[0]:
        return None
    return float(delta[index, 0]) / seconds, float(delta[index, 1]) * 8 / seconds


def rates_between(earlier: Snapshot, later: Snapshot) -> Rates:
    """Node and interface rates between two snapshots of the same VPP."""
    rates = Rates(seconds=later.taken_at - earlier.taken_at)
    if earlier.segment_id != later.segment_id:
        rates.problems.append("the snapshots come from different VPP instances (restart)")
        return rates
    if rates.seconds <= 0:
        rates.problems.append("the snapshots are not in time order")
        return rates
    node_rates(earlier, later, rates)
    interface_rates(earlier, later, rates)
    return rates


def heartbeat(snap: Snapshot) -> int | None:
    """``/sys/heartbeat``: bumped by VPP's collector at each node-counter refresh."""
    return int(snap["/sys/heartbeat"]) if "/sys/heartbeat" in snap else None


def sample_pairs(
    clients: Mapping[str, Any],
    interval: float,
    *,
    aligned: bool = False,
    poll: float = 0.05,
    timeout: float = 30.0,
) -> tuple[dict[str, tuple[Snapshot, Snapshot]], dict[str, Exception]]:
    """Snapshot pairs of several hosts at least ``interval`` s apart, over one
    shared wait: every client's first snapshot, the wait, every second one.
    With ``aligned`` each snapshot is taken just after a refresh of that
    host's node counters (``/sys/heartbeat`` changed); without a heartbeat,
    or when it does not move within ``timeout`` s in all, the snapshots are
    simply ``interval`` s apart. ``clients`` (name -> object with
    ``snapshot()``) are not closed. Returns the pairs by name and, for the
    hosts whose stats could not be read, the error (one of
    :data:`~vppcomp.statseg.layout.READ_ERRORS`)."""
    deadline = time.monotonic() + timeout

    def refreshed(client: Any) -> Snapshot:
        snap = client.snapshot()
        if not aligned:
            return snap
        beat = heartbeat(snap)
        snap = client.snapshot()
        while beat is not None and heartbeat(snap) == beat and time.monotonic() < deadline:
            time.sleep(poll)
            snap = client.snapshot()
        return snap

    firsts: dict[str, Snapshot] = {}
    failed: dict[str, Exception] = {}
    for name, client in clients.items():
        try:
            firsts[name] = refreshed(client)
        except READ_ERRORS as error:
            failed[name] = error
    if firsts:
        time.sleep(interval)
    pairs: dict[str, tuple[Snapshot, Snapshot]] = {}
    for name, first in firsts.items():
        try:
            pairs[name] = (first, refreshed(clients[name]))
        except READ_ERRORS as error:
            failed[name] = error
    return pairs, failed


def sample_pair(
    client: Any, interval: float, *, poll: float = 0.05, timeout: float = 30.0
) -> tuple[Snapshot, Snapshot]:
    """:func:`sample_pairs` for one host, aligned on node-counter refreshes;
    raises the client's error."""
    pairs, failed = sample_pairs({"": client}, interval, aligned=True, poll=poll, timeout=timeout)
    if failed:
        raise failed[""]
    return pairs[""]
