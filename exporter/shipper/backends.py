"""The two cluster backends: Elasticsearch 8.x/9.x (``elasticsearch`` 8.x
client, which sends ``compatible-with=8``, answered by 8.x and 9.x) and
OpenSearch 2.x (``opensearch-py``). Everything but the client is shared.

:func:`connect` picks the backend from the configuration or by asking the
cluster (``GET /``: OpenSearch names itself in ``version.distribution``).

Bulk writes go through each client's ``helpers.streaming_bulk`` with
``raise_on_error=False`` and ``raise_on_exception=False`` (else a per-item
429 raises instead of being reported, and the rest of the batch is lost
from view) and ``max_retries=0``: the spool retries, in order. The
transports retry a whole request on 502/503/504 and timeouts; a resend is
harmless because every document has a deterministic id (a duplicate is a
409, counted as already delivered).
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import urllib.error
import urllib.request
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: statuses a later resend may fix: the document stays spooled
RETRIABLE = {408, 429, 500, 502, 503, 504}
TRANSPORT_RETRY_STATUS = (502, 503, 504)


class ClusterUnavailable(Exception):
    """The cluster cannot be reached or refused the request as a whole."""


@dataclass(frozen=True)
class Settings:
    """How to reach the cluster."""

    url: str
    flavor: str = "auto"  # auto | elasticsearch | opensearch
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    ca_certs: str | None = None
    verify_certs: bool = True
    timeout: float = 30.0
    transport_retries: int = 2


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one bulk item, in the order the items were given."""

    ok: bool
    status: int | None  # None: no answer for the item (connection failure)
    error_type: str | None
    error: str | None
    whole_request: bool = False  # the cluster refused the bulk request itself


def _headers(settings: Settings) -> dict[str, str]:
    headers = {"accept": "application/json"}
    if settings.api_key:
        headers["authorization"] = f"ApiKey {settings.api_key}"
    elif settings.username is not None:
        token = base64.b64encode(f"{settings.username}:{settings.password or ''}".encode())
        headers["authorization"] = f"Basic {token.decode()}"
    return headers


def probe(settings: Settings) -> dict[str, Any]:
    """``GET /`` of the cluster as plain HTTP (before choosing a client).

    Raises :class:`ClusterUnavailable`."""
    context = None
    if settings.url.startswith("https"):
        context = ssl.create_default_context(cafile=settings.ca_certs)
        if not settings.verify_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(settings.url.rstrip("/") + "/", headers=_headers(settings))
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout, context=context) as answer:
            info = json.loads(answer.read())
            info["_product"] = answer.headers.get("X-Elastic-Product")
            return info
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ClusterUnavailable(f"{settings.url}: {error}") from error


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("-")[0].split(".")[:3] if p.isdigit())


class Backend:
    """One cluster: generic requests, bulk, and what it supports."""

    flavor = ""

    def __init__(self, settings: Settings, version: str) -> None:
        self.settings = settings
        self.version = version_tuple(version)
        self.client: Any = None
        self._helpers: Any = None

    @property
    def tsds(self) -> bool:
        """Whether the metrics stream can be a time-series data stream."""
        return False

    def _perform(self, method: str, path: str, body: Any = None) -> Any:
        raise NotImplementedError

    def _status(self, error: Exception) -> int | None:
        raise NotImplementedError

    def _api_errors(self) -> tuple[type[Exception], ...]:
        raise NotImplementedError

    def _transport_errors(self) -> tuple[type[Exception], ...]:
        raise NotImplementedError

    def get(self, path: str) -> dict[str, Any] | None:
        """The JSON of ``GET path``; ``None`` on 404; ``LookupError`` when the
        cluster has no such endpoint (400/405: e.g. a plugin missing)."""
        try:
            return dict(self._perform("GET", path))
        except self._api_errors() as error:
            status = self._status(error)
            if status == 404:
                return None
            if status in (400, 405):
                raise LookupError(f"{path}: {error}") from error
            raise
        except self._transport_errors() as error:
            raise ClusterUnavailable(str(error)) from error

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self._perform("PUT", path, body))
        except self._transport_errors() as error:
            raise ClusterUnavailable(str(error)) from error

    def bulk(self, actions: list[BulkAction]) -> list[ItemResult]:
        """Send ``actions`` (from :func:`actions_for`) as one bulk request
        through the client's ``streaming_bulk``; one result per action, in
        order. The answer is filtered to each item's status and error
        (``filter_path``): nothing else of it is read.

        Raises :class:`ClusterUnavailable` when the request got no answer."""
        results: list[ItemResult] = []
        try:
            for ok, info in self._helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=max(len(actions), 1),
                max_chunk_bytes=1 << 30,
                raise_on_error=False,
                raise_on_exception=False,
                max_retries=0,
                yield_ok=True,
                expand_action_callback=_expanded,
                filter_path=BULK_FILTER,
            ):
                results.append(_item_result(ok, info))
        except self._transport_errors() as error:
            raise ClusterUnavailable(str(error)) from error
        return results

    def refresh(self, target: str) -> None:
        self._perform("POST", f"/{target}/_refresh")

    def search(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._perform("POST", f"/{target}/_search", body))


def _item_result(ok: bool, info: dict[str, Any]) -> ItemResult:
    _, item = next(iter(info.items()))
    status = item.get("status")
    status = status if isinstance(status, int) else None
    if ok and status in _OK:
        return _OK[status]
    error = item.get("error")
    if isinstance(error, dict):
        return ItemResult(ok, status, str(error.get("type")), str(error.get("reason")))
    if error is not None:
        return ItemResult(ok, status, "request", str(error), whole_request=True)
    return ItemResult(ok, status, None, None)


#: the results of items written (shared: an ItemResult is immutable)
_OK = {status: ItemResult(True, status, None, None) for status in (200, 201)}


class ElasticsearchBackend(Backend):
    flavor = "elasticsearch"

    def __init__(self, settings: Settings, version: str) -> None:
        super().__init__(settings, version)
        import elasticsearch
        from elasticsearch import helpers
        from elasticsearch.serializer import OrjsonSerializer

        kwargs: dict[str, Any] = {
            "request_timeout": settings.timeout,
            "max_retries": settings.transport_retries,
            "retry_on_status": TRANSPORT_RETRY_STATUS,
            "retry_on_timeout": True,
            "serializer": OrjsonSerializer(),
        }
        if settings.api_key:
            kwargs["api_key"] = settings.api_key
        elif settings.username is not None:
            kwargs["basic_auth"] = (settings.username, settings.password or "")
        if settings.url.startswith("https"):
            kwargs["ca_certs"] = settings.ca_certs
            kwargs["verify_certs"] = settings.verify_certs
        self.client = elasticsearch.Elasticsearch(settings.url, **kwargs)
        self._helpers = helpers
        self._errors = elasticsearch

    @property
    def tsds(self) -> bool:
        return self.version >= (8, 7)

    def _perform(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        return self.client.perform_request(method, path, headers=headers, body=body).body

    def _status(self, error: Exception) -> int | None:
        return getattr(getattr(error, "meta", None), "status", None)

    def _api_errors(self) -> tuple[type[Exception], ...]:
        return (self._errors.ApiError,)

    def _transport_errors(self) -> tuple[type[Exception], ...]:
        return (self._errors.TransportError, self._errors.UnsupportedProductError)


class OpenSearchBackend(Backend):
    flavor = "opensearch"

    def __init__(self, settings: Settings, version: str) -> None:
        super().__init__(settings, version)
        import opensearchpy
        from opensearchpy import helpers

        kwargs: dict[str, Any] = {
            "timeout": settings.timeout,
            "max_retries": settings.transport_retries,
            "retry_on_status": TRANSPORT_RETRY_STATUS,
            "retry_on_timeout": True,
            "serializer": _orjson_for_opensearch(),
        }
        if settings.api_key:
            kwargs["headers"] = {"authorization": f"ApiKey {settings.api_key}"}
        elif settings.username is not None:
            kwargs["http_auth"] = (settings.username, settings.password or "")
        if settings.url.startswith("https"):
            kwargs["use_ssl"] = True
            kwargs["ca_certs"] = settings.ca_certs
            kwargs["verify_certs"] = settings.verify_certs
        self.client = opensearchpy.OpenSearch(hosts=[settings.url], **kwargs)
        self._helpers = helpers
        self._errors = opensearchpy

    def _perform(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.transport.perform_request(method, path, body=body)

    def _status(self, error: Exception) -> int | None:
        status = getattr(error, "status_code", None)
        return status if isinstance(status, int) else None

    def _api_errors(self) -> tuple[type[Exception], ...]:
        return (self._errors.TransportError,)

    def _transport_errors(self) -> tuple[type[Exception], ...]:
        return (self._errors.ConnectionError, self._errors.ConnectionTimeout)


def _orjson_for_opensearch() -> Any:
    """opensearch-py's JSON serializer on orjson (bulk answers are parsed per
    item: the standard library's json costs more than the rest of the flush)."""
    import orjson
    from opensearchpy.serializer import JSONSerializer

    class OrjsonSerializer(JSONSerializer):
        def loads(self, s: Any) -> Any:
            return orjson.loads(s)

        def dumps(self, data: Any) -> Any:
            if isinstance(data, str):
                return data
            return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).decode()

    return OrjsonSerializer()


def connect(settings: Settings) -> Backend:
    """The backend for ``settings.flavor``, or for what the cluster says it is.

    Raises :class:`ClusterUnavailable` when asking fails."""
    info = probe(settings)
    version = str((info.get("version") or {}).get("number", "0"))
    flavor = settings.flavor
    if flavor == "auto":
        distribution = (info.get("version") or {}).get("distribution")
        flavor = "opensearch" if distribution == "opensearch" else "elasticsearch"
    backend: Backend = (
        OpenSearchBackend(settings, version)
        if flavor == "opensearch"
        else ElasticsearchBackend(settings, version)
    )
    log.info("cluster %s: %s %s", settings.url, flavor, version)
    return backend


#: one bulk item as the helpers' ``expand_action_callback`` returns it: the
#: action line (``{"create": {"_index": ..., "_id": ...}}``) and the source,
#: already JSON text (the spool's), which both clients' serializers pass through
BulkAction = tuple[dict[str, dict[str, str]], str]

#: the parts of a bulk answer the shipper reads
BULK_FILTER = "errors,items.*.status,items.*.error"


def _expanded(action: BulkAction) -> BulkAction:
    """``expand_action_callback`` for actions :func:`actions_for` expanded already."""
    return action


def actions_for(docs: Iterable[Any], id_kinds: Container[str]) -> list[BulkAction]:
    """Bulk ``create`` actions for spooled documents, with ``_id`` for the
    documents whose kind is in ``id_kinds`` (the others get an id the
    cluster derives, as a time-series data stream requires)."""
    actions: list[BulkAction] = []
    for doc in docs:
        meta = {"_index": doc.stream}
        if doc.kind in id_kinds:
            meta["_id"] = doc.id
        actions.append(({"create": meta}, doc.body))
    return actions
