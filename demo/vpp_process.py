"""Start and stop real VPP instances (live tests, benchmarks, the demo).

VPP comes from ``$VPP_PREFIX`` (an install prefix with ``bin/vpp``,
``share/vpp/api``, the plugin directory and the CMake config), else from
``/opt/vpp``, else from a ``vpp`` on ``PATH`` (``/usr`` for FD.io's
packages). Each instance runs as a child process in its own session with its
own sockets under its own work directory, no hugepages, and is always
stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_PLUGINS = ("memif", "af_packet", "tap", "tracedump", "ping")
PLUGIN_DIR_PATTERNS = ("lib/vpp_plugins", "lib/*/vpp_plugins", "lib64/vpp_plugins")


#: Where a VPP built by hand is looked for when ``VPP_PREFIX`` is not set.
DEFAULT_PREFIX = Path("/opt/vpp")


def vpp_prefix() -> Path | None:
    """The VPP install prefix to test against: ``$VPP_PREFIX`` (``None`` when
    it holds no ``bin/vpp``), else ``/opt/vpp``, else the prefix of a ``vpp``
    on ``PATH`` (``/usr`` for FD.io's packages), else ``None``."""
    env = os.environ.get("VPP_PREFIX")
    if env:
        prefix = Path(env)
        return prefix if (prefix / "bin" / "vpp").is_file() else None
    if (DEFAULT_PREFIX / "bin" / "vpp").is_file():
        return DEFAULT_PREFIX
    found = shutil.which("vpp")
    return Path(found).resolve().parent.parent if found else None


def plugin_dir(prefix: Path) -> Path:
    """The directory holding VPP's own ``*_plugin.so`` under ``prefix``."""
    for pattern in PLUGIN_DIR_PATTERNS:  # no recursive walk: prefix may be /usr
        for candidate in sorted(prefix.glob(pattern)):
            return candidate
    raise FileNotFoundError(f"no vpp_plugins directory under {prefix}")


def prefix_api_dirs(prefix: Path) -> list[Path]:
    """VPP's own API JSON directories under ``prefix``."""
    base = prefix / "share" / "vpp" / "api"
    return [d for d in (base / "core", base / "plugins") if d.is_dir()]


class VppInstance:
    """One VPP process. ``cli()`` talks to it through ``vppctl``; ``api()``
    returns a connected vpp_papi client (disconnected on ``stop()``)."""

    def __init__(
        self,
        workdir: Path,
        prefix: Path,
        plugins: Sequence[str] = DEFAULT_PLUGINS,
        plugin_dirs: Sequence[Path] = (),
        api_dirs: Sequence[Path] = (),
        startup_extra: str = "",
        statseg_size: str = "64M",
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prefix = Path(prefix)
        self.plugins = list(plugins)
        self.plugin_dirs = [plugin_dir(self.prefix), *map(Path, plugin_dirs)]
        self.api_dirs = [*prefix_api_dirs(self.prefix), *map(Path, api_dirs)]
        self.startup_extra = startup_extra
        self.statseg_size = statseg_size
        self.cli_socket = self.workdir / "cli.sock"
        self.api_socket = self.workdir / "api.sock"
        self.stats_socket = self.workdir / "stats.sock"
        self.log_path = self.workdir / "vpp.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._clients: list[Any] = []

    def startup_conf(self) -> str:
        enabled = "\n".join(f"  plugin {p}_plugin.so {{ enable }}" for p in self.plugins)
        return f"""
unix {{
  nodaemon
  cli-listen {self.cli_socket}
  log {self.workdir / "vpp-internal.log"}
  poll-sleep-usec 100
  coredump-size 0
}}
socksvr {{ socket-name {self.api_socket} }}
statseg {{ socket-name {self.stats_socket} size {self.statseg_size} page-size 4K
          per-node-counters on update-interval 1 }}
memory {{ main-heap-size 512M main-heap-page-size 4K }}
buffers {{ buffers-per-numa 16384 page-size 4K }}
plugins {{
  path {":".join(str(d) for d in self.plugin_dirs)}
  plugin default {{ disable }}
{enabled}
}}
{self.startup_extra}
"""

    def start(self, timeout: float = 30.0) -> VppInstance:
        conf = self.workdir / "startup.conf"
        conf.write_text(self.startup_conf())
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            [str(self.prefix / "bin" / "vpp"), "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"VPP exited at start-up:\n{self.log_tail()}")
            ready = all(s.exists() for s in (self.cli_socket, self.api_socket, self.stats_socket))
            if ready and "vpp#" not in self._cli_raw("show version"):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"VPP did not come up in {timeout} s:\n{self.log_tail()}")

    def _cli_raw(self, command: str) -> str:
        result = subprocess.run(
            [str(self.prefix / "bin" / "vppctl"), "-s", str(self.cli_socket), command],
            capture_output=True,
            timeout=30,
        )
        return result.stdout.decode(errors="replace")

    def cli(self, command: str) -> str:
        """Run a VPP CLI command and return its text (raises if VPP is gone)."""
        if not self.alive():
            raise RuntimeError(f"VPP is not running:\n{self.log_tail()}")
        return self._cli_raw(command)

    def api(self, name: str = "vppcomp-test") -> Any:
        from vpp_papi import VPPApiClient
        from vpp_papi.vpp_papi import VPPApiJSONFiles

        files: list[str] = []
        for directory in self.api_dirs:
            files.extend(VPPApiJSONFiles.find_api_files(api_dir=str(directory)))
        client = VPPApiClient(apifiles=files, server_address=str(self.api_socket))
        client.connect(name)
        self._clients.append(client)
        return client

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.disconnect()
        self._clients.clear()
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> VppInstance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    # scripts/test asks here, so that CI and the live tests find the same VPP
    found_prefix = vpp_prefix()
    print(found_prefix or "")
