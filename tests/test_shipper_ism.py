"""The shipper's lifecycle policy on OpenSearch clusters with Index State
Management, against ISM's API as OpenSearch 2.x documents it
(tests/elasticsearch_api.py, ``distribution="opensearch"``), talked to by
the real ``opensearch-py`` client.

The real OpenSearch node of the other tests cannot carry ISM here (its plugin
is not on Maven Central); that node shows the other branch: no ISM, no policy,
one log line (tests/test_shipper_opensearch.py)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator

import pytest
from elasticsearch_api import ElasticServer

from vppcomp.exporter.shipper import backends, templates

POLICY_PATH = f"/_plugins/_ism/policies/{templates.POLICY}"


@pytest.fixture
def cluster() -> Iterator[ElasticServer]:
    with ElasticServer(distribution="opensearch") as server:
        yield server


def ism_puts(cluster: ElasticServer) -> list[str]:
    return [r.path for r in cluster.state.requests if r.method == "PUT" and "/_ism/" in r.path]


def stored_policy(cluster: ElasticServer) -> dict:
    return cluster.state.ism[templates.POLICY]["policy"]


def test_policy_installed_once_and_attached_to_the_backing_indices(
    cluster: ElasticServer,
) -> None:
    backend = backends.connect(backends.Settings(url=cluster.url))
    assert backend.flavor == "opensearch"
    report = templates.install(backend)
    assert report.lifecycle == "ism"
    assert ism_puts(cluster) == [POLICY_PATH]  # a create names no version
    policy = stored_policy(cluster)
    assert templates.ism_policy_version(policy) == templates.TEMPLATE_VERSION
    # ISM attaches the policy to each backing index a data stream creates
    # (.ds-<stream>-<generation>), through ism_template, at a priority above
    # the built-in ones
    (attach,) = policy["ism_template"]
    for stream in ("logs-vpp.ipcomp-default", "metrics-vpp.ipcomp-edge"):
        assert any(fnmatch.fnmatch(f".ds-{stream}-000001", p) for p in attach["index_patterns"])
    assert not any(
        fnmatch.fnmatch(".ds-logs-nginx.access-default-000001", p) for p in attach["index_patterns"]
    )
    assert attach["priority"] > 100
    # OpenSearch's templates carry no ILM setting
    logs = cluster.state.component_templates["logs-vpp.ipcomp@package"]["template"]
    assert "index.lifecycle.name" not in logs.get("settings", {})
    # a second start writes nothing
    again = templates.install(backend)
    assert again.written == [] and f"ism:{templates.POLICY}" in again.kept
    assert ism_puts(cluster) == [POLICY_PATH]


def test_an_older_policy_of_ours_is_updated_naming_the_version_it_replaces(
    cluster: ElasticServer,
) -> None:
    older = templates.ism_policy()["policy"]
    older["description"] = older["description"].replace(
        f"version {templates.TEMPLATE_VERSION}", f"version {templates.TEMPLATE_VERSION - 1}"
    )
    cluster.state.ism[templates.POLICY] = {
        "policy": older,
        "seq_no": 41,
        "primary_term": 3,
        "version": 2,
    }
    report = templates.install(backends.connect(backends.Settings(url=cluster.url)))
    assert f"ism:{templates.POLICY}" in report.written
    assert ism_puts(cluster) == [f"{POLICY_PATH}?if_seq_no=41&if_primary_term=3"]
    assert templates.ism_policy_version(stored_policy(cluster)) == templates.TEMPLATE_VERSION
    assert cluster.state.ism[templates.POLICY]["version"] == 3


def test_a_policy_someone_else_wrote_is_left_alone(cluster: ElasticServer) -> None:
    theirs = {
        "description": "our own retention, hands off",
        "default_state": "keep",
        "states": [{"name": "keep", "actions": [], "transitions": []}],
    }
    cluster.state.ism[templates.POLICY] = {
        "policy": json.loads(json.dumps(theirs)),
        "seq_no": 7,
        "primary_term": 1,
        "version": 1,
    }
    report = templates.install(backends.connect(backends.Settings(url=cluster.url)))
    assert report.lifecycle == "ism"
    assert f"ism:{templates.POLICY}" in report.foreign
    assert ism_puts(cluster) == []
    assert stored_policy(cluster) == theirs
