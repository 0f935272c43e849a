"""Shared fixtures: the VPP install to test against, and live instances.

Every test that needs a VPP (one that uses the ``vpp_prefix`` fixture, directly
or through another fixture) is marked ``live``. The end of the terminal
summary says how many live tests ran, passed, failed and were skipped, and
against which VPP. With ``--require-live`` (what ``scripts/test`` passes for a
full run) a session that found a VPP but ran no live test fails.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from vppcomp.demo.vpp_process import VppInstance
from vppcomp.demo.vpp_process import vpp_prefix as find_vpp_prefix

DATA = Path(__file__).parent / "data"

_live_ids: set[str] = set()
_live_outcomes: dict[str, str] = {}  # nodeid -> passed | skipped | failed
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-live",
        action="store_true",
        help="fail the session when a VPP is found but no live test runs",
    )
    parser.addoption(
        "--live-summary",
        metavar="PATH",
        help="also write the live-tier summary line to PATH",
    )


@pytest.hookimpl(tryfirst=True)  # before -m selects on the marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "vpp_prefix" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)
            _live_ids.add(item.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """One outcome per live test, the worst of its phases: a failed setup or
    teardown counts as failed, a skip in setup as skipped."""
    if report.nodeid not in _live_ids:
        return
    if report.when != "call" and report.outcome == "passed":
        return
    previous = _live_outcomes.get(report.nodeid)
    if previous is None or _RANK[report.outcome] > _RANK[previous]:
        _live_outcomes[report.nodeid] = report.outcome


def live_tally() -> dict[str, int]:
    """Live tests of this session by outcome: ran (passed or failed), passed,
    failed, skipped."""
    by_outcome = Counter(_live_outcomes.values())
    passed, failed = by_outcome["passed"], by_outcome["failed"]
    return {
        "ran": passed + failed,
        "passed": passed,
        "failed": failed,
        "skipped": by_outcome["skipped"],
    }


def vpp_version(prefix: Path) -> str:
    """First line of ``vpp --version`` of the install at ``prefix``."""
    try:
        result = subprocess.run(
            [str(prefix / "bin" / "vpp"), "--version"], capture_output=True, text=True, timeout=30
        )
    except OSError as error:
        return f"(vpp --version failed: {error})"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else f"(vpp --version exited {result.returncode})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not session.config.getoption("--require-live") or find_vpp_prefix() is None:
        return
    if live_tally()["ran"] == 0 and exitstatus in (0, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    prefix = find_vpp_prefix()
    tally = live_tally()
    counts = ", ".join(f"{n} {what}" for what, n in tally.items())
    if prefix is None:
        against = "no VPP (set VPP_PREFIX, install to /opt/vpp or put vpp on PATH)"
    else:
        against = f"{vpp_version(prefix)} at {prefix}"
    lines = [f"live tests: {counts}; against {against}"]
    if (
        prefix is not None
        and tally["ran"] == 0
        and terminalreporter.config.getoption("--require-live")
    ):
        lines.append("live tests: a VPP was found but no live test ran")
    terminalreporter.write_sep("-", "live tier")
    for line in lines:
        terminalreporter.write_line(line)
    path = terminalreporter.config.getoption("--live-summary")
    if path:
        Path(path).write_text("".join(f"{line}\n" for line in lines))


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
