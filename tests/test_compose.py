"""docker-compose.yml is checked, not run, here (no Docker engine): Debian's
``docker-compose config`` validates it, and these tests check what the file
promises: pinned images, start order by health, loopback-only ports, named
volumes, no secrets, every referenced file present, and the same VPP set-up
and Prometheus rules as scripts/demo."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from vppcomp.cli import build_parser
from vppcomp.demo import ends, services

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ONE_SHOT = {"traffic", "kibana-import"}
# paths another issue creates; checked once they exist


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("no docker-compose (scripts/setup installs Debian's)")
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text().replace("PASSWORD=", "PASSWORD=x"))
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "--env-file", str(env), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_without_the_password_compose_refuses(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("no docker-compose (scripts/setup installs Debian's)")
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "--env-file", str(env), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0 and "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" in service:
            assert service["build"].get("target"), name
            continue
        assert re.fullmatch(r"[\w./-]+:v?\d+(\.\d+)+", image), f"{name}: {image!r} not pinned"


def test_fdio_release_is_at_least_26_06() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    version = re.search(r"^ARG VPP_VERSION=(\d+)\.(\d+)-release$", dockerfile, re.MULTILINE)
    assert version is not None and (int(version[1]), int(version[2])) >= (26, 6)
    assert "packagecloud.io/fdio/release" in dockerfile
    for package in ("vpp", "vpp-plugin-core", "vpp-dev"):
        assert f"{package}=${{VPP_VERSION}}" in dockerfile, package
    assert not re.search(r"git clone|make build|vpp\.git", dockerfile), "VPP built from source"


def test_ports_bound_to_loopback(compose: dict[str, Any]) -> None:
    seen = 0
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
            seen += 1
    assert seen >= 6


def test_start_order_by_health(compose: dict[str, Any]) -> None:
    services_ = compose["services"]
    for name, service in services_.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for other, condition in depends.items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {other}"
            assert services_[other]["healthcheck"].get("test"), f"{other} has no check"
        if name not in ONE_SHOT:
            assert service.get("healthcheck", {}).get("test") or name == "shipper", name
    assert set(services_["prometheus"]["depends_on"]) == {"exporter-west", "exporter-east"}


def test_named_volumes_and_files_exist(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} not declared"
    for line in (ROOT / "deploy" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile: {source} missing"


def test_no_secrets_in_the_file(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), f"{name}: {key}"
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (ROOT / ".env.example").read_text()
    for variable in required | set(re.findall(r"\$\{(\w+):-", text)):
        assert re.search(rf"^{variable}=", example, re.MULTILINE), variable
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_containers_run_the_demo_set_up(compose: dict[str, Any]) -> None:
    """The VPP containers load the demo's plugins and run the very scripts
    vppcomp demo runs."""
    startup = (ROOT / "deploy" / "vpp" / "startup.conf").read_text()
    enabled = set(re.findall(r"plugin (\w+)_plugin\.so \{ enable \}", startup))
    assert enabled == set(ends.PLUGINS)
    assert "exec /run/vpp/setup.cli" in startup
    entrypoint = (ROOT / "deploy" / "vpp" / "entrypoint.sh").read_text()
    assert "/etc/vpp/demo/${VPP_END}.cli" in entrypoint
    traffic = " ".join(compose["services"]["traffic"]["command"])
    for end in ends.ENDS:
        assert f"/etc/vpp/demo/{end}-traffic.cli" in traffic
        assert compose["services"][f"vpp-{end}"]["environment"]["VPP_END"] == end


def test_compose_prometheus_loads_the_demo_rules() -> None:
    config = yaml.safe_load((services.PROMETHEUS_DIR / "prometheus.yml").read_text())
    globs = config["rule_files"]  # relative to the config file's folder
    found = {
        p.relative_to(services.PROMETHEUS_DIR).as_posix()
        for p in services.PROMETHEUS_DIR.rglob("*.y*ml")
        if any(fnmatch.fnmatch(p.relative_to(services.PROMETHEUS_DIR).as_posix(), g) for g in globs)
    }
    demo = {p.relative_to(services.PROMETHEUS_DIR).as_posix() for p in services.rule_files()}
    assert found == demo
    promtool = shutil.which("promtool")
    if promtool:
        result = subprocess.run(
            [
                promtool,
                "check",
                "config",
                "--syntax-only",
                str(services.PROMETHEUS_DIR / "prometheus.yml"),
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_vppcomp_commands_parse(compose: dict[str, Any]) -> None:
    """Every service of the vppcomp image runs a command this vppcomp accepts."""
    parser = build_parser()
    commands = {
        name: service["command"]
        for name, service in compose["services"].items()
        if service.get("build", {}).get("target") == "vppcomp"
    }
    assert set(commands) == {"exporter-west", "exporter-east", "shipper"}
    for name, command in commands.items():
        args = parser.parse_args(command)
        assert args.handler, name


def test_container_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("no shellcheck (scripts/setup installs Debian's)")
    scripts = sorted((ROOT / "deploy").rglob("*.sh"))
    assert len(scripts) == 2, scripts
    result = subprocess.run(
        [shellcheck, *map(str, scripts), str(ROOT / "scripts" / "demo")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
