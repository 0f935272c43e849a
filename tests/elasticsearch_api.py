"""A loopback HTTP server that answers as Elasticsearch 8.x documents it,
for what OpenSearch does not have: the ``X-Elastic-Product`` header the 8.x/9.x
clients check, ILM, time-series data streams (no client ``_id``; the id is
derived from the dimensions and ``@timestamp``, a duplicate is a 409), and
per-item bulk failures. It keeps every request for the tests to assert on.

Only the endpoints the shipper uses exist: ``GET /``, ``GET/PUT
/_component_template/<name>``, ``/_index_template/<name>``,
``/_ilm/policy/<name>``, ``POST /_bulk`` and ``POST /<target>/_refresh``.

With ``distribution="opensearch"`` it answers as OpenSearch 2.x instead, for
the one part of OpenSearch the test node (tests/opensearch/) lacks: the
Index State Management plugin, whose artifacts are not on Maven Central.
``GET /`` names the distribution, there is no product header and no ILM, and
``GET/PUT /_plugins/_ism/policies/<id>`` behave as OpenSearch's ISM API
documents them: a create answers 201 with ``_seq_no``/``_primary_term``; an
update must name the version it replaces (``?if_seq_no=&if_primary_term=``)
or gets a 409; a missing policy is a 404 ``status_exception``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ElasticState:
    component_templates: dict[str, Any] = field(default_factory=dict)
    index_templates: dict[str, Any] = field(default_factory=dict)
    ilm: dict[str, Any] = field(default_factory=dict)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # stream -> id -> source
    requests: list[Request] = field(default_factory=list)
    #: per-item answers to give once, by document id: (status, error type)
    item_faults: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: answer the next N bulk requests with this status *after* storing them
    fail_after_write: list[int] = field(default_factory=list)
    #: answer the next N bulk requests with this status, storing nothing
    refuse_bulk: list[int] = field(default_factory=list)
    product_header: bool = True
    version: str = "8.15.0"
    distribution: str = "elasticsearch"  # or "opensearch"
    #: ISM policies (opensearch): id -> {"policy", "seq_no", "primary_term"}
    ism: dict[str, dict[str, Any]] = field(default_factory=dict)
    ism_seq_no: int = 0


def _get(doc: dict[str, Any], dotted: str) -> Any:
    node: Any = doc
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and dotted in node:
            return node[dotted]
        else:
            return None
    return node


class ElasticServer:
    """``with ElasticServer() as es: es.url ...``"""

    def __init__(self, distribution: str = "elasticsearch") -> None:
        self.state = ElasticState(distribution=distribution)
        if distribution == "opensearch":
            self.state.version = "2.19.6"
        self._lock = threading.Lock()
        state, lock = self.state, self._lock

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                if state.distribution == "opensearch":
                    self.send_header("content-type", "application/json; charset=UTF-8")
                else:
                    self.send_header(
                        "content-type", "application/vnd.elasticsearch+json;compatible-with=8"
                    )
                if state.product_header and state.distribution == "elasticsearch":
                    self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    state.requests.append(
                        Request(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    path, _, query = self.path.partition("?")
                    status, answer = route(state, self.command, path, body, query)
                wanted = urllib.parse.parse_qs(query).get("filter_path")
                if wanted and status < 400:  # error answers are never filtered
                    answer = filter_path(answer, wanted[0].split(","))
                self._answer(status, answer)

            do_GET = do_PUT = do_POST = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ElasticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bulk_requests(self) -> list[list[tuple[dict[str, Any], dict[str, Any]]]]:
        """Every ``_bulk`` body as (action, source) pairs."""
        out = []
        for r in self.state.requests:
            if r.path.split("?")[0] == "/_bulk":
                lines = [json.loads(x) for x in r.body.splitlines() if x.strip()]
                out.append(list(zip(lines[::2], lines[1::2], strict=True)))
        return out


def filter_path(answer: Any, paths: list[str]) -> Any:
    """``answer`` reduced to ``paths`` (dotted, ``*`` for any one key), as
    Elasticsearch's ``filter_path`` parameter does; lists are filtered item
    by item, and objects left empty are dropped."""

    def keep(node: Any, parts: list[list[str]]) -> Any:
        if any(not p for p in parts):
            return node  # a path ends here: the whole subtree
        if isinstance(node, list):
            kept = [keep(item, parts) for item in node]
            return [k for k in kept if k is not None]
        if not isinstance(node, dict):
            return None
        out = {}
        for key, value in node.items():
            below = [p[1:] for p in parts if p[0] in ("*", key)]
            if below and (child := keep(value, below)) not in (None, {}, []):
                out[key] = child
        return out or None

    return keep(answer, [p.split(".") for p in paths]) or {}


def _missing(kind: str, name: str) -> tuple[int, Any]:
    return 404, {
        "error": {"type": "resource_not_found_exception", "reason": f"{kind} [{name}] missing"},
        "status": 404,
    }


def route(
    state: ElasticState, method: str, path: str, body: bytes, query: str = ""
) -> tuple[int, Any]:
    parts = [p for p in path.split("/") if p]
    opensearch = state.distribution == "opensearch"
    if not parts and opensearch:
        return 200, {
            "name": "fake-opensearch",
            "cluster_name": "vppcomp-tests",
            "version": {
                "distribution": "opensearch",
                "number": state.version,
                "lucene_version": "9.12.1",
            },
            "tagline": "The OpenSearch Project: https://opensearch.org/",
        }
    if not parts:
        return 200, {
            "name": "fake-es",
            "cluster_name": "vppcomp-tests",
            "version": {
                "number": state.version,
                "build_flavor": "default",
                "lucene_version": "9.11.1",
            },
            "tagline": "You Know, for Search",
        }
    table: dict[str, tuple[dict[str, Any], str]] = {
        "_component_template": (state.component_templates, "component_templates"),
        "_index_template": (state.index_templates, "index_templates"),
    }
    if parts[0] in table and len(parts) == 2:
        store, key = table[parts[0]]
        name = parts[1]
        if method == "PUT":
            store[name] = json.loads(body)
            return 200, {"acknowledged": True}
        if name not in store:
            return _missing(parts[0], name)
        inner = "component_template" if key == "component_templates" else "index_template"
        return 200, {key: [{"name": name, inner: store[name]}]}
    if opensearch and parts[:3] == ["_plugins", "_ism", "policies"] and len(parts) == 4:
        return _ism(state, method, parts[3], body, urllib.parse.parse_qs(query))
    if not opensearch and parts[:2] == ["_ilm", "policy"] and len(parts) == 3:
        name = parts[2]
        if method == "PUT":
            state.ilm[name] = json.loads(body)["policy"]
            return 200, {"acknowledged": True}
        if name not in state.ilm:
            return _missing("policy", name)
        return 200, {name: {"version": 1, "policy": state.ilm[name]}}
    if parts == ["_bulk"] and method in ("POST", "PUT"):
        return _bulk(state, body)
    if len(parts) == 2 and parts[1] == "_refresh":
        return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
    return 400, {
        "error": {
            "type": "illegal_argument_exception",
            "reason": f"no handler for {method} {path}",
        },
        "status": 400,
    }


def _ism(
    state: ElasticState, method: str, policy_id: str, body: bytes, query: dict[str, list[str]]
) -> tuple[int, Any]:
    """``GET/PUT /_plugins/_ism/policies/<id>`` as OpenSearch 2.x documents them."""
    current = state.ism.get(policy_id)
    if method == "GET":
        if current is None:
            reason = {"type": "status_exception", "reason": "Policy not found"}
            return 404, {"error": {"root_cause": [reason], **reason}, "status": 404}
        return 200, _ism_answer(policy_id, current)
    wanted = (query.get("if_seq_no", [None])[0], query.get("if_primary_term", [None])[0])
    if current is not None and wanted != (str(current["seq_no"]), str(current["primary_term"])):
        reason = {
            "type": "version_conflict_engine_exception",
            "reason": f"[{policy_id}]: version conflict, required seqNo [{wanted[0]}]",
        }
        return 409, {"error": {"root_cause": [reason], **reason}, "status": 409}
    policy = json.loads(body)["policy"]
    state.ism_seq_no += 1
    state.ism[policy_id] = {
        "policy": {"policy_id": policy_id, **policy},
        "seq_no": state.ism_seq_no,
        "primary_term": 1,
        "version": 1 if current is None else current["version"] + 1,
    }
    answer = _ism_answer(policy_id, state.ism[policy_id])
    return (201 if current is None else 200), {**answer, "policy": {"policy": answer["policy"]}}


def _ism_answer(policy_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": policy_id,
        "_version": stored["version"],
        "_seq_no": stored["seq_no"],
        "_primary_term": stored["primary_term"],
        "policy": stored["policy"],
    }


def _settings_of(state: ElasticState, stream: str) -> dict[str, Any]:
    """The merged settings of the index template matching ``stream``, and
    under ``"dimensions"`` its mapped time-series dimensions."""
    best = None
    for template in state.index_templates.values():
        matches = any(fnmatch.fnmatch(stream, p) for p in template.get("index_patterns", []))
        if matches and (best is None or template.get("priority", 0) > best.get("priority", 0)):
            best = template
    settings: dict[str, Any] = {"dimensions": []}
    for name in (best or {}).get("composed_of", []):
        template = state.component_templates.get(name, {}).get("template", {})
        settings.update(template.get("settings", {}))
        settings["dimensions"] += _dimension_paths(
            template.get("mappings", {}).get("properties", {})
        )
    return settings


def _dimension_paths(properties: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for name, mapping in properties.items():
        if "properties" in mapping:
            paths += _dimension_paths(mapping["properties"], f"{prefix}{name}.")
        elif mapping.get("time_series_dimension"):
            paths.append(prefix + name)
    return paths


def _bulk(state: ElasticState, body: bytes) -> tuple[int, Any]:
    if state.refuse_bulk:
        status = state.refuse_bulk.pop(0)
        return status, {
            "error": {"type": "security_exception", "reason": "injected"},
            "status": status,
        }
    lines = [json.loads(x) for x in body.splitlines() if x.strip()]
    items = []
    errors = False
    for action, source in zip(lines[::2], lines[1::2], strict=True):
        ((op, meta),) = action.items()
        stream = meta["_index"]
        settings = _settings_of(state, stream)
        time_series = settings.get("index.mode") == "time_series"
        doc_id = meta.get("_id")
        status, error = 201, None
        if op != "create":
            status, error = (
                400,
                (
                    "illegal_argument_exception",
                    "only write ops with an op_type of create are allowed in data streams",
                ),
            )
        elif time_series and doc_id is not None:
            status, error = (
                400,
                (
                    "illegal_argument_exception",
                    f"_id must be unset or set to [...] but was [{doc_id}] because "
                    f"[{stream}] is in time_series mode",
                ),
            )
        else:
            if time_series:
                dims = [_get(source, p) for p in settings["dimensions"]]
                key = json.dumps([dims, source.get("@timestamp")])
                doc_id = hashlib.sha1(key.encode()).hexdigest()[:20]
            fault = state.item_faults.pop(str(doc_id), None)
            if fault is not None:
                status, error = fault[0], (fault[1], f"injected {fault[1]}")
            elif doc_id in state.docs.setdefault(stream, {}):
                status, error = (
                    409,
                    (
                        "version_conflict_engine_exception",
                        f"[{doc_id}]: version conflict, document already exists",
                    ),
                )
            else:
                state.docs[stream][str(doc_id)] = source
        item: dict[str, Any] = {"_index": f".ds-{stream}-000001", "_id": doc_id, "status": status}
        if error:
            errors = True
            item["error"] = {"type": error[0], "reason": error[1]}
        else:
            item["result"] = "created"
        items.append({op: item})
    if state.fail_after_write:
        return state.fail_after_write.pop(0), {"error": "injected after write", "status": 502}
    return 200, {"took": 1, "errors": errors, "items": items}
