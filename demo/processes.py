"""Child processes of the demo: each in its own session with its output in a
log file, stopped with SIGTERM and, after a grace period, SIGKILL to its
whole process group, so that nothing it started outlives it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx


class ChildFailed(RuntimeError):
    """A child exited or did not become ready; the message carries its log tail."""


class Interrupted(Exception):
    """A stop was asked for (SIGINT, SIGTERM) while the demo waited for a step."""


class Child:
    """One started process (``name`` for messages, output in ``log``)."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def check(self) -> None:
        """Raise ChildFailed when the process has exited."""
        if not self.alive():
            raise ChildFailed(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def wait_http(self, url: str, timeout: float, stopping: threading.Event) -> None:
        """Wait until ``url`` answers 200; raise ChildFailed if the process
        exits or ``timeout`` s pass first, Interrupted once ``stopping`` is set."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stopping.is_set():
                raise Interrupted
            self.check()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise ChildFailed(f"{self.name}: {url} not ready in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """Stop the process group (idempotent)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)
