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
        ("prepaid_card", 1.0, "prepaid card"),
        ("view_to_buy_seconds", 4, "bought 4 seconds after opening the post"),
        ("post_category", 3.0, "item category: electronics"),
        ("card_funding", 2.0, "card funding: prepaid"),
        ("channel", 9.0, "purchase channel: other"),
    ],
)
def test_sentence_says_the_value_in_words(name, value, expected):
    assert sentence(name, value) == expected


PINNED = json.loads((Path(__file__).parents[1] / "fixtures" / "features" / "sentences.json").read_text())
"""Every feature's sentence at several values, recorded from the code before sentences came from definitions."""


@pytest.mark.parametrize("name", sorted(PINNED["sentences"]))
def test_every_feature_says_its_values_as_before(name):
    values = [math.nan if v == "nan" else v for v in PINNED["values"]]
    assert [sentence(name, v) for v in values] == PINNED["sentences"][name]


def test_pinned_sentences_cover_every_feature():
    assert sorted(PINNED["sentences"]) == sorted(FEATURE_NAMES)


def test_a_name_outside_the_catalog_is_said_plainly():
    assert sentence("not_a_feature", 2.5) == "not a feature = 2.5"
    assert sentence("not_a_feature", math.nan) == "not a feature: unknown"
