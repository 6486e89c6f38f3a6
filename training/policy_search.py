"""Choose the policy thresholds that minimise expected cost under a review capacity.

Exhaustive over a grid of thresholds, but each candidate costs O(1): orders are sorted
by fraud score once, and prefix sums of each decision's cost give the cost of "decline
the top i, review down to the top j (plus high regret below), approve the rest".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk.policy import Costs, Policy, decision_costs, decision_rates

_GRID = 80


@dataclass(frozen=True)
class PolicyChoice:
    policy: Policy
    cost: float
    cost_approve_all: float
    reviews_per_day: float
    rates: dict[str, float]


def _cut_points(sorted_desc: np.ndarray) -> np.ndarray:
    """Counts of top-scored orders to try: dense at the top, geometric further down.

    Each count is moved to the end of its run of tied scores, so that the threshold
    "score >= the count-th score" selects exactly that many orders.
    """
    n = len(sorted_desc)
    geometric = np.unique(np.round(np.geomspace(1, max(n, 1), _GRID)).astype("int64"))
    whole_ties = np.searchsorted(-sorted_desc, -sorted_desc[geometric - 1], side="right")
    return np.unique(np.concatenate([[0], whole_ties, [n]]))


def _threshold(sorted_desc: np.ndarray, top: int) -> float:
    """A threshold that selects (about) the `top` highest scores: 1.0+ means none."""
    return float(sorted_desc[top - 1]) if top > 0 else np.inf


def search_policy(
    fraud: np.ndarray,
    regret: np.ndarray,
    amount: np.ndarray,
    is_fraud: np.ndarray,
    is_regret: np.ndarray,
    days: float,
    costs: Costs,
    weight: np.ndarray | None = None,
) -> PolicyChoice:
    """The cheapest policy on this labelled slice whose reviews per day stay within capacity.

    `amount` must be in minor units of `costs.currency` already (`risk.money.Rates.to_minor`):
    the costs add amounts to fees, so orders of several currencies are converted first.
    Capacity binds on average over the slice (`days` * capacity reviews in all), which keeps
    each candidate O(1); `risk evaluate` then counts the days that went over it.

    `weight` weighs each order's cost (label-delay weights: a reported fraud of a young order
    stands for the ones not reported yet); review counts are of real orders, unweighted.
    """
    is_fraud, is_regret = is_fraud.astype(bool), is_regret.astype(bool)
    n = len(fraud)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype="float64")
    per_decision = [w * decision_costs(np.full(n, code), amount, is_fraud, is_regret, costs) for code in range(3)]
    order = np.argsort(-fraud, kind="stable")
    sorted_fraud = fraud[order]
    approve, review, decline = (np.concatenate([[0.0], np.cumsum(c[order])]) for c in per_decision)
    cuts = _cut_points(sorted_fraud)
    regret_sorted = np.sort(regret)[::-1]
    capacity = costs.review_capacity_per_day * max(days, 1e-9)
    best: tuple[float, int, int, float] | None = None
    for regret_top in _cut_points(regret_sorted):
        regret_t = _threshold(regret_sorted, int(regret_top))
        high = (regret[order] >= regret_t).astype("float64")
        high_count = np.concatenate([[0.0], np.cumsum(high)])
        review_high = np.concatenate([[0.0], np.cumsum(per_decision[1][order] * high)])
        approve_low = np.concatenate([[0.0], np.cumsum(per_decision[0][order] * (1 - high))])
        for j in cuts:  # review everything in the fraud top j (that is not declined)
            tail_reviews = high_count[n] - high_count[j]
            tail_cost = (review_high[n] - review_high[j]) + (approve_low[n] - approve_low[j])
            i = cuts[cuts <= j]  # decline the top i
            reviews = (j - i) + tail_reviews
            total = decline[i] + (review[j] - review[i]) + tail_cost
            total = np.where(reviews <= capacity, total, np.inf)
            k = int(np.argmin(total))
            if np.isfinite(total[k]) and (best is None or total[k] < best[0]):
                best = (float(total[k]), int(i[k]), int(j), regret_t)
    assert best is not None  # approving everything always fits the capacity
    _, top_decline, top_review, regret_t = best
    policy = Policy(
        decline_fraud=_threshold(sorted_fraud, top_decline),
        review_fraud=_threshold(sorted_fraud, top_review),
        review_regret=regret_t,
    )
    policy = Policy(**{k: min(v, 1.0 + 1e-9) for k, v in policy.to_dict().items()})
    codes = policy.decide_many(fraud, regret)
    exact = float((w * decision_costs(codes, amount, is_fraud, is_regret, costs)).sum())
    return PolicyChoice(
        policy=policy,
        cost=exact,
        cost_approve_all=float(per_decision[0].sum()),
        reviews_per_day=float((codes == 1).sum() / max(days, 1e-9)),
        rates=decision_rates(codes),
    )
