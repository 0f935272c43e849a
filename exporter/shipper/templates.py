"""Component and index templates and the lifecycle policy, installed idempotently.

Per stream (``logs-vpp.ipcomp``, ``metrics-vpp.ipcomp``):

* component template ``<stream>@package``: the explicit mappings of every
  field in :mod:`.fields` (``dynamic: false``: an unknown field is kept in
  ``_source`` and not indexed), and for the metrics stream on Elasticsearch
  >= 8.7 time-series mode (dimensions, ``time_series_metric``);
* component template ``<stream>@custom``: created empty when missing and
  never written again, for the operator's own settings;
* index template ``<stream>``: ``data_stream: {}``, ``index_patterns``
  ``<stream>-*``, priority 200 (above the built-in ``logs-*-*`` and
  ``metrics-*-*`` at 100), composed of the two.

Every template the shipper writes carries ``version`` and
``_meta.managed_by: vppcomp``. :func:`install` writes a template only when it
is missing, or managed by vppcomp with a lower version; one whose
``_meta.managed_by`` is something else (an operator replaced it) is left
alone, with a log line. Lifecycle: an ILM policy ``vpp.ipcomp`` on
Elasticsearch, an ISM policy on OpenSearch where the ISM plugin answers,
else a log line saying that no lifecycle is managed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

from vppcomp.exporter.shipper.documents import DATASET
from vppcomp.exporter.shipper.fields import LOG_FIELDS, METRIC_FIELDS, Field

log = logging.getLogger(__name__)

#: bump when a template or policy body changes: installed older versions are upgraded
TEMPLATE_VERSION = 1
PRIORITY = 200
MANAGED_BY = "vppcomp"
POLICY = DATASET
META = {"managed_by": MANAGED_BY, "package": DATASET}

#: Elasticsearch types OpenSearch 2.x may lack, and what stands in for them there
OPENSEARCH_TYPES = {"constant_keyword": "keyword", "match_only_text": "text"}


class Cluster(Protocol):
    """What installing needs from a backend."""

    flavor: str  # "elasticsearch" | "opensearch"

    @property
    def tsds(self) -> bool: ...

    def get(self, path: str) -> dict[str, Any] | None: ...

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...


def mappings(fields: list[Field], flavor: str, tsds: bool) -> dict[str, Any]:
    """``{"dynamic": false, "properties": ...}`` for ``fields``."""
    properties: dict[str, Any] = {}
    for f in fields:
        node = properties
        *parents, leaf = f.name.split(".")
        for part in parents:
            node = node.setdefault(part, {"properties": {}})["properties"]
        kind = OPENSEARCH_TYPES.get(f.type, f.type) if flavor == "opensearch" else f.type
        mapping: dict[str, Any] = {"type": kind}
        if tsds and f.dimension:
            mapping["time_series_dimension"] = True
        if tsds and f.metric_type:
            mapping["time_series_metric"] = f.metric_type
        node[leaf] = mapping
    return {"dynamic": False, "properties": properties}


def routing_path(fields: list[Field]) -> list[str]:
    """Keyword dimensions: what a time-series index routes on."""
    return [f.name for f in fields if f.dimension and f.type == "keyword"]


@dataclass(frozen=True)
class StreamTemplates:
    """The three templates of one stream."""

    stream: str  # e.g. logs-vpp.ipcomp
    package: dict[str, Any]
    custom: dict[str, Any]
    index: dict[str, Any]


def stream_templates(kind: str, flavor: str, tsds: bool, lifecycle: bool) -> StreamTemplates:
    """Templates for ``kind`` ("logs" or "metrics")."""
    stream = f"{kind}-{DATASET}"
    fields = LOG_FIELDS if kind == "logs" else METRIC_FIELDS
    time_series = tsds and kind == "metrics"
    settings: dict[str, Any] = {}
    if time_series:
        settings["index.mode"] = "time_series"
        settings["index.routing_path"] = routing_path(fields)
    if lifecycle and flavor == "elasticsearch":
        settings["index.lifecycle.name"] = POLICY
    template: dict[str, Any] = {"mappings": mappings(fields, flavor, time_series)}
    if settings:
        template["settings"] = settings
    package = {"template": template, "version": TEMPLATE_VERSION, "_meta": META}
    index = {
        "index_patterns": [f"{stream}-*"],
        "data_stream": {},
        "priority": PRIORITY,
        "composed_of": [f"{stream}@package", f"{stream}@custom"],
        "version": TEMPLATE_VERSION,
        "_meta": META,
    }
    custom = {"template": {"settings": {}}, "_meta": {"description": "for your own settings"}}
    return StreamTemplates(stream, package, custom, index)


def ilm_policy() -> dict[str, Any]:
    """Roll over at 30 days or 50 GB per primary shard; delete after 90 days."""
    return {
        "policy": {
            "_meta": {**META, "version": TEMPLATE_VERSION},
            "phases": {
                "hot": {
                    "actions": {"rollover": {"max_age": "30d", "max_primary_shard_size": "50gb"}}
                },
                "delete": {"min_age": "90d", "actions": {"delete": {}}},
            },
        }
    }


#: ISM policies have no ``_meta``: ours say who manages them, and which
#: version, in their description
_ISM_MANAGED = re.compile(rf"\(managed by {MANAGED_BY}, version (\d+)\)")


def ism_policy_version(policy: dict[str, Any]) -> int | None:
    """The version of an ISM policy this shipper wrote; ``None`` for a
    policy someone else wrote (left alone)."""
    match = _ISM_MANAGED.search(str(policy.get("description") or ""))
    return int(match[1]) if match else None


def ism_policy() -> dict[str, Any]:
    """The same lifecycle in OpenSearch's ISM, applied to the backing indices
    (``.ds-<stream>-<generation>``) by its ``ism_template`` as they are
    created."""
    return {
        "policy": {
            "description": f"{DATASET} (managed by {MANAGED_BY}, version {TEMPLATE_VERSION})",
            "default_state": "hot",
            "states": [
                {
                    "name": "hot",
                    "actions": [
                        {"rollover": {"min_index_age": "30d", "min_primary_shard_size": "50gb"}}
                    ],
                    "transitions": [
                        {"state_name": "delete", "conditions": {"min_index_age": "90d"}}
                    ],
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [
                {
                    "index_patterns": [f".ds-logs-{DATASET}-*", f".ds-metrics-{DATASET}-*"],
                    "priority": PRIORITY,
                }
            ],
        }
    }


@dataclass
class InstallReport:
    """What :func:`install` did, by template or policy name."""

    written: list[str]
    kept: list[str]
    foreign: list[str]
    lifecycle: str  # "ilm" | "ism" | "none"


def _installed(found: dict[str, Any] | None, key: str, name: str) -> dict[str, Any] | None:
    """The body of template ``name`` out of a GET answer."""
    if not found:
        return None
    for item in found.get(key, []):
        if item.get("name") == name:
            body = item.get("component_template") or item.get("index_template")
            return body if isinstance(body, dict) else None
    return None


def _should_write(current: dict[str, Any] | None, report: InstallReport, name: str) -> bool:
    if current is None:
        return True
    meta = current.get("_meta") or {}
    if meta.get("managed_by") != MANAGED_BY:
        report.foreign.append(name)
        log.warning("template %s is not managed by vppcomp (no _meta.managed_by): left as is", name)
        return False
    if int(current.get("version") or 0) >= TEMPLATE_VERSION:
        report.kept.append(name)
        return False
    return True


def install(cluster: Cluster, lifecycle: bool = True) -> InstallReport:
    """Install the policy and the templates of both streams (see module docstring)."""
    report = InstallReport([], [], [], "none")
    if lifecycle:
        report.lifecycle = _install_lifecycle(cluster, report)
    for kind in ("logs", "metrics"):
        templates = stream_templates(kind, cluster.flavor, cluster.tsds, report.lifecycle == "ilm")
        for suffix, body in (("@package", templates.package), ("@custom", templates.custom)):
            name = templates.stream + suffix
            path = f"/_component_template/{name}"
            current = _installed(cluster.get(path), "component_templates", name)
            if suffix == "@custom":
                if current is None:
                    cluster.put(path, body)
                    report.written.append(name)
                continue
            if _should_write(current, report, name):
                cluster.put(path, body)
                report.written.append(name)
        name = templates.stream
        path = f"/_index_template/{name}"
        current = _installed(cluster.get(path), "index_templates", name)
        if _should_write(current, report, name):
            cluster.put(path, templates.index)
            report.written.append(name)
    log.info(
        "templates: written %s, unchanged %s, left alone %s; lifecycle %s",
        report.written or "none",
        report.kept or "none",
        report.foreign or "none",
        report.lifecycle,
    )
    return report


def _install_lifecycle(cluster: Cluster, report: InstallReport) -> str:
    if cluster.flavor == "elasticsearch":
        path = f"/_ilm/policy/{POLICY}"
        current = (cluster.get(path) or {}).get(POLICY, {}).get("policy")
        meta = (current or {}).get("_meta") or {}
        if current is not None and meta.get("managed_by") != MANAGED_BY:
            report.foreign.append(f"ilm:{POLICY}")
        elif current is None or int(meta.get("version") or 0) < TEMPLATE_VERSION:
            cluster.put(path, ilm_policy())
            report.written.append(f"ilm:{POLICY}")
        else:
            report.kept.append(f"ilm:{POLICY}")
        return "ilm"
    path = f"/_plugins/_ism/policies/{POLICY}"
    try:
        current = cluster.get(path)
    except LookupError:
        log.info("no lifecycle managed: this OpenSearch cluster has no ISM plugin")
        return "none"
    version = ism_policy_version(current["policy"]) if current else None
    if current is None:
        cluster.put(path, ism_policy())
        report.written.append(f"ism:{POLICY}")
    elif version is None:
        report.foreign.append(f"ism:{POLICY}")
    elif version < TEMPLATE_VERSION:
        # ISM refuses an update that does not name the version it replaces
        cluster.put(
            f"{path}?if_seq_no={current['_seq_no']}&if_primary_term={current['_primary_term']}",
            ism_policy(),
        )
        report.written.append(f"ism:{POLICY}")
    else:
        report.kept.append(f"ism:{POLICY}")
    return "ism"
