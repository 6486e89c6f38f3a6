"""How values are encoded for storage: standard JSON text and fixed-width UTC time text."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def to_json(value: Any) -> str:
    """Standard JSON (times as ISO 8601 text); non-finite floats become null, as JSONB cannot hold them."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False, default=_json_default)
    except ValueError:
        return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False, default=_json_default)


def in_utc(moment: datetime) -> datetime:
    """`moment` in UTC; one within a day of the calendar's ends that UTC cannot hold (0001-01-01T00:00+00:01)
    is clamped to that end, since datetime has no year 0 or 10000 (schemathesis sends such valid RFC 3339 times)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC text, so that SQLite's text order is time order and equal instants are equal text."""
    # isoformat, not strftime: glibc's %Y writes year 3 as "3", which neither sorts nor parses back
    return in_utc(moment).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def as_utc(value: Any) -> datetime:
    """A stored moment (datetime from PostgreSQL, `utc_text` from SQLite) as an aware UTC datetime."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{value.__class__.__name__} is not JSON serialisable")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
