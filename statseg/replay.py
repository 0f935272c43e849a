"""Serve a stats segment the way VPP does, from a recording or a snapshot.

:class:`SegmentServer` keeps a segment in a memfd and hands its descriptor to
every client that connects to a ``SOCK_SEQPACKET`` unix socket (one empty
message carrying ``SCM_RIGHTS``, then close), exactly as VPP's stats socket
does; vpp_papi's ``VPPStats``, VPP's ``vpp_get_stats`` /
``vpp_prometheus_export`` and :class:`~vppcomp.statseg.client.StatsClient` read
it as if VPP were there. :func:`replay` steps a recording through it in
recorded time; a change of VPP instance in the recording becomes a restart
(a new memfd behind a re-created socket).
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from vppcomp.statseg.recording import Frame
from vppcomp.statseg.snapshot import Snapshot
from vppcomp.statseg.writer import SegmentWriter

log = logging.getLogger(__name__)

MIN_SEGMENT_SIZE = 1 << 20


class SegmentServer:
    """A memfd segment of ``size`` bytes served on ``socket_path``."""

    def __init__(self, socket_path: str | Path, size: int = 64 << 20) -> None:
        self.socket_path = str(socket_path)
        self.size = max(MIN_SEGMENT_SIZE, (size + 4095) // 4096 * 4096)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._fd = -1
        self._map: mmap.mmap | None = None
        self.writer: SegmentWriter | None = None

    def start(self) -> SegmentServer:
        self._new_segment()
        self._bind()
        self._thread = threading.Thread(target=self._serve, name="segment-server", daemon=True)
        self._thread.start()
        return self

    def publish(self, snapshot: Snapshot) -> None:
        """Show ``snapshot`` to readers (in place, or a new layout and epoch)."""
        with self._lock:
            assert self.writer is not None, "server not started"
            self.writer.write(snapshot)

    def load_image(self, image: bytes) -> None:
        """Show a raw copy of a segment (e.g. one taken from a live VPP), as is.

        Pointers in it stay relative to the ``base`` its header names, so any
        reader decodes it as it would the original. Later :meth:`publish`
        calls lay the segment out afresh."""
        with self._lock:
            assert self.writer is not None and self._map is not None, "server not started"
            if len(image) > self.size:
                raise ValueError(
                    f"image of {len(image)} bytes exceeds the {self.size}-byte segment"
                )
            self._map[: len(image)] = image
            self._map[len(image) :] = bytes(self.size - len(image))
            self.writer.buf.release()
            self.writer = SegmentWriter(self._map)

    def restart(self) -> None:
        """Behave like a restarted VPP: new segment, new socket inode."""
        with self._lock:
            self._new_segment()
            self._bind()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._close_listener()
            self._release_segment()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SegmentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _new_segment(self) -> None:
        self._release_segment()
        self._fd = os.memfd_create("vppcomp-stat-segment", os.MFD_CLOEXEC)
        os.ftruncate(self._fd, self.size)
        self._map = mmap.mmap(self._fd, self.size, mmap.MAP_SHARED)
        self.writer = SegmentWriter(self._map)

    def _release_segment(self) -> None:
        if self.writer is not None:
            self.writer.buf.release()
            self.writer = None
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _bind(self) -> None:
        self._close_listener()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(self.socket_path)
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)

    def _serve(self) -> None:
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with conn, self._lock:
                if self._fd < 0:
                    continue
                try:
                    conn.sendmsg(
                        [b""],
                        [(socket.SOL_SOCKET, socket.SCM_RIGHTS, self._fd.to_bytes(4, "little"))],
                    )
                except OSError as error:
                    log.debug("client left before the segment was sent: %s", error)


def replay(
    server: SegmentServer,
    frames: Iterable[Frame],
    *,
    speed: float = 1.0,
    stop: threading.Event | None = None,
) -> int:
    """Publish ``frames`` on ``server`` at their recorded pace (``speed`` x
    faster; 0 means as fast as possible). Returns the frames published."""
    stop = stop or threading.Event()
    published = 0
    instance: int | None = None
    started = time.monotonic()
    first_t: float | None = None
    for frame in frames:
        if stop.is_set():
            break
        if first_t is None:
            first_t = frame.snapshot.taken_at
        if speed > 0:
            due = started + (frame.snapshot.taken_at - first_t) / speed
            if stop.wait(max(0.0, due - time.monotonic())):
                break
        if instance is not None and frame.instance != instance:
            server.restart()
        instance = frame.instance
        server.publish(frame.snapshot)
        published += 1
    return published
