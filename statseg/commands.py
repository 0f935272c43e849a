"""``vppcomp record`` and ``vppcomp replay``."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from vppcomp.statseg.client import DEFAULT_SOCKET, StatsClient
from vppcomp.statseg.recording import read_frames
from vppcomp.statseg.replay import SegmentServer, replay
from vppcomp.statseg.writer import SegmentWriter

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    rec = subparsers.add_parser(
        "record",
        help="sample a live stats segment into a recording file",
        description="Sample VPP's stats segment at an interval for a duration into a "
        "compact recording (format: vppcomp.statseg.recording).",
    )
    rec.add_argument("output", help="recording file to write")
    rec.add_argument("--stats-socket", default=DEFAULT_SOCKET, help="VPP stats socket")
    rec.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    rec.add_argument("--duration", type=float, default=60.0, help="seconds to record")
    rec.set_defaults(handler=_record)

    rep = subparsers.add_parser(
        "replay",
        help="serve a recording as a live stats segment on a unix socket",
        description="Serve a recording in VPP's v2 segment layout through a stats socket, "
        "stepping through it in recorded time, so that VPP's and this project's "
        "clients read it as if VPP were there.",
    )
    rep.add_argument("recording", help="recording file made by 'vppcomp record'")
    rep.add_argument("--socket", required=True, help="unix socket path to serve on")
    rep.add_argument("--speed", type=float, default=1.0, help="time factor; 0 = no pauses")
    rep.add_argument("--loop", action="store_true", help="start over at the end")
    rep.set_defaults(handler=_replay)


def _record(args: argparse.Namespace) -> int:
    from vppcomp.statseg.recording import record

    with StatsClient(args.stats_socket) as client:
        frames = record(
            client,
            args.output,
            interval=args.interval,
            duration=args.duration,
            source=args.stats_socket,
        )
    log.info("wrote %d frames to %s", frames, args.output)
    return 0 if frames else 1


def _replay(args: argparse.Namespace) -> int:
    size = max(SegmentWriter.required_size(f.snapshot) for f in read_frames(args.recording))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SegmentServer(args.socket, size * 2) as server:
        log.info("serving %s on %s", args.recording, args.socket)
        while not stop.is_set():
            replay(server, read_frames(args.recording), speed=args.speed, stop=stop)
            if not args.loop:
                stop.wait()
    return 0
