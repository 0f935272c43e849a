"""The ipcomp plugin with its DPDK compressdev engine, for live tests and
benches: a session build in its own directory, VPPs started with a
``compressdev`` section, and small traffic helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ipcomp_traffic import BCAST, OUTER, ether, inner_packet, outer_frames
from plugin_vpp import pg_replay, start_ipcomp_vpp

from vppcomp.demo.plugin_build import ROOT, PluginBuild, build_ipcomp_plugin

PMD_DIR = Path("/usr/lib/x86_64-linux-gnu/dpdk")


@pytest.fixture(scope="session")
def cdev_plugin(vpp_prefix: Path) -> PluginBuild:
    """The plugin with the compressdev engine, in its own build directory."""
    return build_ipcomp_plugin(vpp_prefix, build_dir=ROOT / ".build" / "plugin-cdev")


def have_pmd(device: str) -> bool:
    driver = device.rstrip("0123456789")
    return any(PMD_DIR.rglob(f"librte_{driver}.so*"))


def cdev_conf(device: str | None, extra: str = "") -> str:
    dev = f"vdev {device}" if device else ""
    return f"ipcomp {{ compressdev {{ {dev} {extra} }} }}"


def start_cdev_vpp(
    vpp_factory: Callable[..., Any], plugin: PluginBuild, device: str | None, extra: str = ""
) -> Any:
    if device and not have_pmd(device):
        pytest.skip(f"no DPDK PMD for {device}")
    return start_ipcomp_vpp(vpp_factory, plugin, startup_extra=cdev_conf(device, extra))


def wait_drained(vpp: Any, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if " inflight 0" in vpp.cli("show ipcomp offload") or "no device" in vpp.cli(
            "show ipcomp offload"
        ):
            return
        time.sleep(0.1)


def send_compressible(vpp: Any, n: int, name: str, outer: int = 4) -> list[bytes]:
    import random

    rng = random.Random(n)
    inners = [inner_packet(4, 600, "text", i, rng) for i in range(n)]
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    got = pg_replay(vpp, name, frames, "pg0", capture={"pg1": n + 8})["pg1"]
    return outer_frames(got, outer, OUTER[outer][0])
