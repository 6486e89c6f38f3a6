"""Precedence between rules, lists and the model; test mode; what `matches` reports."""

from __future__ import annotations

import pytest

from risk.rules import ListItem, ListSnapshot, NamedList, RuleError, RuleSet, RuleSpec
from tests.risk.rules.inputs import rule_inputs

LISTS = ListSnapshot([
    NamedList("trusted_cards", "card_fingerprint", (ListItem("card_fp_33aa", reason="regular of seller 77"),), 4),
    NamedList("bad_countries", "country", (ListItem("NG", reason="proxy wave"),), 2),
    NamedList("unused", "device", (), 9),
])
ALLOW = RuleSpec("allow", "approve if card_fingerprint in @trusted_cards", version=3)
BLOCK = RuleSpec("block", "decline if ip_country in @bad_countries", version=5)
DECLINE = RuleSpec("big", "decline if amount > 1000", version=1)
REVIEW = RuleSpec("new", "review if buyer_account_age_days < 1", version=2)


def evaluate(*specs: RuleSpec, model_decision: str = "approve"):
    rules = RuleSet.compile(specs, LISTS)
    return rules.evaluate(rule_inputs(model_decision=model_decision, features={"buyer_account_age_days": 0.5}))


def test_approve_rules_win_over_decline_and_review_rules():
    result = evaluate(REVIEW, DECLINE, BLOCK, ALLOW, model_decision="decline")
    assert (result.decision, result.decided_by) == ("approve", "allow")
    assert [m.rule_id for m in result.matches] == ["new", "big", "block", "@bad_countries", "allow", "@trusted_cards"]
    decided = [m for m in result.matches if m.description.startswith("decided: ")]
    assert [m.rule_id for m in decided] == ["allow", "@trusted_cards"]


def test_decline_rules_win_over_review_rules_and_the_first_decline_rule_decides():
    result = evaluate(REVIEW, DECLINE, BLOCK)
    assert (result.decision, result.decided_by) == ("decline", "big")


def test_review_rules_win_over_the_model_in_both_directions():
    assert evaluate(REVIEW, model_decision="approve").decision == "review"
    assert evaluate(REVIEW, model_decision="decline").decision == "review"


def test_without_a_matching_live_rule_the_model_decides():
    result = evaluate(RuleSpec("r", "review if amount > 1e9"), model_decision="decline")
    assert (result.decision, result.decided_by, result.matches) == ("decline", None, [])
    empty = RuleSet.EMPTY.evaluate(rule_inputs(model_decision="review"))
    assert (empty.decision, empty.decided_by, empty.matches) == ("review", None, [])


def test_test_mode_rules_are_reported_but_never_act():
    result = evaluate(RuleSpec("t", "decline if amount > 1", mode="test"), REVIEW)
    assert (result.decision, result.decided_by) == ("review", "new")
    test_match = next(m for m in result.matches if m.rule_id == "t")
    assert test_match.description == "test mode: decline if amount > 1" and test_match.action == "decline"


def test_list_matches_carry_the_item_reason_and_versions_are_recorded():
    rules = RuleSet.compile([ALLOW, BLOCK, DECLINE], LISTS)
    result = rules.evaluate(rule_inputs())
    listed = next(m for m in result.matches if m.rule_id == "@bad_countries")
    assert listed.description == "matched: list @bad_countries via rule block: proxy wave"
    assert rules.rules_version == {"allow": 3, "block": 5, "big": 1}
    assert rules.lists_version == {"trusted_cards": 4, "bad_countries": 2}


def test_a_refused_rule_names_its_rule_id():
    with pytest.raises(RuleError) as caught:
        RuleSet.compile([ALLOW, RuleSpec("typo", "review if amout > 1")], LISTS)
    assert caught.value.rule_id == "typo" and caught.value.reason.startswith("rule 'typo': unknown attribute")


def test_a_failing_rule_is_skipped_and_the_others_still_decide(caplog):
    rules = RuleSet.compile([DECLINE, REVIEW], LISTS)
    broken = rules.entries[0]
    object.__setattr__(broken, "test", lambda vals: 1 / 0)
    rules.tests[0] = broken.test
    for _ in range(12):
        result = rules.evaluate(rule_inputs(features={"buyer_account_age_days": 0.5}))
        assert (result.decision, result.decided_by) == ("review", "new")
    assert rules.failures == {"big": 12}
    assert [r.message for r in caplog.records] == [  # logged the 1st and the 10th time, not every time
        "rule 'big' failed (1 times in this rule set); counted as not matching",
        "rule 'big' failed (10 times in this rule set); counted as not matching"]
