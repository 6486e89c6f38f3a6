"""One order through a compiled rule: values, aliases, times, arithmetic and missing values."""

from __future__ import annotations

import pytest

from risk.rules import ListSnapshot, compile_rule
from tests.risk.rules.inputs import rule_inputs

NO_LISTS = ListSnapshot([])


def matches(text: str, **kwargs) -> bool:
    return compile_rule(text, {}).matches(rule_inputs(**kwargs), NO_LISTS)


def test_issue_examples_on_the_contract_example_order():
    # example order: card GB, IP NG, amount 4999, buyer created 11.5 h before, category electronics
    assert matches("decline if card_country != ip_country and amount > 4000")
    assert not matches("decline if card_country != ip_country and amount > 50000")
    assert matches('review if buyer_account_age_hours < 12 and post_category in ("gift_card", "electronics")',
                   features={"buyer_account_age_days": 11.5 / 24})
    assert not matches('review if buyer_account_age_hours < 1 and post_category in ("gift_card", "electronics")',
                       features={"buyer_account_age_days": 11.5 / 24})


@pytest.mark.parametrize(("text", "expected"), [
    ("review if amount == 4999", True),
    ("review if amount >= 4999 and amount <= 4999 and amount != 5000", True),
    ("review if amount * 2 - 1 == 9997", True),
    ("review if amount / 0 > 0 or amount / 0 <= 0", False),          # x / 0 is missing
    ("review if -amount < 0", True),
    ("review if currency == 'USD' and channel == \"web\"", True),
    ("review if email_domain contains 'mail'", True),
    ("review if email_domain contains 'yahoo'", False),
    ("review if verified and not email_verified", True),               # flags alone are conditions
    ("review if promoted == true and digital == false", True),
    ("review if created_at - buyer_created_at < 12 * 3600", True),   # times subtract to seconds
    ("review if created_at > '2026-11-24T10:15:01Z' and created_at < '2026-11-24T11:15:03+01:00'"
     " and created_at <= '2026-11-24T11:15:02+01:00'", True),
    ("review if fraud_score > 0.05 and regret_score < 0.1", True),
    ("review if model_decision == 'approve'", True),
    ("review if card_funding == 'prepaid'", True),                     # categorical feature: its field's text
    ("review if category not in ('toys', 'home')", True),
    ("review if amount in (1, 4999.0)", True),
    ("review if not amount > 5000 and currency == 'EUR' or quantity == 1", True),  # ((not (a > x)) and c) or q
    ("review if not amount > 4000 and currency == 'USD'", False),
    ("review if not (amount > 4000 and currency == 'EUR')", True),
])
def test_values_and_operators(text, expected):
    assert matches(text) is expected


# ---- missing values: three-valued logic ------------------------------------------------------
MISSING_CASES = [
    ("review if wallet == 'apple_pay'", False),
    ("review if wallet != 'apple_pay'", False),          # != with a missing value is not true either
    ("review if wallet not in ('apple_pay')", False),
    ("review if wallet is missing", True),
    ("review if wallet is not missing", False),
    ("review if not (wallet == 'apple_pay')", False),     # unknown stays unknown under not
    ("review if wallet == 'x' or amount > 1", True),      # unknown or true = true
    ("review if not (wallet == 'x' and amount > 1e9)", True),  # unknown and false = false; not false = true
    ("review if not (wallet == 'x' and amount > 1)", False),   # unknown and true = unknown
    ("review if wallet contains 'pay'", False),
    ("review if not (wallet contains 'pay')", False),
    ("review if order_count_by_card_1h > 5", False),     # NaN feature
    ("review if order_count_by_card_1h <= 5", False),
    ("review if order_count_by_card_1h != 5", False),
    ("review if not (order_count_by_card_1h > 5)", False),
    ("review if order_count_by_card_1h + 1 is missing", True),
    ("review if post_viewed_at is missing", True),
    ("review if created_at - post_viewed_at < 5", False),
]


@pytest.mark.parametrize(("text", "expected"), MISSING_CASES)
def test_a_comparison_with_a_missing_value_is_never_true(text, expected):
    assert matches(text, **{"payment.wallet": None, "session.post_viewed_at": ...}) is expected


def test_missing_section_reads_as_missing_fields():
    assert matches("review if shipping_country is missing and ip is missing", shipping=..., session=...)
    assert not matches("review if shipping_country != 'US'", shipping=...)


def test_matches_never_raises_and_says_no():
    rule = compile_rule("review if amount > 1", {})
    broken = rule_inputs()
    object.__setattr__(broken, "order", None)  # an order that cannot be read
    assert rule.matches(broken, NO_LISTS) is False


def test_numpy_feature_vectors_are_read_as_floats():
    import numpy as np

    inputs = rule_inputs(features={"order_count_by_card_1h": 7.0})
    object.__setattr__(inputs, "features", np.asarray(inputs.features))
    assert compile_rule("review if order_count_by_card_1h == 7", {}).matches(inputs, NO_LISTS)
