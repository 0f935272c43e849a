"""The demo's two VPP ends, ``west`` and ``east``: what they load and how
they are set up.

Each end's set-up and traffic is the CLI script ``deploy/vpp/<end>.cli``,
the same text the containers of docker-compose.yml run through
``unix { exec }``; ``${MEMIF_SOCKET}`` in it names the memif socket both ends
share. The two ends are joined by memif (192.168.1.0/24) with an ipcomp SA
(CPI 4660) between them; each end's packet generator feeds its pg0. West
sends compressible, incompressible and below-threshold packets and a trickle
of malformed IPComp to east; east sends compressible packets back.

This module is the one place that knows how an end is configured: a change
of the plugin's tunnel commands changes the two scripts, nothing else.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from vppcomp.demo.plugin_build import ROOT

SETUP_DIR = ROOT / "deploy" / "vpp"
ENDS = ("west", "east")
# VPP plugins each end loads besides VPP's core (tracedump: the graph diagram)
PLUGINS = ("ipcomp", "memif", "tracedump")
# stats of the SA every end has: ratio = compressed-out / compressed-in bytes
SA_STAT = "/net/ipcomp/sa/compressed-in"
CLI_ERRORS = ("unknown input", "error", "failed")


class SetupError(RuntimeError):
    """A set-up command was refused; the message names it and VPP's answer."""


def setup_commands(end: str, memif_socket: Path) -> list[str]:
    """The CLI commands of ``end``'s script with the memif socket filled in,
    comments and blank lines dropped. Raises KeyError for an unknown
    placeholder and ValueError for an unknown end."""
    if end not in ENDS:
        raise ValueError(f"no end {end!r}; ends are {', '.join(ENDS)}")
    text = Template((SETUP_DIR / f"{end}.cli").read_text())
    rendered = text.substitute(MEMIF_SOCKET=str(memif_socket))
    lines = (line.split("#", 1)[0].strip() for line in rendered.splitlines())
    return [line for line in lines if line]


def configure(vpp: Any, end: str, memif_socket: Path) -> None:
    """Run ``end``'s set-up on ``vpp`` (a VppInstance) command by command;
    raises SetupError at the first command VPP refuses."""
    for command in setup_commands(end, memif_socket):
        answer = vpp.cli(command)
        low = answer.lower()
        if any(word in low for word in CLI_ERRORS):
            raise SetupError(f"{end}: {command[:120]!r}: {answer.strip()}")
