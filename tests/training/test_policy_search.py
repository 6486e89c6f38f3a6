"""The policy optimiser finds known optima and respects the review capacity."""

from __future__ import annotations

import numpy as np

from risk.policy import Costs, Policy, decision_costs
from training.policy_search import search_policy


def case(n_fraud: int, n_mixed_genuine: int, n_genuine: int):
    """Fraud scored 0.9; a mixed band at 0.5 (half fraud); genuine at 0.01. Amounts 100.00."""
    fraud = np.r_[np.full(n_fraud, 0.9), np.full(2 * n_mixed_genuine, 0.5), np.full(n_genuine, 0.01)]
    is_fraud = np.r_[np.ones(n_fraud), np.tile([1, 0], n_mixed_genuine), np.zeros(n_genuine)].astype(bool)
    n = len(fraud)
    return fraud, np.zeros(n), np.full(n, 10_000), is_fraud, np.zeros(n, bool)


def test_clear_fraud_is_declined_and_the_rest_approved():
    fraud, regret, amount, is_fraud, is_regret = case(10, 0, 1000)
    choice = search_policy(fraud, regret, amount, is_fraud, is_regret, days=1, costs=Costs())
    assert choice.cost == 0
    assert choice.policy.decide(0.9, 0.0) == "decline" and choice.policy.decide(0.01, 0.0) == "approve"
    assert choice.cost_approve_all == 10 * (10_000 + Costs().chargeback_fee)


def test_a_mixed_band_is_reviewed_when_review_is_cheaper_than_declining():
    fraud, regret, amount, is_fraud, is_regret = case(0, 5, 1000)  # 5 fraud + 5 genuine at 0.5
    choice = search_policy(fraud, regret, amount, is_fraud, is_regret, days=1, costs=Costs(review_capacity_per_day=100))
    assert choice.policy.decide(0.5, 0.0) == "review"
    assert choice.cost == 10 * Costs().review_cost  # cheaper than 5 lost margins (7,500) or 5 frauds


def test_capacity_forces_declines_when_reviews_do_not_fit():
    fraud, regret, amount, is_fraud, is_regret = case(0, 5, 1000)
    costs = Costs(review_capacity_per_day=3)
    choice = search_policy(fraud, regret, amount, is_fraud, is_regret, days=1, costs=costs)
    assert choice.reviews_per_day <= 3
    assert choice.policy.decide(0.5, 0.0) == "decline"
    assert choice.cost == 5 * costs.margin_rate * 10_000


def test_high_regret_is_reviewed_when_review_prevents_enough_refunds():
    n = 1000
    regret = np.r_[np.full(20, 0.9), np.full(n, 0.01)]
    is_regret = np.r_[np.ones(20, bool), np.zeros(n, bool)]
    costs = Costs(refund_cost=1000, review_cost=100, review_prevents_regret=0.5)
    choice = search_policy(np.zeros(n + 20), regret, np.full(n + 20, 5_000), np.zeros(n + 20, bool), is_regret,
                           days=1, costs=costs)
    assert choice.policy.decide(0.0, 0.9) == "review" and choice.policy.decide(0.0, 0.01) == "approve"
    assert choice.cost == 20 * (100 + 500)


def test_cost_of_each_decision_follows_the_cost_model():
    costs = Costs(chargeback_fee=1500, margin_rate=0.1, review_cost=300, refund_cost=800, review_prevents_regret=0.25)
    amount = np.array([10_000, 10_000, 10_000])
    is_fraud, is_regret = np.array([True, False, False]), np.array([False, True, False])
    assert list(decision_costs(np.zeros(3, int), amount, is_fraud, is_regret, costs)) == [11_500, 800, 0]
    assert list(decision_costs(np.ones(3, int), amount, is_fraud, is_regret, costs)) == [300, 900, 300]
    assert list(decision_costs(np.full(3, 2), amount, is_fraud, is_regret, costs)) == [0, 1000, 1000]


def test_policy_decides_arrays_like_single_orders():
    policy = Policy(decline_fraud=0.8, review_fraud=0.3, review_regret=0.5)
    fraud, regret = np.array([0.9, 0.5, 0.1, 0.1]), np.array([0.0, 0.0, 0.6, 0.1])
    names = ["approve", "review", "decline"]
    assert [names[c] for c in policy.decide_many(fraud, regret)] == [
        policy.decide(f, r) for f, r in zip(fraud, regret, strict=True)] == ["decline", "review", "review", "approve"]
