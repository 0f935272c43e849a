"""The demo's two VPP ends, ``west`` and ``east``: what they load and how
they are set up.

Each end's set-up is the CLI script ``deploy/vpp/<end>.cli`` and its
traffic ``deploy/vpp/<end>-traffic.cli``: the same text the containers of
docker-compose.yml run (``unix { exec }`` and the ``traffic`` service);
``${MEMIF_SOCKET}`` in the set-up names the memif socket both ends share.
The two ends are joined by memif (192.168.1.0/24) with an ipcomp SA (CPI
4660) between them; each end's packet generator feeds its pg0. West
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


def script_commands(name: str, **values: str) -> list[str]:
    """The CLI commands of ``deploy/vpp/<name>.cli`` with ``${KEY}`` filled in
    from ``values``, comments and blank lines dropped. Raises KeyError for a
    placeholder without a value, OSError for a missing script."""
    text = Template((SETUP_DIR / f"{name}.cli").read_text()).substitute(values)
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def run_script(vpp: Any, name: str, **values: str) -> None:
    """Run a script on ``vpp`` (a VppInstance) command by command; raises
    SetupError at the first command VPP refuses."""
    for command in script_commands(name, **values):
        answer = vpp.cli(command)
        if any(word in answer.lower() for word in CLI_ERRORS):
            raise SetupError(f"{name}: {command[:120]!r}: {answer.strip()}")


def configure(vpp: Any, end: str, memif_socket: Path) -> None:
    """Set ``end`` up on ``vpp``: memif, pg0, the ipcomp SA and routes."""
    if end not in ENDS:
        raise ValueError(f"no end {end!r}; ends are {', '.join(ENDS)}")
    run_script(vpp, end, MEMIF_SOCKET=str(memif_socket))


def start_traffic(vpp: Any, end: str) -> None:
    """Start ``end``'s packet-generator streams."""
    run_script(vpp, f"{end}-traffic")
