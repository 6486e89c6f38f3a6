"""Times typed in the web app's forms, read as the API reads them: RFC 3339 with seconds and an offset.

The same pattern as the contract's `Time` (risk.contract.RFC3339_TIME), so a list
expiry or a backtest period the API would refuse is refused in the page too, with the
field named, rather than guessed at (no local times, no `+0100`, no Unix seconds).
"""

from __future__ import annotations

from datetime import datetime

from risk.contract import RFC3339_TIME
from risk.errors import InvalidInput

EXAMPLE = "2026-03-01T00:00:00Z"


def form_time(text: str, field: str) -> datetime:
    """The moment `text` names (timezone-aware); InvalidInput naming `field` otherwise."""
    text = text.strip()
    if not RFC3339_TIME.match(text):
        raise InvalidInput(f"{field}: not an RFC 3339 time with a timezone, e.g. {EXAMPLE}, got {text[:40]!r}")
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as exc:  # matches the pattern yet is no date: 2026-02-30
        raise InvalidInput(f"{field}: {text[:40]!r} is not a valid time ({exc})") from None
