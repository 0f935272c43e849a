"""The ipcomp plugin with its DPDK compressdev engine, for live tests and
benches: a session build in its own directory, VPPs started with a
``compressdev`` section, and small traffic helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ipcomp_traffic import BCAST, OUTER, ether, inner_packet, outer_frames
from plugin_vpp import error_counter, interface_packets, pg_replay, start_ipcomp_vpp, stats_client
from waiting import DEADLINE, wait_for

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


def wait_drained(vpp: Any, timeout: float = DEADLINE) -> str:
    """Wait until no op is on the device (or there is no device, or no
    compressdev section at all); returns the ``show ipcomp offload`` that
    said so. Fails the test after ``timeout`` s."""
    return wait_for(
        lambda: vpp.cli("show ipcomp offload"),
        lambda show: any(s in show for s in (" inflight 0", "no device", "not configured")),
        "no compressdev op in flight",
        timeout,
    )


def send_compressible(vpp: Any, n: int, name: str, outer: int = 4) -> list[bytes]:
    """``n`` compressible packets into pg0, once each of them has left pg1 or
    been dropped by the offload policy (counted): the outer frames captured
    on pg1."""
    import random

    rng = random.Random(n)
    inners = [inner_packet(4, 600, "text", i, rng) for i in range(n)]
    frames = [ether(BCAST, 0x0800, p) for p in inners]
    stats = stats_client(vpp)
    try:

        def finished() -> int:
            drops = error_counter(stats, f"ipcomp{outer}-compress", "offload-drop")
            return interface_packets(vpp, "pg1") + drops

        before = finished()
        got = pg_replay(
            vpp, name, frames, "pg0", capture={"pg1": n + 8}, until=lambda: finished() >= before + n
        )["pg1"]
    finally:
        stats.disconnect()
    return outer_frames(got, outer, OUTER[outer][0])
