"""Deterministic document ids: a resend of the same document can only be a 409.

An id is a digest of what identifies the document at its source, never of
when or how often it was sent:

* an event: host identity, VPP boot time, ring thread and sequence number;
* a metric sample: host identity, sample time (milliseconds) and the
  dimension set (metricset and its key fields).

The digest is BLAKE2b-160 in URL-safe base64 (27 characters).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

_SEPARATOR = "\x1f"


def _text(parts: Iterable[object]) -> str:
    return _SEPARATOR.join(str(p) for p in parts)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _digest(parts: Iterable[object]) -> str:
    return _encode(hashlib.blake2b(_text(parts).encode(), digest_size=20).digest())


def event_id(host: str, boot_time: float, thread: int, sequence: int) -> str:
    """The id of ring record ``sequence`` of ``thread`` of the VPP that booted at ``boot_time``."""
    return event_ids(host, boot_time, thread, sequence, 1)[0]


def event_ids(host: str, boot_time: float, thread: int, first: int, count: int) -> list[str]:
    """:func:`event_id` of sequences ``first`` .. ``first + count - 1`` (the
    digest of the common prefix is computed once and copied)."""
    prefix = hashlib.blake2b(digest_size=20)
    prefix.update((_text(("event", host, repr(float(boot_time)), thread)) + _SEPARATOR).encode())
    out = []
    for sequence in range(first, first + count):
        digest = prefix.copy()
        digest.update(str(sequence).encode())
        out.append(_encode(digest.digest()))
    return out


def shipper_event_id(host: str, boot_time: float, action: str, *key: object) -> str:
    """The id of an event the shipper itself reports (overrun, restart)."""
    return _digest(("shipper", host, repr(float(boot_time)), action, *key))


def metric_id(host: str, timestamp_ms: int, metricset: str, dimensions: Iterable[object]) -> str:
    """The id of one sample of one dimension set."""
    return _digest(("metric", host, timestamp_ms, metricset, *dimensions))
