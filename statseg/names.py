"""Directory entry names as text, and the ``name -> row`` index, reused
across plans.

Decoding the ~175,000 names of a large segment and indexing them is most of
the cost of a cold snapshot, and names rarely change from one plan to the
next: a new epoch because vectors grew, a new connection to the same or a
restarted VPP. :data:`NAMES` keeps the last directory decoded in this process
and reuses it row by row where the raw bytes are unchanged (and the whole
index when no name and no listed row changed). Results are never modified
after they are returned, so threads may share them.
"""

from __future__ import annotations

import threading

import numpy as np

from vppcomp.statseg.layout import NAME_SIZE

#: Above this share of changed rows, names are decoded afresh.
_REDECODE_SHARE = 0.25
_WORDS = NAME_SIZE // 8  # a name as uint64 words, for comparing rows


def decode(raw: np.ndarray) -> list[str]:
    """Directory names (``S128`` array) as text. A name ends at its first NUL
    (VPP may leave old bytes behind it); numpy strips only trailing NULs, so
    names are decoded in one go when no name holds an inner NUL, else one by
    one."""
    chunks = raw.tolist()
    names = b"\0".join(chunks).decode("utf-8", "replace").split("\0")
    if len(names) == len(chunks):
        return names
    return [c.partition(b"\0")[0].decode("utf-8", "replace") for c in chunks]


class NameCache:
    """The names and index of the last directory decoded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._words = np.empty((0, _WORDS), dtype=np.uint64)
        self._names: list[str] = []
        self._listed = b""
        self._index: dict[str, int] = {}

    def clear(self) -> None:
        """Forget the last directory (the next plan decodes every name)."""
        with self._lock:
            self._words = np.empty((0, _WORDS), dtype=np.uint64)
            self._names, self._listed, self._index = [], b"", {}

    def names(self, raw: np.ndarray) -> list[str]:
        """The names of ``raw`` (``S128`` directory names), reusing the last
        directory's strings for rows whose bytes did not change."""
        words = np.ascontiguousarray(raw).view(np.uint64).reshape(len(raw), _WORDS)
        with self._lock:
            last_words, last_names = self._words, self._names
        if last_words.shape == words.shape and np.array_equal(last_words, words):
            return last_names
        shared = min(len(last_words), len(words))
        changed = np.flatnonzero((last_words[:shared] != words[:shared]).any(axis=1))
        if shared == 0 or len(changed) + len(words) - shared > _REDECODE_SHARE * len(words):
            names = decode(raw)
        else:
            names = last_names[:shared]
            for row, name in zip(changed.tolist(), decode(raw[changed]), strict=True):
                names[row] = name
            names.extend(decode(raw[shared:]))
        with self._lock:
            self._words, self._names = words, names
            self._listed, self._index = b"", {}
        return names

    def index(self, names: list[str], listed: np.ndarray) -> dict[str, int]:
        """``name -> row`` of the ``listed`` rows of ``names`` (a list this
        cache returned), reused when neither changed."""
        key = listed.tobytes()
        with self._lock:
            if names is self._names and key == self._listed:
                return self._index
        if listed.all():
            index = dict(zip(names, range(len(names)), strict=True))
        else:
            rows = np.flatnonzero(listed).tolist()
            index = dict(zip([names[r] for r in rows], rows, strict=True))
        with self._lock:
            if names is self._names:
                self._listed, self._index = key, index
        return index


#: The process's cache (one reader after another, and several readers of
#: different VPPs, replace its contents in turn).
NAMES = NameCache()
