"""README.md keeps its promises: its pictures and links exist, and every
command in it is run by a test or by CI, except the Docker commands, which
it says are not run here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# pictures made by another issue's work; checked once they exist
NOT_RUN_SECTION = "## The stack in Docker"


def commands() -> list[tuple[str, str]]:
    """(section title, command) for every command line in README.md: 4-space
    indented lines and lines of fenced ``sh`` blocks."""
    found = []
    section = ""
    fenced = False
    for line in README.splitlines():
        if line.startswith("## "):
            section = line
        if line.startswith("```"):
            fenced = line.strip() == "```sh" and not fenced
            continue
        if fenced or (line.startswith("    ") and not line.startswith("     ")):
            command = line.split("#", 1)[0].strip()
            if command:
                found.append((section, command))
    return found


def test_every_command_is_run_by_a_test_or_ci() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    listed = commands()
    assert ("## Two commands (Debian 12)", "scripts/demo") in listed
    for section, command in listed:
        if section == NOT_RUN_SECTION:
            continue
        script = re.fullmatch(r"scripts/(\w+)", command.split()[0])
        assert script is not None, f"{command!r}: not a script this suite can run"
        name = script[1]
        run_by_ci = f"scripts/{name}" in ci
        run_by_test = f'"scripts" / "{name}"' in tests or f"scripts/{name}" in tests
        assert run_by_ci or run_by_test, f"{command!r} is run by nothing"


def test_the_docker_section_says_it_is_not_run() -> None:
    section = README.split(NOT_RUN_SECTION, 1)[1].split("\n## ", 1)[0]
    assert "not run" in section
    assert "docker compose up" in section


def test_pictures_and_links_exist() -> None:
    targets = re.findall(r"\]\(([^)#:]+)\)", README)
    assert any(t.endswith(".png") for t in targets)
    for target in targets:
        assert (ROOT / target).exists(), target
    for component in ("plugin", "statseg", "exporter", "topology"):
        assert f"({component}/README.md)" in README, component
