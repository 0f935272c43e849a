"""The ipcomp plugin's entries in the stats segment (names as plugin/README.md
documents them) and the quantities derived from its per-SA counters, for
every consumer (exporter, JSON views, topology) to compute the same way."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: Per-SA combined counters live under this prefix, indexed by SA index.
SA_PREFIX = "/net/ipcomp/sa/"
#: The SA names (SA ids as text) by SA index; empty or ``None`` once deleted.
SA_NAMES = "/net/ipcomp/sa/names"


def saved_bytes(compressed_in: ArrayLike, compressed_out: ArrayLike) -> np.ndarray:
    """Bytes compression saved: compressed-in minus compressed-out bytes,
    elementwise, ``uint64``; 0 where the output was not smaller."""
    into = np.asarray(compressed_in, dtype=np.uint64)
    out = np.asarray(compressed_out, dtype=np.uint64)
    return np.where(into > out, into - out, np.uint64(0))


def compression_ratio(compressed_in: ArrayLike, compressed_out: ArrayLike) -> np.ndarray:
    """Compressed-out over compressed-in bytes (plugin/README.md's ratio:
    smaller is better), elementwise, ``float64``; NaN where nothing was
    compressed (compressed-in is 0). Cumulative counters give the ratio since
    the SA was added, rates or differences the ratio over an interval."""
    into = np.asarray(compressed_in, dtype=np.float64)
    out = np.asarray(compressed_out, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(into > 0, out / into, np.nan)
