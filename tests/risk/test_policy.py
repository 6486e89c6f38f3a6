"""The policy in words: thresholds as percentages, branches that never fire said so, costs with their currency."""

from __future__ import annotations

import pytest

from risk.policy import Policy, percent, policy_in_words, rule_in_words

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
