"""Connect to VPP's stats socket, map the segment, follow VPP across restarts.

VPP hands the segment's memfd to each client that connects to its
``SOCK_SEQPACKET`` stats socket (``SCM_RIGHTS``), then closes the connection.
A restarted VPP hands out a new memfd; the old mapping stays readable but
frozen. The client therefore re-asks for the fd at most every
``liveness_interval`` seconds and compares the file's identity
``(st_dev, st_ino)``: a new identity is a restart (remap, count it), a refused
connection is a VPP that is gone (drop the mapping, raise
:class:`StatsUnavailable`) — stale numbers are never served as fresh.
"""

from __future__ import annotations

import array
import mmap
import os
import socket
import threading
import time
from dataclasses import dataclass

from vppcomp.statseg.layout import StatsUnavailable
from vppcomp.statseg.reader import DEFAULT_BUSY_TIMEOUT, ReadStats, SegmentReader
from vppcomp.statseg.snapshot import Snapshot

DEFAULT_SOCKET = "/run/vpp/stats.sock"


def receive_segment_fd(socket_path: str, timeout: float = 1.0) -> int:
    """Connect to a stats socket and return the memfd it passes (caller closes it)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(socket_path)
            _, ancdata, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(array.array("i").itemsize))
        except OSError as error:
            raise StatsUnavailable(f"{socket_path}: {error.strerror or error}") from error
    fds = array.array("i")
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    if not fds:
        raise StatsUnavailable(f"{socket_path}: no file descriptor received")
    for extra in fds[1:]:
        os.close(extra)
    return fds[0]


@dataclass
class ClientStats(ReadStats):
    """Reader costs summed over every segment mapped, plus restarts seen and
    the time of the last good snapshot."""

    restarts: int = 0
    connects: int = 0
    last_success: float = 0.0


class StatsClient:
    """Thread-safe access to a live (or replayed) stats segment.

    ``busy_timeout`` is how long a snapshot waits for VPP to release the
    segment lock before it gives up. ``snapshot()`` returns a consistent
    :class:`Snapshot` or raises
    :class:`StatsUnavailable` / :class:`~vppcomp.statseg.layout.SegmentBusy` /
    :class:`~vppcomp.statseg.layout.SegmentError`; it reconnects by itself on
    the next call after any of them.
    """

    def __init__(
        self,
        socket_path: str = DEFAULT_SOCKET,
        *,
        liveness_interval: float = 1.0,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.socket_path = socket_path
        self.liveness_interval = liveness_interval
        self.busy_timeout = busy_timeout
        self.stats = ClientStats()
        self._lock = threading.Lock()
        self._map: mmap.mmap | None = None
        self._reader: SegmentReader | None = None
        self._checked_at = 0.0
        self._identity: tuple[int, int] | None = None

    @property
    def connected(self) -> bool:
        return self._reader is not None

    def snapshot(self, *, ring_records: bool = False) -> Snapshot:
        """A consistent snapshot (see :meth:`SegmentReader.read`); ring
        buffers carry their records only with ``ring_records``."""
        with self._lock:
            reader = self._current_reader()
            before = (
                reader.stats.retries,
                reader.stats.failures,
                reader.stats.plans,
                reader.stats.bad_entries,
            )
            try:
                snap = reader.read(ring_records=ring_records)
            finally:
                self.stats.retries += reader.stats.retries - before[0]
                self.stats.failures += reader.stats.failures - before[1]
                self.stats.plans += reader.stats.plans - before[2]
                self.stats.bad_entries += reader.stats.bad_entries - before[3]
            self.stats.snapshots += 1
            self.stats.last_success = snap.taken_at
            return snap

    def image(self) -> bytes:
        """A consistent raw copy of the live segment."""
        with self._lock:
            return self._current_reader().image()

    def close(self) -> None:
        with self._lock:
            self._unmap()

    def __enter__(self) -> StatsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _current_reader(self) -> SegmentReader:
        now = time.monotonic()
        if self._reader is not None and now - self._checked_at < self.liveness_interval:
            return self._reader
        try:
            fd = receive_segment_fd(self.socket_path)
        except StatsUnavailable:
            self.stats.failures += 1
            self._unmap()
            raise
        try:
            info = os.fstat(fd)
            identity = (info.st_dev, info.st_ino)
            self._checked_at = now
            if self._reader is not None and self._reader.segment_id == identity:
                return self._reader
            if self._identity is not None and self._identity != identity:
                self.stats.restarts += 1
            self._identity = identity
            self._unmap()
            segment = mmap.mmap(fd, info.st_size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(fd)
        try:
            reader = SegmentReader(segment, identity, busy_timeout=self.busy_timeout)
        except Exception:
            segment.close()
            raise
        self._map, self._reader = segment, reader
        self.stats.connects += 1
        return reader

    def _unmap(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._map is not None:
            self._map.close()
            self._map = None
