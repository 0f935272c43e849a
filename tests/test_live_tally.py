"""The live-tier tally of tests/conftest.py that scripts/test relies on: the
summary line, and ``--require-live`` failing a run that found a VPP but ran
no live test. Each case is a real pytest run in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = "tests/test_statseg.py::test_symlinks_resolve_to_target_columns"
LIVE = "tests/test_statseg_live.py::test_restart_of_real_vpp_is_seen"


def run_pytest(prefix: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "VPP_PREFIX": str(prefix)},
        cwd=ROOT,
        timeout=300,
    )


def test_a_vpp_and_no_live_test_fails_the_run(vpp_prefix: Path) -> None:
    result = run_pytest(vpp_prefix, "--require-live", OFFLINE)
    assert result.returncode == 1, result.stdout
    assert "live tests: 0 ran, 0 passed, 0 failed, 0 skipped; against vpp " in result.stdout
    assert "a VPP was found but no live test ran" in result.stdout


def test_live_tests_are_counted_with_the_vpp_version(vpp_prefix: Path) -> None:
    result = run_pytest(vpp_prefix, "--require-live", OFFLINE, LIVE)
    assert result.returncode == 0, result.stdout
    version = subprocess.run(
        [str(vpp_prefix / "bin" / "vpp"), "--version"], capture_output=True, text=True
    ).stdout.splitlines()[0]
    assert f"live tests: 1 ran, 1 passed, 0 failed, 0 skipped; against {version}" in result.stdout


def test_without_a_vpp_live_tests_skip_and_the_run_passes(tmp_path: Path) -> None:
    result = run_pytest(tmp_path / "no-vpp-here", "--require-live", OFFLINE, LIVE)
    assert result.returncode == 0, result.stdout
    assert "live tests: 0 ran, 0 passed, 0 failed, 1 skipped; against no VPP" in result.stdout
