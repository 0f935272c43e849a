"""Pages in headless Chromium (Debian ``chromium``): the DOM after scripts
ran, and a screenshot into tests/artifacts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless Chromium (apt-get install chromium)")


def run_chromium(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="topology-chromium-") as profile:
        return subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=8000",
                *extra,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": profile},
        )


def check_page_in_chromium(url: str, screenshot: str) -> None:
    """Both diagrams load in headless Chromium; a screenshot goes to tests/artifacts."""
    dom = run_chromium(url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "/topology/graph.svg?t=" in dom.stdout and "/topology/tunnels.svg?t=" in dom.stdout
    assert dom.stdout.count('data-state="loaded"') == 2, dom.stdout
    status = re.search(r'<p id="status">([^<]*)</p>', dom.stdout)
    assert status is not None and status.group(1).startswith("updated "), status
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / screenshot
    shot.unlink(missing_ok=True)
    result = run_chromium(url, f"--screenshot={shot}", "--window-size=1400,2200")
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000
