"""Times given on the command line (`--as-of`, `--from`, `--to`), read one way by every command."""

from __future__ import annotations

import re

import pandas as pd

from risk.errors import InvalidInput

# pandas alone would also read "20260301", "2026-03-01T00:00Z" or a number; the contract speaks RFC 3339.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_time(text: str, option: str) -> pd.Timestamp:
    """An RFC 3339 time with a timezone, as a UTC timestamp; anything else is invalid input."""
    if not _RFC3339.match(text.strip()):
        raise InvalidInput(f"{option} {text!r}: not an RFC 3339 time with a timezone, e.g. 2026-03-01T00:00:00Z")
    try:
        return pd.Timestamp(text.strip()).tz_convert("UTC")
    except ValueError as exc:
        raise InvalidInput(f"{option} {text!r}: {exc}") from None
