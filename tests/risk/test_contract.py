"""The contract's rules, enforced by the pydantic models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from risk.contract import (
    CHANNELS,
    COUNTRY_CODES,
    CURRENCY_CODES,
    DECISIONS,
    FRAUD_KINDS,
    FUNDING_KINDS,
    ORDER_COLUMNS,
    OUTCOME_KINDS,
    OUTCOME_SOURCES,
    REGRET_KINDS,
    REQUIRED_ORDER_COLUMNS,
    REQUIRED_OUTCOME_COLUMNS,
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


def test_null_quantity_is_unknown_and_reads_as_the_default_one():
    assert Order.model_validate(make_order(quantity=None)).quantity == 1
    assert Order.model_validate_json(json.dumps(make_order(quantity=None))).quantity == 1
    assert Order.model_validate(make_order(quantity=None)) == Order.model_validate(make_order(quantity=...))


@pytest.mark.parametrize("value", [1764000000, "1764000000", "0", "2026-11-24T10:15Z", "2026-11-24T11:15:02+0100"])
def test_a_number_or_a_time_outside_rfc_3339_is_not_read_as_a_time(value):
    assert "created_at" in [p["field"] for p in problems(make_order(created_at=value))]


def test_data_sets_hand_times_over_as_datetimes():
    order = Order.model_validate(make_order(created_at=datetime(2026, 11, 24, 10, 15, 2, tzinfo=UTC)))
    assert order.created_at.isoformat() == "2026-11-24T10:15:02+00:00"


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


# ---- values declared once ------------------------------------------------------------------


def _enum(schema: dict, *path: str) -> list:
    node = schema
    for key in path:
        node = schema["$defs"][key] if key[0].isupper() else node["properties"][key]
    branches = node.get("anyOf", [node])
    return next(b["enum"] for b in branches if "enum" in b)


def test_enumerations_are_the_values_the_models_accept_in_declared_order():
    order, outcome, decision = Order.model_json_schema(), Outcome.model_json_schema(), Decision.model_json_schema()
    assert _enum(order, "Session", "channel") == list(CHANNELS) == ["app", "web"]
    assert _enum(order, "Payment", "funding") == list(FUNDING_KINDS) == ["credit", "debit", "prepaid", "unknown"]
    assert _enum(outcome, "kind") == list(OUTCOME_KINDS)
    assert _enum(outcome, "source") == list(OUTCOME_SOURCES) == ["processor", "analyst", "buyer", "seller"]
    assert _enum(decision, "decision") == list(DECISIONS) == ["approve", "review", "decline"]


def test_fraud_and_regret_kinds_split_the_outcome_kinds_with_legit_left_over():
    assert {"fraud_chargeback", "confirmed_fraud"} == FRAUD_KINDS
    assert {"dispute", "refund"} == REGRET_KINDS
    assert set(OUTCOME_KINDS) - FRAUD_KINDS - REGRET_KINDS == {"confirmed_legit"}


def test_required_columns_are_the_fields_without_default_in_required_sections():
    assert REQUIRED_ORDER_COLUMNS == (
        "order_id", "created_at", "amount", "currency",
        "buyer_account_id", "seller_account_id", "payment_card_fingerprint",
    )
    assert REQUIRED_OUTCOME_COLUMNS == ("order_id", "kind", "reported_at")


# ---- the JSON schema says what the validators enforce ------------------------------------


def test_schema_lists_every_accepted_currency_and_country():
    schema = Order.model_json_schema()
    assert _enum(schema, "currency") == sorted(CURRENCY_CODES)
    assert _enum(schema, "Buyer", "country") == sorted(COUNTRY_CODES)
    for code in _enum(schema, "currency"):
        Order.model_validate(make_order(currency=code))
    for code in _enum(schema, "Shipping", "country"):
        Order.model_validate(make_order(**{"shipping.country": code}))


def test_schema_allows_a_null_quantity():
    quantity = Order.model_json_schema()["properties"]["quantity"]
    assert {"type": "null"} in quantity["anyOf"] and quantity["default"] == 1


@pytest.fixture(scope="module")
def schema_check():
    # jsonschema_rs comes with schemathesis (dev extra); it checks formats (date-time, ipv4) too.
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    return jsonschema_rs.validator_for(Order.model_json_schema(), validate_formats=True).is_valid


@pytest.mark.parametrize(
    "path, value",
    [
        ("created_at", "2026-11-24T10:15:02"),
        ("created_at", 1764000000),
        ("created_at", "1764000000"),
        ("created_at", "2026-11-24T10:15Z"),
        ("amount", 49.5),
        ("amount", 0),
        ("amount", 49.99),
        ("amount", "4999"),
        ("currency", "usd"),
        ("currency", "XXY"),
        ("buyer.country", "USA"),
        ("session.ip_country", "ZZ"),
        ("order_id", ""),
        ("order_id", "x" * 129),
        ("quantity", 0),
        ("buyer.followers", -1),
        ("session.channel", "desktop"),
        ("payment.funding", "charge"),
        ("payment.card_bin", "42424x"),
        ("session.ip", "300.1.1.1"),
        ("buyer.email_verified", "yes"),
    ],
)
def test_what_the_models_reject_the_schema_rejects_too(schema_check, path, value):
    payload = make_order(**{path: value})
    assert problems(payload)
    assert not schema_check(payload)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"quantity": None},
        {"quantity": 2.0, "amount": 4999.0, "buyer.followers": 0.0},  # JSON Schema counts 2.0 as an integer
        {"created_at": "2026-11-24t10:15:02.123456789z"},
        {"session.ip": "2001:db8::1"},
        {"payment.card_bin": "42424242"},
        {"post": None},
    ],
)
def test_what_the_models_accept_the_schema_accepts(schema_check, overrides):
    payload = make_order(**overrides)
    Order.model_validate(payload)
    assert schema_check(payload)
