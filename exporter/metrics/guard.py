"""Keep counters monotonic between VPP restarts.

VPP counters drop back to zero when an operator clears them (``clear
interfaces``, ``clear errors``, ``clear runtime``) or when an index is reused
for a new interface. Prometheus would read such a drop as a reset and lose the
increase since the last scrape; worse, a counter that goes backwards without a
reset breaks ``rate()``. :class:`CounterGuard` therefore adds a per-series
offset: when a raw value falls below the last raw value seen for the same
series (same stat path, same identity at that index), the last value is added
to the offset, so the exported value keeps rising by what VPP counts after the
clear.

State is dropped when the VPP instance changes (``Snapshot.segment_id``): a
restart is the one case where exported counters start again from zero.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class _Track:
    ids: Sequence[Hashable] | None
    last: np.ndarray
    offset: np.ndarray


class CounterGuard:
    """Per-series offsets keyed by ``(key, index)``; thread-safe.

    ``resets`` counts series rows found to have gone backwards (clears);
    ``restarts`` counts changes of VPP instance after the first one seen.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracks: dict[str, _Track] = {}
        self._segment: tuple[int, int] | None = None
        self.resets = 0
        self.restarts = 0

    def begin(self, segment_id: tuple[int, int]) -> None:
        """Start a scrape of VPP instance ``segment_id``; a new instance drops
        every offset."""
        with self._lock:
            if segment_id != self._segment:
                if self._segment is not None:
                    self.restarts += 1
                self._tracks.clear()
                self._segment = segment_id

    def apply(
        self, key: str, values: np.ndarray, ids: Sequence[Hashable] | None = None
    ) -> np.ndarray:
        """``values`` (``uint64``, first axis = series index) made monotonic.

        ``ids`` name the series along the first axis (interface names, error
        paths); an index whose id changed starts afresh. Returns a new array
        of the same shape; ``values`` is not modified."""
        values = np.asarray(values, dtype=np.uint64)
        with self._lock:
            track = self._tracks.get(key)
            if track is None or track.last.shape[1:] != values.shape[1:]:
                self._tracks[key] = _Track(ids, values.copy(), np.zeros_like(values))
                return values.copy()
            if track.last.shape != values.shape or (track.ids is not ids and track.ids != ids):
                track = self._realign(track, values.shape, ids)
                self._tracks[key] = track
            dropped = values < track.last
            if dropped.any():
                track.offset += np.where(dropped, track.last, np.uint64(0))
                rows = dropped.reshape(dropped.shape[0], -1).any(axis=1)
                self.resets += int(rows.sum())
            track.last = values.copy()
            return values + track.offset

    def clamp(
        self, key: str, values: np.ndarray, ids: Sequence[Hashable] | None = None
    ) -> np.ndarray:
        """``values`` never below what was returned for the same series
        before: for counters derived from others (a difference of two
        counters read a packet apart can dip by that packet)."""
        values = np.asarray(values, dtype=np.uint64)
        with self._lock:
            track = self._tracks.get(key)
            if track is None or track.last.shape[1:] != values.shape[1:]:
                track = _Track(ids, np.zeros_like(values), np.zeros_like(values))
            elif track.last.shape != values.shape or (track.ids is not ids and track.ids != ids):
                track = self._realign(track, values.shape, ids)
            track.last = np.maximum(track.last, values)
            self._tracks[key] = track
            return track.last.copy()

    @staticmethod
    def _realign(track: _Track, shape: tuple[int, ...], ids: Sequence[Hashable] | None) -> _Track:
        """Keep the state of indices whose id is unchanged; zero the rest."""
        last = np.zeros(shape, dtype=np.uint64)
        offset = np.zeros(shape, dtype=np.uint64)
        n = min(shape[0], track.last.shape[0])
        if ids is None or track.ids is None:
            same = np.ones(n, dtype=bool)
        else:
            same = np.fromiter(
                (a == b for a, b in zip(track.ids[:n], ids[:n], strict=False)), bool, n
            )
        last[:n][same] = track.last[:n][same]
        offset[:n][same] = track.offset[:n][same]
        return _Track(ids, last, offset)
