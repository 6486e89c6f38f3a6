"""CSV import of list items: what is read, and the one-line errors naming the line."""

from __future__ import annotations

import pytest

from risk.rules.errors import ListError
from risk.rules.lists_csv import parse_list_csv

NOW = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def test_items_are_read_with_reason_expiry_author_and_moment():
    text = "value,reason,expires_at\n10.0.0.0/8,office range,2026-02-01T00:00:00Z\n 203.0.113.7 ,,\n"
    items = parse_list_csv(text, "ip", "ana", NOW)
    assert [(i.value, i.reason, i.author, i.added_at_us) for i in items] == [
        ("10.0.0.0/8", "office range", "ana", NOW), ("203.0.113.7", "", "ana", NOW)]
    assert items[0].expires_at_us == NOW + 31 * 86400 * 10**6 and items[1].expires_at_us is None


def test_value_alone_is_enough():
    assert [i.value for i in parse_list_csv("value\nUS\nng\n", "country", "a", NOW)] == ["US", "ng"]


@pytest.mark.parametrize(("text", "message"), [
    ("card\nx\n", "line 1: the CSV needs a header row with a 'value' column"),
    ("value,expiry\nx,\n", "line 1: unknown column(s) 'expiry'"),
    ("value\n10.0.0.1\n300.1.1.1\n", "line 3: '300.1.1.1' is not an IP address or CIDR range (a ip list)"),
    ("value,expires_at\nUS,tomorrow\n", "line 2: expires_at 'tomorrow' is not an RFC 3339 time"),
    ("value,expires_at\nUS,2025-01-01T00:00:00Z\n", "line 2: expires_at 2025-01-01T00:00:00Z is not after"),
    ("value\n\n", "the CSV has no items"),
    ("value\n4111x\n", "line 2: '4111x' is not a card BIN"),
    ("value\n,\n", "line 2: more fields than the header has columns"),
])
def test_bad_rows_are_refused_naming_the_line(text, message):
    kind = "card_bin" if "4111" in text else ("ip" if "." in text.split("\n")[1] else "country")
    with pytest.raises(ListError) as caught:
        parse_list_csv(text, kind, "a", NOW)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)
