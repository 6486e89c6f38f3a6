"""The rule language's syntax and checks: what compiles, and where and why the rest is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.rules import RuleError, compile_rule

LISTS = {"trusted_cards": "card_fingerprint", "bad_ips": "ip", "risky_bins": "card_bin"}


@pytest.mark.parametrize("text", [
    "decline if card_country != ip_country and amount > 50000",
    'review if buyer_account_age_hours < 1 and post_category in ("gift_card", "electronics")',
    "approve if card_fingerprint in @trusted_cards",
    "review if not (amount > 100 or quantity >= 3) and fraud_score > 0.5",
    "decline if session_ip in @bad_ips or card_bin not in @risky_bins",
    "review if email_domain contains 'mail' and email_domain is not missing",
    "review if (amount - post_listed_price) / post_listed_price > 0.5",
    'review if model_decision == "review" and regret_score >= 0.3',
    "review if prepaid_card and not buyer_email_verified",
    "review if buyer_email_verified == false",
    'review if created_at - buyer_created_at < 3600 and created_at >= "2026-01-01T00:00:00Z"',
    "review if amount in (100, 200, -3) or amount * 2 + 1 > 1e6",
    "review if\n  amount > 1\n  and currency == 'USD'",
    'review if category == "it\\"s"',
])
def test_valid_rules_compile(text):
    rule = compile_rule(text, LISTS)
    assert rule.action in ("approve", "review", "decline")
    assert rule.attributes


def test_issue_examples_resolve_aliases_to_canonical_names():
    rule = compile_rule("decline if card_country != ip_country and amount > 50000", LISTS)
    assert rule.attributes == {"payment_card_country", "session_ip_country", "amount"}
    rule = compile_rule('review if buyer_account_age_hours < 1 and post_category in ("gift_card")', LISTS)
    assert rule.attributes == {"buyer_account_age_days", "post_category"}
    rule = compile_rule("approve if card_fingerprint in @trusted_cards", LISTS)
    assert rule.attributes == {"payment_card_fingerprint"} and rule.lists == {"trusted_cards"}


@pytest.mark.parametrize(("text", "position", "reason"), [
    ("review if amout > 1", 10, "unknown attribute 'amout' (did you mean 'amount'?)"),
    ("review if amount > 'x'", 19, "cannot compare 'amount' (a number) with"),
    ("review if card_country == 3", 26, "cannot compare"),
    ("approve if amount in @trusted_cards", 11, "'@trusted_cards' is a card_fingerprint list"),
    ("approve if card_fingerprint in @trusted_card", 31,
     "unknown list '@trusted_card' (did you mean '@trusted_cards'?)"),
    ("review if card_country == 'us'", 26, "'us' is not an ISO 3166-1 alpha-2 country code"),
    ("review if model_decision == 'block'", 28, "model_decision is one of approve, review, decline"),
    ("review if amount", 10, "'amount' is a number, not a condition"),
    ("review if", 9, "the rule ends too early"),
    ("block if amount > 1", 0, "unexpected 'block': a rule starts with approve, review or decline"),
    ("review amount > 1", 7, "unexpected 'amount': expected 'if'"),
    ("review if amount >> 1", 18, "unexpected '>'"),
    ("review if amount > 1 $", 21, "unexpected character '$'"),
    ("review if Amount > 1", 10, "unexpected character 'A': actions, keywords and attribute names are lower case"),
    ("review if (amount > 1", 21, "the rule ends too early: expected ')'"),
    ("review if card_country < 'US'", 23, "'<' does not apply to strings"),
    ("review if amount contains 'x'", 10, "'contains' looks for text in a string"),
    ("review if created_at > 'yesterday'", 23, "'yesterday' is not an RFC 3339 time"),
    ("review if created_at + 5 > 1", 10, "'+' needs numbers"),
    ("review if amount in ('a', 2)", 21, "'a' is a string, but 'amount' is a number"),
    ("review if amount > 1 and\n  card_countr == 'US'", 27, "unknown attribute 'card_countr'"),
])
def test_invalid_rules_are_refused_with_position_and_reason(text, position, reason):
    with pytest.raises(RuleError) as caught:
        compile_rule(text, LISTS)
    error = caught.value
    assert reason in error.reason
    assert error.position == position
    before = text[:position]
    assert (error.line, error.column) == (before.count("\n") + 1, position - before.rfind("\n"))
    assert str(error) == f"line {error.line}, column {error.column}: {error.reason}"


def test_error_on_second_line_counts_line_and_column():
    with pytest.raises(RuleError) as caught:
        compile_rule("review if amount > 1 and\n  card_countr == 'US'", LISTS)
    assert (caught.value.line, caught.value.column) == (2, 3)


def test_rule_error_is_an_invalid_input_with_status_422():
    with pytest.raises(RuleError) as caught:
        compile_rule("review if nope", LISTS)
    assert caught.value.status == 422 and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", [
    "review if " + "not " * 70 + "amount > 1",
    "review if " + "(" * 2000 + "amount > 1" + ")" * 2000,
    "review if " + "(amount > 1 and " * 70 + "amount > 2" + ")" * 70,
])
def test_deeply_nested_rules_are_refused_not_crashed(text):
    with pytest.raises(RuleError, match="nested too deeply"):
        compile_rule(text, LISTS)


def test_redundant_parentheses_add_no_depth():
    assert compile_rule("review if " + "(" * 70 + "amount > 1" + ")" * 70, LISTS).attributes == {"amount"}


def test_overlong_rules_are_refused():
    with pytest.raises(RuleError, match="at most 10,000 characters"):
        compile_rule("review if " + " or ".join(["amount > 1"] * 1000), LISTS)


FRAGMENTS = ["review", "decline", "if", "and", "or", "not", "in", "is", "missing", "contains", "(", ")", ",", "@",
             "@trusted_cards", "amount", "card_country", "created_at", "wallet", "prepaid_card",
             "buyer_account_age_hours",
             "==", "!=", "<", ">=", "+", "-", "*", "/", "1", "0", "2.5", "'US'", '"x"', "'2026-01-01T00:00:00Z'",
             "true", "false", "\n", "'", "\\", "é", "1e309"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14))
def test_any_text_compiles_or_is_refused_with_a_rule_error(fragments):
    text = " ".join(fragments)
    try:
        compile_rule(text, LISTS)
    except RuleError as error:
        assert 0 <= error.position <= len(text) and error.line >= 1 and error.column >= 1
