"""A real single-node OpenSearch from Maven Central, for the shipper's tests.

``tests/opensearch/pom.xml`` names the server (org.opensearch:opensearch),
its HTTP layer (transport-netty4-client) and log4j-core; Maven resolves them
once into ``~/.m2`` (cached; nothing is committed but the pom and the Java
source) and prints the class path, and ``java`` runs
``tests/opensearch/OpenSearchNode.java`` with it: a node on 127.0.0.1 at a
free port with its data in a temporary directory. Tests skip with one line
when ``java`` or ``mvn`` is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).parent / "opensearch"
CLASSPATH_CACHE = PROJECT / "target" / "classpath.txt"


def classpath() -> str:
    """The node's class path, resolving the pom's dependencies when needed."""
    pom = PROJECT / "pom.xml"
    if not CLASSPATH_CACHE.exists() or CLASSPATH_CACHE.stat().st_mtime < pom.stat().st_mtime:
        CLASSPATH_CACHE.parent.mkdir(exist_ok=True)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:build-classpath",
                f"-Dmdep.outputFile={CLASSPATH_CACHE}",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise RuntimeError(f"maven could not resolve OpenSearch:\n{result.stdout[-4000:]}")
    text = CLASSPATH_CACHE.read_text().strip()
    if not all(Path(p).exists() for p in text.split(":")):
        CLASSPATH_CACHE.unlink()
        return classpath()
    return text


def request(url: str, method: str = "GET", body: Any = None, timeout: float = 30) -> Any:
    """JSON over plain HTTP; raises ``urllib.error.HTTPError`` on >= 400."""
    data = None
    headers = {"accept": "application/json"}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["content-type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


class OpenSearchNode:
    """One OpenSearch process; ``start`` again after ``kill`` reuses the data."""

    def __init__(self, home: Path, heap: str = "512m") -> None:
        self.home = home
        self.heap = heap
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self._output: list[str] = []

    def start(self, timeout: float = 180.0) -> OpenSearchNode:
        """Start the node (again on the same port when it ran before)."""
        self.home.mkdir(parents=True, exist_ok=True)
        port = self.url.rsplit(":", 1)[1] if self.url else "0"
        self._output = []
        self.process = subprocess.Popen(
            [
                "java",
                f"-Xms{self.heap}",
                f"-Xmx{self.heap}",
                "-XX:+UseSerialGC",
                "-cp",
                classpath(),
                str(PROJECT / "OpenSearchNode.java"),
                str(self.home),
                port,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        found = threading.Event()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self._output.append(line)
                del self._output[:-200]
                if line.startswith("http ") and not found.is_set():
                    self.url = "http://" + line.split()[1].strip()
                    found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(timeout):
            self.stop()
            raise RuntimeError("OpenSearch did not start:\n" + "".join(self._output[-60:]))
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                request(f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=5s")
                return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL (after a SIGCONT, so that a stopped node dies too)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)

    def output(self) -> str:
        return "".join(self._output)


def _require_java() -> None:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"no {' and '.join(missing)}: the OpenSearch fixture needs Java 17 and Maven")


@pytest.fixture(scope="session")
def opensearch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSearchNode]:
    """A running OpenSearch shared by the session's tests (stopped at the end)."""
    _require_java()
    node = OpenSearchNode(tmp_path_factory.mktemp("opensearch"))
    try:
        yield node.start()
    finally:
        node.stop()


@pytest.fixture
def opensearch_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSearchNode]:
    """An OpenSearch of the test's own, for tests that stop or kill it."""
    _require_java()
    node = OpenSearchNode(
        tmp_path_factory.mktemp("opensearch-own"),
        heap=os.environ.get("VPPCOMP_TEST_OPENSEARCH_HEAP", "384m"),
    )
    try:
        yield node.start()
    finally:
        node.stop()
