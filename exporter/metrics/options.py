"""What to export: per-thread series, all-zero series, stat-path patterns."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Options:
    """Scrape options shared by every collector.

    ``per_thread``: keep one series per VPP thread (label ``thread``) instead
    of the sum over threads. ``used_only``: drop series whose value is zero
    (counters and histograms; gauges are always kept). ``include`` /
    ``exclude``: shell-style patterns (``fnmatch``, case-sensitive) matched
    against the stat path a series comes from (the README names it per
    family); a path is exported when it matches an include pattern (or none
    are given) and no exclude pattern. ``all_errors``: export every node
    error counter, also those that never counted (default: the ipcomp
    nodes' always, the others once non-zero; collectors/errors.py).
    """

    per_thread: bool = False
    used_only: bool = False
    all_errors: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def wants(self, path: str) -> bool:
        """Whether series from stat path ``path`` are exported."""
        if self.include and not any(fnmatchcase(path, p) for p in self.include):
            return False
        return not any(fnmatchcase(path, p) for p in self.exclude)
