"""Shared fixtures: the VPP install to test against, and live instances."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from vppcomp.demo.vpp_process import VppInstance
from vppcomp.demo.vpp_process import vpp_prefix as find_vpp_prefix

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def vpp_prefix() -> Path:
    """The VPP install prefix; skips the test when there is none."""
    prefix = find_vpp_prefix()
    if prefix is None:
        pytest.skip("no VPP: set VPP_PREFIX to an install prefix or put vpp on PATH")
    return prefix


@pytest.fixture
def vpp_factory(
    vpp_prefix: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., VppInstance]]:
    """Start VPP instances (keyword arguments as VppInstance); all are stopped
    at the end of the test."""
    started: list[VppInstance] = []

    def start(**kwargs: object) -> VppInstance:
        workdir = tmp_path_factory.mktemp("vpp")
        instance = VppInstance(workdir, vpp_prefix, **kwargs)  # type: ignore[arg-type]
        started.append(instance)
        return instance.start()

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def vpp(vpp_factory: Callable[..., VppInstance]) -> VppInstance:
    """One running VPP with the default plugins."""
    return vpp_factory()
