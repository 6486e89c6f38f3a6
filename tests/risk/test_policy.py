"""The policy in words: thresholds as percentages, branches that never fire said so, costs with their currency."""

from __future__ import annotations

import pytest

from risk.policy import Policy, percent, percents_in_order, policy_in_words, rule_in_words

NEVER = 1.0 + 1e-9  # what the policy search writes for a branch it switches off


def test_the_issue_example_reads_as_written():
    text = policy_in_words(Policy(0.45, 0.031, 0.17), reviews_per_day=28.2, cost_per_order=4504.0,
                           approve_all_per_order=6002.0, currency="USD")
    assert text == ("decline if fraud >= 45%; review if fraud >= 3.1% or regret >= 17%: about 28 reviews a day, "
                    "expected cost 45.04 USD per order vs 60.02 approving all")


@pytest.mark.parametrize("policy, words", [
    (Policy(NEVER, 0.05, NEVER), "never decline; review if fraud >= 5%"),
    (Policy(0.9, NEVER, NEVER), "decline if fraud >= 90%; never review"),
    (Policy(0.5, 0.6, 0.2), "decline if fraud >= 50%; review if regret >= 20%"),  # fraud review above decline
    (Policy(0.9996, 0.0004, 0.2), "decline if fraud >= 99.96%; review if fraud >= 0.04% or regret >= 20%"),
])
def test_branches_that_never_fire_are_said_so(policy, words):
    assert rule_in_words(policy) == words


def test_costs_use_the_currency_minor_unit():
    text = policy_in_words(Policy(0.5, 0.1, NEVER), 3, 4504.0, 6002.0, "JPY")
    assert text.endswith("expected cost 4,504 JPY per order vs 6,002 approving all")


def test_percentages_keep_two_significant_digits_below_ten():
    assert [percent(p) for p in (0.45, 0.031, 0.0042, 0.1)] == ["45%", "3.1%", "0.42%", "10%"]


def test_a_threshold_just_below_one_never_reads_as_one_hundred_percent():
    assert percent(0.9999997623) == "99.99998%" and percent(1.0) == "100%"


@pytest.mark.parametrize("probability, text", [
    (9.5e-08, "0.0000095%"), (1.2345e-09, "0.00000012%"), (0.0, "0%"), (0.000999, "0.1%"), (0.0996, "10%"),
])
def test_tiny_probabilities_are_plain_decimals_never_scientific_notation(probability, text):
    assert percent(probability) == text


@pytest.mark.parametrize("policy, words", [
    (Policy(0.45, 9.5e-08, 0.17),  # the isotonic zero level: only the tie-break ranks these scores
     "decline if fraud >= 45%; review if fraud >= 0.0000095% (near zero: any fraud signal) or regret >= 17%"),
    (Policy(0.45, 0.0, 0.17), "decline if fraud >= 45%; review every order not declined"),  # >= 0 takes every order
    (Policy(NEVER, 0.2, 0.0), "never decline; review every order"),
    (Policy(0.0, 0.0, 0.0), "decline every order; never review"),
])
def test_a_threshold_at_or_near_zero_is_said_as_the_policy_compares(policy, words):
    assert rule_in_words(policy) == words


@pytest.mark.parametrize("score, threshold", [(0.03094, 0.0309), (0.030949, 0.03095), (0.0, 9.5e-08),
                                              (0.5, 0.5), (0.122, 0.031), (0.0299999, 0.03)])
def test_a_score_and_its_threshold_are_printed_in_the_order_of_their_values(score, threshold):
    said, limit = percents_in_order(score, threshold)
    shown_order = float(said.removesuffix("%")) >= float(limit.removesuffix("%"))
    assert shown_order == (score >= threshold), (said, limit)
    assert "e" not in said + limit


def test_the_issue_reason_example_reads_as_written():
    assert percents_in_order(0.1224, 0.031) == ("12.2%", "3.1%")
