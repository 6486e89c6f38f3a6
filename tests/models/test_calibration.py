"""Calibrators: probabilities that match observed rates, in the margin's order, the same online and in batch."""

from __future__ import annotations

import numpy as np
import pytest

from models.calibration import Calibrator, choose_calibrator, fit_isotonic


@pytest.fixture
def margins_and_labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    margin = rng.normal(size=20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(2 * margin - 3)))).astype("int8")
    return margin, y


def test_isotonic_probabilities_keep_the_margins_order_without_ties(margins_and_labels):
    margin, y = margins_and_labels
    calibrator = fit_isotonic(margin, y)
    steps = np.interp(np.sort(margin), calibrator.x, calibrator.y)
    assert len(np.unique(steps)) < len(margin) / 10  # plain isotonic: long runs of equal probabilities
    probabilities = calibrator.apply(np.sort(margin))
    assert np.all(np.diff(probabilities) > 0)
    assert np.max(np.abs(probabilities - steps)) <= 1e-6


def test_one_margin_online_gives_the_batch_probability(margins_and_labels):
    margin, y = margins_and_labels
    for calibrator in (fit_isotonic(margin, y), Calibrator("platt", a=1.7, b=-2.0)):
        batch = calibrator.apply(margin[:200])
        online = [calibrator.apply_one(float(m)) for m in margin[:200]]
        np.testing.assert_allclose(online, batch, rtol=0, atol=1e-12)


def test_chosen_calibrator_matches_the_observed_rate(margins_and_labels):
    margin, y = margins_and_labels
    calibrator, scores = choose_calibrator(margin, y)
    assert set(scores) == {"isotonic", "platt"}
    assert calibrator.kind == min(scores, key=scores.get)
    assert calibrator.apply(margin).mean() == pytest.approx(y.mean(), abs=0.005)


def test_a_stored_calibrator_round_trips(margins_and_labels):
    calibrator = fit_isotonic(*margins_and_labels)
    again = Calibrator.from_dict(calibrator.to_dict())
    np.testing.assert_array_equal(again.apply(margins_and_labels[0]), calibrator.apply(margins_and_labels[0]))


def test_platt_on_expected_labels_matches_their_mean():
    """Labels in [0, 1] (a label-delay calibrator's expected labels) are fitted as that share of a positive."""
    from models.calibration import fit_platt

    margin = np.random.default_rng(1).normal(size=4000)
    soft = np.full(4000, 0.3)
    calibrator = fit_platt(margin, soft)
    assert calibrator.apply(margin).mean() == pytest.approx(0.3, abs=0.01)
    assert abs(calibrator.a) < 0.1  # the margin says nothing here


def test_platt_reaches_the_weighted_log_loss_optimum_scikit_learn_approaches():
    """Newton's method on the two parameters: no worse a loss than scikit-learn's LogisticRegression (whose
    tolerance stops it near the optimum), the same probabilities to a thousandth, with weights and soft labels."""
    from sklearn.linear_model import LogisticRegression

    from models.calibration import PLATT_C, fit_platt

    rng = np.random.default_rng(7)
    margin = rng.normal(-3, 1.2, 15_000)
    y = (rng.random(15_000) < 1 / (1 + np.exp(-(1.3 * margin + 1)))).astype("float64")
    soft = np.where(y == 1, 1.0, rng.uniform(0, 0.05, len(y)))
    weight = rng.uniform(0.5, 2.0, len(y))
    doubled_margin, doubled_weight = np.concatenate([margin, margin]), np.concatenate([weight * soft,
                                                                                       weight * (1 - soft)])
    reference = LogisticRegression(C=PLATT_C).fit(doubled_margin.reshape(-1, 1), np.repeat([1.0, 0.0], len(y)),
                                                  sample_weight=doubled_weight)

    def loss(a: float, b: float) -> float:
        z = a * margin + b
        return float(np.sum(weight * (np.logaddexp(0, z) - soft * z))) + a * a / (2 * PLATT_C)

    ours = fit_platt(margin, soft, weight)
    assert loss(ours.a, ours.b) <= loss(float(reference.coef_[0, 0]), float(reference.intercept_[0])) + 1e-9
    theirs = Calibrator("platt", a=float(reference.coef_[0, 0]), b=float(reference.intercept_[0]))
    np.testing.assert_allclose(ours.apply(margin), theirs.apply(margin), atol=1e-3)
