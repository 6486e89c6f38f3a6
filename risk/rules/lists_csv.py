"""Bulk import of list items from CSV: columns `value`, optional `reason` and `expires_at`."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from risk.contract import RFC3339_TIME
from risk.rules.errors import ListError
from risk.rules.lists import ListItem, ListKind, normalise

COLUMNS = ("value", "reason", "expires_at")
MAX_ITEMS = 100_000


def parse_list_csv(text: str, kind: ListKind, author: str, added_at_us: int) -> list[ListItem]:
    """The items of a CSV file, each checked against the list's kind; ListError naming the first bad line.

    A header row is required (`value` at least; `reason` and `expires_at` optional, any
    order, unknown columns refused so a typo does not silently drop expiries).
    `expires_at` is RFC 3339 with a timezone, and after the import's moment. Values are
    stored as written (trimmed); matching normalises them (README, "Lists").
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    if "value" not in header:
        raise ListError("line 1: the CSV needs a header row with a 'value' column (and optionally reason, expires_at)")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise ListError(f"line 1: unknown column(s) {', '.join(map(repr, unknown))}: columns are value, reason, "
                        "expires_at")
    reader.fieldnames = header
    items: list[ListItem] = []
    for row in reader:
        line = reader.line_num
        if len(items) >= MAX_ITEMS:
            raise ListError(f"line {line}: more than {MAX_ITEMS:,} items in one import")
        if None in row:
            raise ListError(f"line {line}: more fields than the header has columns")
        items.append(_item(row, kind, author, added_at_us, line))
    if not items:
        raise ListError("the CSV has no items (a header row and at least one value)")
    return items


def _item(row: dict[str, str | None], kind: ListKind, author: str, added_at_us: int, line: int) -> ListItem:
    value = (row.get("value") or "").strip()
    try:
        normalise(kind, value)
    except ValueError as error:
        raise ListError(f"line {line}: {error} (a {kind} list)") from None
    expires = (row.get("expires_at") or "").strip()
    expires_us = None
    if expires:
        if not RFC3339_TIME.match(expires):
            raise ListError(f"line {line}: expires_at {expires!r} is not an RFC 3339 time with a timezone, "
                            "e.g. 2026-12-31T00:00:00Z")
        expires_us = int(datetime.fromisoformat(expires.replace("z", "Z")).timestamp() * 1_000_000)
        if expires_us <= added_at_us:
            raise ListError(f"line {line}: expires_at {expires} is not after the import's moment")
    return ListItem(value, (row.get("reason") or "").strip(), author, added_at_us, expires_us)
