"""Calibrating and weighting with labels still to come, where the fully reported rates are known.

A built history: orders of ages spread over 60 days, a small high-risk group (60% fraud) among
low-risk orders (0.5%), each fraud reported after a known delay (70% chargebacks after ~30 days,
30% confirmations after ~6), so `F(age)` is known too.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.calibration import choose_calibrator
from training.delay_calibration import calibrate_delayed, expected_labels
from training.label_delay import KindDelay, LabelDelay, delay_weights

HIGH_RATE, LOW_RATE, HIGH_SHARE = 0.6, 0.005, 0.05
DELAY = LabelDelay("fraud", (KindDelay("fraud_chargeback", float(np.log(30.0)), 0.35, 700, 700.0),
                             KindDelay("confirmed_fraud", float(np.log(6.0)), 0.6, 300, 300.0)),
                   base_rate=HIGH_SHARE * HIGH_RATE + (1 - HIGH_SHARE) * LOW_RATE)


def built(n: int = 200_000, low_age: float = 0.0, seed: int = 4) -> dict[str, np.ndarray]:
    """Group, age, eventual label, and whether it is reported by now (a delay drawn from DELAY's kinds)."""
    rng = np.random.default_rng(seed)
    high = rng.random(n) < HIGH_SHARE
    age = rng.uniform(low_age, 60.0, n)
    fraud = rng.random(n) < np.where(high, HIGH_RATE, LOW_RATE)
    chargeback = rng.random(n) < 0.7
    normal = rng.standard_normal(n)
    delay = np.where(chargeback, 30.0 * np.exp(0.35 * normal), 6.0 * np.exp(0.6 * normal))
    return {"high": high, "age": age, "fraud": fraud, "reported": fraud & (delay <= age)}


def weighted_rate(weight: np.ndarray, positive: np.ndarray, among: np.ndarray) -> float:
    return float(np.sum(weight[among] * positive[among]) / np.sum(weight[among]))


def test_weights_with_each_orders_own_risk_recover_a_high_risk_groups_rate_the_base_rate_misses():
    h = built()
    base = delay_weights(h["reported"], h["age"], DELAY, min_reported=0.05)
    risk = np.where(h["high"], HIGH_RATE, LOW_RATE)
    own = delay_weights(h["reported"], h["age"], DELAY, min_reported=0.05, risk=risk)
    assert weighted_rate(base, h["reported"], h["high"]) < 0.85 * HIGH_RATE  # unreported frauds counted as genuine
    assert weighted_rate(own, h["reported"], h["high"]) == pytest.approx(HIGH_RATE, rel=0.05)
    assert weighted_rate(own, h["reported"], ~h["high"]) == pytest.approx(LOW_RATE, rel=0.15)


def test_expected_labels_sum_to_the_eventual_positives():
    h = built()
    share = DELAY.cdf(h["age"])
    expected = expected_labels(h["reported"], share, np.where(h["high"], HIGH_RATE, LOW_RATE))
    for group in (h["high"], ~h["high"]):
        assert expected[group].sum() == pytest.approx(h["fraud"][group].sum(), rel=0.05)


def test_delayed_calibration_recovers_the_fully_reported_rates_where_reported_labels_fall_short():
    """A validation slice with about half its frauds reported: a calibrator fitted to what is reported is
    about half the true rate; the expectation-maximisation one is right in both groups."""
    h = built(n=60_000, low_age=15.0)
    margin = np.where(h["high"], 2.0, -3.0) + np.random.default_rng(5).normal(0, 0.1, len(h["age"]))
    naive, _ = choose_calibrator(margin, h["reported"].astype(float))
    calibrator, _, rounds = calibrate_delayed(margin, h["reported"], DELAY.cdf(h["age"]))
    for group, rate in ((h["high"], HIGH_RATE), (~h["high"], LOW_RATE)):
        assert naive.apply(margin[group]).mean() < 0.75 * rate
        assert calibrator.apply(margin[group]).mean() == pytest.approx(rate, rel=0.12)
    assert 1 < rounds < 100
