"""Build this repository's VPP plugin (plugin/) against an installed VPP.

``build_ipcomp_plugin(prefix)`` configures and builds plugin/ with CMake
(``find_package(VPP)`` with ``CMAKE_PREFIX_PATH=prefix``) into
``.build/plugin-<hash of prefix and source>`` and returns where the .so and
the API JSON are. Used by the live tests, the benchmarks and the demo; it
needs this repository's checkout (the source is ``plugin/`` beside this
package, or ``$IPCOMP_PLUGIN_SRC``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SRC = ROOT / "plugin"


@dataclass(frozen=True)
class PluginBuild:
    build_dir: Path
    plugin_dir: Path  # holds ipcomp_plugin.so
    api_dir: Path  # holds ipcomp.api.json only


def build_ipcomp_plugin(prefix: Path, build_dir: Path | None = None) -> PluginBuild:
    """Configure (once) and build the plugin against the VPP installed at
    ``prefix``; -j2 at most (shared machine). Raises RuntimeError with the
    build's output when a step fails."""
    prefix = Path(prefix).resolve()
    # IPCOMP_PLUGIN_SRC: build another checkout of plugin/ (e.g. a git export)
    src = Path(os.environ.get("IPCOMP_PLUGIN_SRC", PLUGIN_SRC)).resolve()
    if not (src / "CMakeLists.txt").is_file():
        raise RuntimeError(f"no plugin source at {src} (run from a checkout of vppcomp)")
    if build_dir is None:
        tag = hashlib.sha1(f"{prefix}\0{src}".encode()).hexdigest()[:8]
        build_dir = ROOT / ".build" / f"plugin-{tag}"
    build_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # vppapigen needs a python3 with ply; the system one has it
    env["PATH"] = "/usr/bin:" + env.get("PATH", "")
    if not (build_dir / "CMakeCache.txt").exists():
        cmd = [
            "cmake",
            "-S",
            str(src),
            "-B",
            str(build_dir),
            f"-DCMAKE_PREFIX_PATH={prefix}",
            f"-DCMAKE_INSTALL_PREFIX={build_dir / 'install'}",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DPython3_EXECUTABLE=/usr/bin/python3",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise RuntimeError(f"cmake configure failed:\n{result.stdout}\n{result.stderr}")
    result = subprocess.run(
        ["cmake", "--build", str(build_dir), "-j2"], capture_output=True, text=True, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"plugin build failed:\n{result.stdout[-6000:]}\n{result.stderr}")
    sos = list(build_dir.rglob("ipcomp_plugin.so"))
    api_dir = build_dir / "api"
    jsons = [p for p in build_dir.rglob("ipcomp.api.json") if p.parent != api_dir]
    if not sos or not jsons:
        raise RuntimeError(f"build produced no plugin/api json under {build_dir}")
    api_dir.mkdir(exist_ok=True)
    shutil.copy2(jsons[0], api_dir / "ipcomp.api.json")
    return PluginBuild(build_dir=build_dir, plugin_dir=sos[0].parent, api_dir=api_dir)
