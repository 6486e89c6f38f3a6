"""A CSV text of list items (bulk import) as items to add, parsed by the rules package's one CSV reader."""

from __future__ import annotations

from serve.rules_store.errors import RefusedChange
from serve.rules_store.records import NewItem, from_us


def items_from_csv(text: str) -> list[NewItem]:
    """The items of a CSV text; a malformed one is refused naming the line (422 / one CLI line)."""
    from risk.rules.lists_csv import parse_list_csv

    try:
        parsed = parse_list_csv(text)
    except ValueError as exc:
        raise RefusedChange(str(exc), "csv") from None
    return [NewItem(item.value, item.reason, from_us(item.expires_at_us)) for item in parsed]
