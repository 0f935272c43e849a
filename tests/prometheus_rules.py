"""The project's Prometheus rule files (dashboards/prometheus/rules/) and the
rules in them, for the rules and dashboard tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "dashboards" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))


def rules(kind: str) -> list[dict[str, Any]]:
    """Every rule of ``kind`` ("alert" or "record") in the rule files."""
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found.extend(r for r in group["rules"] if kind in r)
    return found


def alert_names() -> set[str]:
    return {r["alert"] for r in rules("alert")}


def recording_names() -> set[str]:
    return {r["record"] for r in rules("record")}
