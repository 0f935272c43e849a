"""The ``vppcomp`` command: one subcommand per job, each with its own --help.

Each command module exposes ``register(subparsers)``, which adds its parsers
and sets ``handler`` (a callable taking the parsed namespace and returning an
exit status). This module only parses arguments and dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from vppcomp import __version__

COMMAND_MODULES = (
    "vppcomp.statseg.commands",
    "vppcomp.topology.commands",
    "vppcomp.exporter.web.commands",
    "vppcomp.exporter.shipper.commands",
    "vppcomp.demo.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vppcomp",
        description="IPComp offload for FD.io VPP and the telemetry that watches it.",
    )
    parser.add_argument("--version", action="version", version=f"vppcomp {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
