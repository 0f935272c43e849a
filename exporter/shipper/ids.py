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


def _digest(parts: Iterable[object]) -> str:
    text = "\x1f".join(str(p) for p in parts)
    raw = hashlib.blake2b(text.encode(), digest_size=20).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def event_id(host: str, boot_time: float, thread: int, sequence: int) -> str:
    """The id of ring record ``sequence`` of ``thread`` of the VPP that booted at ``boot_time``."""
    return _digest(("event", host, repr(float(boot_time)), thread, sequence))


def shipper_event_id(host: str, boot_time: float, action: str, *key: object) -> str:
    """The id of an event the shipper itself reports (overrun, restart)."""
    return _digest(("shipper", host, repr(float(boot_time)), action, *key))


def metric_id(host: str, timestamp_ms: int, metricset: str, dimensions: Iterable[object]) -> str:
    """The id of one sample of one dimension set."""
    return _digest(("metric", host, timestamp_ms, metricset, *dimensions))
