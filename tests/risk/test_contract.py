"""The contract's rules, enforced by the pydantic models."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from risk.contract import (
    ORDER_COLUMNS,
    Decision,
    Order,
    Outcome,
    describe,
    flatten,
    unflatten,
    validation_problems,
)
from tests.builders import make_order


def problems(payload: dict) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(payload)
    return validation_problems(caught.value)


def test_example_order_is_valid():
    order = Order.model_validate(make_order())
    assert order.amount == 4999
    assert order.payment.card_fingerprint == "card_fp_33aa"


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("created_at", "2026-11-24T10:15:02", "created_at"),
        ("buyer.created_at", "2026-11-23 22:41:10", "buyer.created_at"),
        ("session.post_viewed_at", "yesterday", "session.post_viewed_at"),
        ("amount", 0, "amount"),
        ("amount", -5, "amount"),
        ("amount", 49.99, "amount"),
        ("amount", "4999", "amount"),
        ("currency", "usd", "currency"),
        ("currency", "XXY", "currency"),
        ("buyer.country", "USA", "buyer.country"),
        ("session.ip_country", "ZZ", "session.ip_country"),
        ("order_id", "", "order_id"),
        ("order_id", "x" * 129, "order_id"),
        ("buyer.account_id", ..., "buyer.account_id"),
        ("seller", ..., "seller"),
        ("payment.card_fingerprint", ..., "payment.card_fingerprint"),
        ("post.post_id", ..., "post.post_id"),
        ("quantity", 0, "quantity"),
        ("buyer.followers", -1, "buyer.followers"),
        ("post.likes", -3, "post.likes"),
        ("session.channel", "desktop", "session.channel"),
        ("payment.funding", "charge", "payment.funding"),
        ("payment.card_bin", "42", "payment.card_bin"),
        ("payment.card_bin", "42424x", "payment.card_bin"),
        ("session.ip", "300.1.1.1", "session.ip"),
        ("buyer.email_verified", "yes", "buyer.email_verified"),
    ],
)
def test_invalid_field_is_rejected_naming_the_field(path, value, field):
    found = problems(make_order(**{path: value}))
    assert field in [p["field"] for p in found], found


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"created_at": "2026-11-24T11:15:02+01:00"},
        {"created_at": "2026-11-24T10:15:02.123456Z"},
        {"post": ..., "shipping": ...},
        {"session": ...},
        {"post": {"post_id": "p1"}},
        {"quantity": ...},
        {"session.ip": "2001:db8::1"},
        {"payment.card_bin": "42424242"},
        {"payment.funding": "unknown", "payment.wallet": "apple_pay"},
        {"buyer.created_at": None, "buyer.country": None, "session.device_id": None},
        {"post.listed_price": 0, "buyer.followers": 0},
    ],
)
def test_valid_variant_is_accepted(overrides):
    Order.model_validate(make_order(**overrides))


def test_missing_quantity_defaults_to_one():
    assert Order.model_validate(make_order(quantity=...)).quantity == 1


def test_unknown_fields_are_ignored_at_every_level():
    payload = make_order(**{"risk_hint": "x", "buyer.loyalty_tier": "gold", "post.hashtags": ["a"]})
    order = Order.model_validate(payload)
    assert order == Order.model_validate(make_order())


def test_several_problems_are_all_named_in_one_line():
    payload = make_order(amount=0, currency="usd")
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(payload)
    line = describe(caught.value)
    assert "amount" in line and "currency" in line and "\n" not in line


def test_flat_columns_match_the_contract_sample_header(examples):
    header = (examples / "orders.csv").read_text().splitlines()[0].split(",")
    assert list(ORDER_COLUMNS) == header


def test_nested_to_flat_and_back_is_identity():
    order = Order.model_validate(make_order())
    row = flatten(order)
    assert row["buyer_account_id"] == "acct_b_1021"
    assert row["payment_wallet"] is None
    assert unflatten(row) == order


def test_absent_sections_stay_absent_through_flat_form():
    order = Order.model_validate(make_order(post=..., shipping=...))
    row = flatten(order)
    assert row["post_post_id"] is None and row["shipping_country"] is None
    back = unflatten(row)
    assert back.post is None and back.shipping is None


def test_unflatten_treats_nan_as_unknown():
    row = flatten(Order.model_validate(make_order()))
    row["buyer_country"] = float("nan")
    assert unflatten(row).buyer.country is None


def test_outcome_example_is_valid_and_kind_is_checked(examples):
    outcome = Outcome.model_validate(json.loads((examples / "outcome.json").read_text()))
    assert outcome.kind == "fraud_chargeback"
    with pytest.raises(ValidationError):
        Outcome.model_validate({"order_id": "o", "kind": "chargeback", "reported_at": "2026-11-24T10:15:02Z"})
    with pytest.raises(ValidationError):
        Outcome.model_validate({"order_id": "o", "kind": "refund", "reported_at": "2026-11-24T10:15:02"})


def test_decision_scores_must_be_probabilities():
    Decision(order_id="o", decision="approve", fraud_score=0.1, regret_score=0.0, model_version="m1")
    with pytest.raises(ValidationError):
        Decision(order_id="o", decision="approve", fraud_score=1.5, regret_score=0.0, model_version="m1")
    with pytest.raises(ValidationError):
        Decision(order_id="o", decision="hold", fraud_score=0.1, regret_score=0.0, model_version="m1")
