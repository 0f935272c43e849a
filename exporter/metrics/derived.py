"""Counters the exporter derives from two of VPP's counters.

VPP updates two counters of one packet one after the other, and a snapshot
copies the two vectors one after the other: a snapshot can hold the second
counter's increment but not yet the first's. For ``a - b`` (bytes saved =
compressed-in minus compressed-out) that shows as a dip of one packet's
bytes, which Prometheus' ``rate()`` would read as a counter reset and count
the whole counter again. :class:`NonDecreasingDifference` therefore never
lets ``a - b`` fall while ``a`` did not fall; when ``a`` falls (a clear, an
index reused) or VPP restarts, the difference is VPP's again. VPP's own
counters are exported unchanged (see scrape.py).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np


class NonDecreasingDifference:
    """``minuend - subtrahend`` per series, kept from
    dipping between consecutive calls; not thread-safe (scrapes are
    serialised by the exporter)."""

    def __init__(self) -> None:
        self._segment: tuple[int, int] | None = None
        self._ids: list[Hashable | None] = []
        self._minuend = np.zeros(0, np.uint64)
        self._last = np.zeros(0, np.uint64)

    def apply(
        self,
        segment_id: tuple[int, int],
        ids: Sequence[Hashable | None],
        minuend: np.ndarray,
        difference: np.ndarray,
    ) -> np.ndarray:
        """``difference`` (this snapshot's ``minuend - subtrahend``, computed
        by the caller's formula) for VPP instance ``segment_id``, held where
        it dipped while ``minuend`` did not fall; ``ids`` name the series (a
        series whose id changed starts afresh)."""
        diff = difference.copy()
        if segment_id == self._segment:
            n = min(len(ids), len(self._ids))
            pairs = zip(ids[:n], self._ids[:n], strict=True)
            same = np.fromiter((a == b for a, b in pairs), bool, n)
            hold = same & (minuend[:n] >= self._minuend[:n]) & (diff[:n] < self._last[:n])
            diff[:n] = np.where(hold, self._last[:n], diff[:n])
        self._segment, self._ids = segment_id, list(ids)
        self._minuend, self._last = minuend.copy(), diff.copy()
        return diff
