"""The Prometheus rules of dashboards/prometheus/rules/: valid for promtool,
every alert documented and labelled, and its promtool unit tests
(dashboards/prometheus/tests/) make each alert fire once and stay silent in
each benign scenario (an idle SA, a counter clear, a VPP restart)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_rules import PROMETHEUS, ROOT, RULE_FILES, alert_names, recording_names, rules

UNIT_TESTS = PROMETHEUS / "tests" / "vppcomp-alerts.test.yml"
BENIGN = ("idle SA", "counter clear", "VPP restart")
SEVERITIES = {"critical", "warning", "info"}

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (Debian package prometheus)"
)


@needs_promtool
def test_promtool_check_rules() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    result = subprocess.run(
        ["promtool", "test", "rules", str(UNIT_TESTS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_severity_and_annotations() -> None:
    runbook = (PROMETHEUS / "RUNBOOK.md").read_text()
    sections = {m.lower() for m in re.findall(r"^## (\w+)$", runbook, re.MULTILINE)}
    assert rules("alert")
    for rule in rules("alert"):
        name = rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(annotations), name
        anchor = annotations["runbook_url"].rpartition("#")[2]
        assert anchor == name.lower() and anchor in sections, name


def test_every_alert_fires_once_and_stays_silent_in_each_benign_scenario() -> None:
    """Read the promtool test file: each alert is expected to fire in some
    test (non-empty ``exp_alerts``), and in each benign scenario every alert
    is evaluated and expected silent, except VPPRestarted in the restart."""
    document = yaml.safe_load(UNIT_TESTS.read_text())
    groups = {g["name"]: g for g in document["tests"]}
    assert set(BENIGN) <= set(groups)
    fired = {
        case["alertname"]
        for group in groups.values()
        for case in group.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == alert_names(), alert_names() ^ fired
    for scenario in BENIGN:
        silent = {
            case["alertname"]
            for case in groups[scenario]["alert_rule_test"]
            if not case.get("exp_alerts")
        }
        expected = alert_names() - ({"VPPRestarted"} if scenario == "VPP restart" else set())
        assert silent == expected, (scenario, expected ^ silent)


def test_alerts_use_recording_rules_that_exist() -> None:
    """An alert that names a ``vppcomp:`` series names a recording rule."""
    for rule in rules("alert"):
        for name in re.findall(r"\bvppcomp:[a-z0-9_:]+", rule["expr"]):
            assert name in recording_names(), (rule["alert"], name)


def test_prometheus_configs_load_the_rules() -> None:
    """The compose Prometheus mounts dashboards/prometheus/ and reads its
    config from there, so ``rules/*.yml`` (relative to the config file, as
    Prometheus resolves rule_files) are the project's rule files."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules/*.yml"]
    assert sorted((PROMETHEUS / "rules").glob("*.yml"))
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["prometheus"]
    mounts = dict(m.rsplit(":", 2)[:2] for m in service["volumes"] if m.startswith("./"))
    target = mounts["./dashboards/prometheus"]
    assert f"--config.file={target}/prometheus.yml" in service["command"]


def test_drop_rule_counts_exactly_the_compress_errors_of_severity_error() -> None:
    """``vppcomp:ipcomp_drops:rate5m`` counts the compress nodes' drops: the
    reasons the plugin registers with severity ERROR, no more (``too-big``
    and ``gso`` are packets sent uncompressed, not drops) and no name the
    plugin does not have."""
    source = (ROOT / "plugin" / "ipcomp" / "ipcomp_compress_node.c").read_text()
    errors = set(re.findall(r'_ \([A-Z_]+, "([a-z-]+)", ERROR,', source))
    assert errors, "no ERROR counters found in ipcomp_compress_node.c"
    drops = next(r for r in rules("record") if r["record"] == "vppcomp:ipcomp_drops:rate5m")
    compress = re.search(
        r'node=~"ipcomp\[46\]-\(transport-\)\?compress",\s*reason=~"([^"]+)"', drops["expr"]
    )
    assert compress is not None, drops["expr"]
    assert set(compress[1].split("|")) == errors
