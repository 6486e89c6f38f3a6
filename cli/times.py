"""Times given on the command line (`--as-of`, `--from`, `--to`), read one way by every command."""

from __future__ import annotations

import pandas as pd

from risk.contract import RFC3339_TIME
from risk.errors import InvalidInput


def parse_time(text: str, option: str) -> pd.Timestamp:
    """An RFC 3339 time with a timezone, as a UTC timestamp; anything else is invalid input."""
    # pandas alone would also read "20260301", "2026-03-01T00:00Z" or a number
    if not RFC3339_TIME.match(text.strip()):
        raise InvalidInput(f"{option} {text!r}: not an RFC 3339 time with a timezone, e.g. 2026-03-01T00:00:00Z")
    try:
        return pd.Timestamp(text.strip()).tz_convert("UTC")
    except ValueError as exc:
        raise InvalidInput(f"{option} {text!r}: {exc}") from None
