"""Every feature has a sentence a person understands, for known and unknown values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from features.catalog import FEATURE_NAMES
from features.sentences import sentence


@pytest.mark.parametrize("value", [0.0, 1.0, 6.0, 12345.0, math.nan])
def test_every_feature_has_a_sentence(value):
    for name in FEATURE_NAMES:
        text = sentence(name, value)
        assert text and "{" not in text and "_" not in text.split(":")[0] or "unknown" in text, (name, text)


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("distinct_cards_by_device_1h", 6, "6 cards used with this device in the last hour"),
        ("order_count_by_card_24h", 3, "3 orders with this card in the last 24 hours"),
        ("seconds_since_first_device", math.nan, "Device never seen before"),
        ("amount_sum_by_buyer_7d", 125000, "1,250.00 spent with this buyer in the last 7 days"),
        ("prepaid_card", 1.0, "Prepaid card"),
        ("view_to_buy_seconds", 4, "Bought 4 seconds after opening the post"),
        ("post_category", 3.0, "Item category: electronics"),
        ("card_funding", 2.0, "Card funding: prepaid"),
        ("channel", 9.0, "Purchase channel: other"),
    ],
)
def test_sentence_says_the_value_in_words(name, value, expected):
    assert sentence(name, value) == expected


@pytest.mark.parametrize(
    "name, value, order, expected",
    [
        ("amount", 4999, {"currency": "EUR"}, "Amount 49.99 EUR"),
        ("amount", 4999, {"currency": "JPY"}, "Amount 4,999 JPY"),  # zero-decimal currency
        ("amount", 49999, {"currency": "KWD"}, "Amount 49.999 KWD"),  # three decimals
        ("amount_sum_by_buyer_7d", 125000, {"currency": "USD"},
         "1,250.00 USD spent with this buyer in the last 7 days"),
        ("ip_country_differs_card", 1.0, {"session_ip_country": "NG", "payment_card_country": "US"},
         "IP in Nigeria (NG), card issued in United States (US)"),
        ("shipping_country_differs_buyer", 1.0, {"shipping_country": "KR", "buyer_country": "FR"},
         "Shipping to South Korea (KR), buyer from France (FR)"),
        ("card_country_differs_buyer", 1.0, {"payment_card_country": "US"},  # the buyer's country unknown
         "Card issued in another country than the buyer's"),
        ("ip_country_differs_card", 0.0, {"session_ip_country": "US", "payment_card_country": "US"},
         "IP country matches the card's"),
    ],
)
def test_with_the_orders_context_money_has_its_currency_and_mismatches_name_the_countries(name, value, order,
                                                                                           expected):
    assert sentence(name, value, order) == expected


def test_every_sentence_starts_with_a_capital_letter_or_a_digit():
    for name in FEATURE_NAMES:
        for value in (0.0, 1.0, 6.0, math.nan):
            text = sentence(name, value)
            assert text[0].isupper() or text[0].isdigit() or text[0] == "-", (name, text)


PINNED = json.loads((Path(__file__).parents[1] / "fixtures" / "features" / "sentences.json").read_text())
"""Every feature's sentence at several values, recorded from the code before sentences came from definitions."""


@pytest.mark.parametrize("name", sorted(PINNED["sentences"]))
def test_every_feature_says_its_values_as_before(name):
    values = [math.nan if v == "nan" else v for v in PINNED["values"]]
    assert [sentence(name, v) for v in values] == PINNED["sentences"][name]


def test_pinned_sentences_cover_every_feature():
    assert sorted(PINNED["sentences"]) == sorted(FEATURE_NAMES)


def test_a_name_outside_the_catalog_is_said_plainly():
    assert sentence("not_a_feature", 2.5) == "Not a feature = 2.5"
    assert sentence("not_a_feature", math.nan) == "Not a feature: unknown"
