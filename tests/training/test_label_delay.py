"""The delay correction on a built history where the answer is known: rate, delays, censoring."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from training.label_delay import delay_weights, estimate_delays, first_reports

START = pd.Timestamp("2026-01-01T00:00:00Z")
AS_OF = START + pd.Timedelta(days=60)
TRUE_RATE = 0.02
# (kind, share of positives, median delay in days, log-sd): chargebacks weeks later, confirmations within days
FRAUD_KINDS = (("fraud_chargeback", 0.7, 30.0, 0.35), ("confirmed_fraud", 0.3, 6.0, 0.6))


def built_history(n: int = 200_000, days: float = 60, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Orders spread evenly over `days`, 2% fraud, each fraud reported after a known log-normal delay."""
    rng = np.random.default_rng(seed)
    created = START + pd.to_timedelta(np.sort(rng.uniform(0, days * 86400, n)), unit="s")
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "created_at": created})
    fraud = np.flatnonzero(rng.random(n) < TRUE_RATE)
    which = rng.choice(len(FRAUD_KINDS), size=fraud.size, p=[k[1] for k in FRAUD_KINDS])
    median = np.array([k[2] for k in FRAUD_KINDS])[which]
    sigma = np.array([k[3] for k in FRAUD_KINDS])[which]
    delay_days = median * np.exp(sigma * rng.standard_normal(fraud.size))
    outcomes = pd.DataFrame({
        "order_id": orders["order_id"].to_numpy()[fraud],
        "kind": np.array([k[0] for k in FRAUD_KINDS])[which],
        "reported_at": orders["created_at"].to_numpy()[fraud] + pd.to_timedelta(delay_days * 86400, unit="s"),
    })
    outcomes["reported_at"] = pd.to_datetime(outcomes["reported_at"], utc=True)
    return orders, outcomes, delay_days


def true_cdf(age_days: np.ndarray) -> np.ndarray:
    from scipy import stats
    return sum(share * stats.norm.cdf((np.log(np.maximum(age_days, 1e-9)) - np.log(median)) / sigma)
               for _, share, median, sigma in FRAUD_KINDS)


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    return built_history()


def reported_fraud(orders: pd.DataFrame, outcomes: pd.DataFrame) -> np.ndarray:
    known = outcomes[outcomes["reported_at"] <= AS_OF]
    return orders["order_id"].isin(known["order_id"]).to_numpy()


def ages(orders: pd.DataFrame) -> np.ndarray:
    return (AS_OF - orders["created_at"]).dt.total_seconds().to_numpy() / 86400


def test_estimated_reporting_curve_matches_the_true_delays_despite_censoring(history):
    orders, outcomes, _ = history
    fraud = estimate_delays(orders, outcomes, AS_OF)["fraud"]
    grid = np.array([3.0, 7, 14, 21, 30, 45, 60])
    np.testing.assert_allclose(fraud.cdf(grid), true_cdf(grid), atol=0.03)
    chargeback = {k.kind: k for k in fraud.kinds}["fraud_chargeback"]
    assert chargeback.median_days() == pytest.approx(30.0, rel=0.05)


def test_naive_delays_of_reports_seen_so_far_are_biased_short(history):
    """What the truncation term corrects: delays seen by as-of are shorter than the real ones."""
    orders, outcomes, delays = history
    seen = first_reports(orders, outcomes, AS_OF, "fraud")
    assert np.median(seen["delay"]) < 0.85 * np.median(delays)


def test_corrected_weights_recover_the_true_positive_rate_where_naive_and_mature_do_not(history):
    orders, outcomes, _ = history
    positive, age = reported_fraud(orders, outcomes), ages(orders)
    fraud = estimate_delays(orders, outcomes, AS_OF)["fraud"]
    weight = delay_weights(positive, age, fraud, min_reported=0.2)
    used = weight > 0
    corrected = float(np.sum(weight * positive) / np.sum(weight))
    naive = float(positive.mean())  # every order, unreported ones as negatives
    mature = float(positive[age >= 30].mean())  # 30-day maturity: chargebacks still missing
    assert used.mean() > 0.7  # most of the history is learned from, not only the mature part
    assert corrected == pytest.approx(TRUE_RATE, rel=0.08)
    assert naive < 0.75 * TRUE_RATE
    assert mature < 0.85 * TRUE_RATE
    assert fraud.base_rate == pytest.approx(TRUE_RATE, rel=0.1)


def test_corrected_rate_holds_in_each_age_band(history):
    """Weights are right for young and old orders alike, so the rate does not depend on age."""
    orders, outcomes, _ = history
    positive, age = reported_fraud(orders, outcomes), ages(orders)
    weight = delay_weights(positive, age, estimate_delays(orders, outcomes, AS_OF)["fraud"], min_reported=0.2)
    for low, high in ((10, 20), (20, 35), (35, 60)):
        band = (age >= low) & (age < high) & (weight > 0)
        rate = np.sum(weight[band] * positive[band]) / np.sum(weight[band])
        assert rate == pytest.approx(TRUE_RATE, rel=0.15), (low, high)


def test_orders_whose_label_is_mostly_unreported_get_no_weight(history):
    orders, outcomes, _ = history
    fraud = estimate_delays(orders, outcomes, AS_OF)["fraud"]
    weight = delay_weights(np.zeros(3, bool), np.array([0.5, 2.0, 40.0]), fraud, min_reported=0.2)
    assert weight[0] == 0 and weight[1] == 0 and weight[2] > 0.99


def test_outcomes_reported_after_as_of_do_not_shape_the_estimate(history):
    orders, outcomes, _ = history
    late = outcomes.copy()
    after = late["reported_at"] > AS_OF
    late.loc[after, "reported_at"] = late.loc[after, "reported_at"] + pd.Timedelta(days=300)
    before, moved = estimate_delays(orders, outcomes, AS_OF)["fraud"], estimate_delays(orders, late, AS_OF)["fraud"]
    assert before.to_dict() == moved.to_dict()


def test_a_label_mostly_of_kinds_too_rare_to_fit_is_reported_at_once():
    """Fewer reports than MIN_REPORTS fit no delay: that kind counts as reported at once, and the age
    by which a share is reported may then be 0 (this raised in a varied world with 30 days of history)."""
    from training.label_delay import KindDelay, LabelDelay

    rare = KindDelay("confirmed_fraud", mu=-20.0, sigma=0.02, reports=3, expected_reports=3.0)
    slow = KindDelay("fraud_chargeback", mu=float(np.log(30)), sigma=0.3, reports=10, expected_reports=1.0)
    delay = LabelDelay("fraud", (rare, slow), base_rate=0.01)
    assert delay.age_reaching(0.05) == 0.0
    assert 0 < delay.age_reaching(0.9) < 60


def test_exposure_counts_the_positives_still_to_come_where_horvitz_thompson_falls_short():
    """Chargebacks after ~30 days in a 45-day history: the youngest orders' chargebacks are reported with a chance
    too small to show up, so counting each report 1 / F(age) comes out short; reports over the sum of F over every
    order's age (the rate's maximum likelihood) does not. Both with the true delays, so only the count differs."""
    from training.label_delay import KindDelay, LabelDelay, with_exposure

    rng = np.random.default_rng(11)
    n, rate = 600_000, 0.01
    age = rng.uniform(0, 45, n)
    fraud = rng.random(n) < rate
    delay = 30.0 * np.exp(0.35 * rng.standard_normal(n))
    reported = fraud & (delay <= age)
    truth = KindDelay("fraud_chargeback", float(np.log(30.0)), 0.35, int(reported.sum()), 0.0)
    horvitz = float(np.sum(1.0 / np.maximum(truth.cdf(age[reported]), 1e-3)))
    known = LabelDelay("fraud", (dataclasses.replace(truth, expected_reports=horvitz),), base_rate=horvitz / n)
    exposure = with_exposure({"fraud": known}, age)["fraud"]
    assert exposure.base_rate == pytest.approx(fraud.mean(), rel=0.07)  # about 2 standard errors
    assert horvitz / n < 0.9 * fraud.mean()


def test_a_history_shorter_than_the_delays_says_how_many_more_positives_there_may_be():
    """20 days of history for chargebacks after ~30: only their fast tail is seen, and a much slower delay fits as
    well; with 60 days the reports pin the delays down and there is little left to say."""
    from training.label_delay import with_exposure

    factors = {}
    for days in (20, 60):
        orders, outcomes, _ = built_history(days=days)
        as_of = START + pd.Timedelta(days=days)
        age = ((as_of - orders["created_at"]).dt.total_seconds() / 86400).to_numpy()
        fraud = with_exposure(estimate_delays(orders, outcomes, as_of), age)["fraud"]
        factors[days] = fraud.underestimate_up_to()
        eventual = TRUE_RATE / fraud.base_rate  # the history is 2% fraud, every fraud reported in the end
        assert factors[days] >= eventual * 0.95  # "up to" covers what is really missing
    assert factors[20] > 1.5
    assert factors[60] < 1.1
