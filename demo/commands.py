"""``vppcomp demo``: the whole stack on this machine (the README's ``scripts/demo``).

Live with two VPPs when one is found, else a replay of a recording of the
same set-up (:mod:`vppcomp.demo.stack`); ``--record DIR`` makes such a
recording (:mod:`vppcomp.demo.record`). Runs until Ctrl-C (SIGINT) or
SIGTERM, then stops everything it started. Exit status 0 after a stop on
request, 1 when the stack could not start or a part of it died.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from vppcomp.demo.processes import Interrupted
from vppcomp.demo.stack import DEFAULT_ES_URL, RECORDING_DIR, DemoConfig, Stack, Urls

READY = "ready: Ctrl-C stops everything"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole stack here: two VPPs (or a replay), exporter, Prometheus, shipper",
        description="Start two VPPs with the ipcomp plugin and traffic (or, without VPP, "
        "replay a recording of them), the exporters with the topology page, Prometheus "
        "with the project's rules and the Elasticsearch shipper; print the URLs; stop "
        "everything on Ctrl-C.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--live", dest="mode", action="store_const", const="live")
    mode.add_argument("--replay", dest="mode", action="store_const", const="replay")
    mode.add_argument(
        "--record",
        metavar="DIR",
        type=Path,
        help="record the live set-up into DIR for replays, then exit",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="--record: how long")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--exporter-port", type=int, default=9482, help="west (east: +1)")
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument(
        "--recording",
        type=Path,
        default=RECORDING_DIR,
        help=f"recording to replay (default {RECORDING_DIR})",
    )
    parser.add_argument(
        "--es-url",
        default=os.environ.get("ES_URL", DEFAULT_ES_URL),
        help="Elasticsearch/OpenSearch URL for the shipper (ES_URL; default "
        f"{DEFAULT_ES_URL}); documents wait in the shipper's local spool while it "
        "does not answer",
    )
    parser.set_defaults(handler=_run, mode="auto")


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def print_urls(urls: Urls) -> None:
    for end, url in urls.metrics.items():
        say(f"metrics ({end}):  {url}")
    say(f"topology page:   {urls.topology}")
    say(f"Prometheus:      {urls.prometheus}")
    say(f"alerts:          {urls.alerts}")


def stop_on_signals(stopping: threading.Event) -> None:
    """SIGINT and SIGTERM set ``stopping``; they raise nothing, so no step
    of the start is cut in half (see :class:`~vppcomp.demo.stack.Stack`)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _run(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # readiness polls
    if args.record:
        from vppcomp.demo.record import record_demo

        stopping = threading.Event()
        stop_on_signals(stopping)
        try:
            record_demo(args.record, args.seconds, say, stopping)
        except Interrupted:
            print(f"vppcomp demo: interrupted; {args.record} is incomplete", file=sys.stderr)
            return 130
        except RuntimeError as error:
            print(f"vppcomp demo: {error}", file=sys.stderr)
            return 1
        return 0
    config = DemoConfig(
        mode=args.mode,
        host=args.host,
        exporter_port=args.exporter_port,
        prometheus_port=args.prometheus_port,
        recording=args.recording,
        es_url=args.es_url,
    )
    stack = Stack(config, say)
    stop_on_signals(stack.stopping)
    status = 0
    try:
        print_urls(stack.start())
        say(f"{stack.mode}: {READY}")
        while not stack.stopping.wait(1.0):
            stack.check()
        say("stopping")
    except Interrupted:
        say("stopping")
    except (RuntimeError, OSError) as error:
        print(f"vppcomp demo: {error}", file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        say("stopped; nothing left running")
    return status
