"""Webhook events: their bodies (written once, sent as is) and their signature.

Every event is one JSON object `{"id", "type", "created_at", "data"}`; `id` is unique
and the same on every delivery attempt of the event, so a receiver that stores the ids
it has handled turns the at-least-once delivery into exactly-once processing.

Signature (header `X-Risk-Signature: t=<unix seconds>,v1=<hex>`): HMAC-SHA256 keyed
with RISK_WEBHOOK_SECRET over `<t>.<raw body bytes>`. To verify: recompute it over the
raw body as received, compare in constant time, and refuse a `t` too far from now
(replays). `verify_signature` is that recipe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime
from typing import Any

from serve.decision_log.schema import EventRow

SIGNATURE_HEADER = "X-Risk-Signature"
EVENT_ID_HEADER = "X-Risk-Event-Id"
EVENT_TYPE_HEADER = "X-Risk-Event-Type"
REVIEW_OPENED = "review.opened"
REVIEW_CLOSED = "review.closed"


def event_row(event_type: str, order_id: str, data: dict[str, Any], now: datetime) -> EventRow:
    """A new outbox row: a fresh event id, the body it will always be sent with, due now."""
    event_id = f"evt_{uuid.uuid4().hex}"
    body = json.dumps({"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": data},
                      separators=(",", ":"), sort_keys=True, default=str)
    return EventRow(event_id, event_type, order_id, body, now, "pending", 0, now)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-Risk-Signature header value for `body` sent at `timestamp` (now if None)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, *, tolerance_s: int = 300,
                     now: float | None = None) -> bool:
    """What a receiver runs: the header's HMAC matches the raw body and its time is within `tolerance_s`."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
