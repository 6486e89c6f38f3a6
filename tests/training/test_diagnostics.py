"""Training diagnostics: the share of positives not reported yet, on a built history where it is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.diagnostics import diagnostics, label_maturity, warnings_of

AS_OF = pd.Timestamp("2026-06-01T00:00:00Z")


def built_history(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Every order is a fraud reported 0-20 days (uniform) after it; young orders are 0-20 days old.

    So among the young ones exactly half the frauds are reported in expectation (the mean of
    age / 20), and among the old ones (40-100 days) all are.
    """
    rng = np.random.default_rng(seed)
    young, old = rng.uniform(0, 20, 4000), rng.uniform(40, 100, 4000)
    age = np.concatenate([young, old])
    created = AS_OF - pd.to_timedelta(age, unit="D")
    reported = created + pd.to_timedelta(rng.uniform(0, 20, len(age)), unit="D")
    ids = [f"o{i}" for i in range(len(age))]
    orders = pd.DataFrame({"order_id": ids, "created_at": created})
    outcomes = pd.DataFrame({"order_id": ids, "kind": "fraud_chargeback", "reported_at": reported})
    labels = pd.DataFrame({"created_at": created, "fraud": (reported <= AS_OF).astype("int8"), "regret": 0})
    return orders, outcomes, labels, age < 20


def test_the_unreported_share_of_young_positives_is_estimated_from_the_delays():
    orders, outcomes, labels, young = built_history()
    found = label_maturity(orders, outcomes, AS_OF, labels, valid=young)["fraud"]
    assert labels["fraud"][young].mean() == pytest.approx(0.5, abs=0.03)  # the truth of this history
    assert found["unreported_share_valid"] == pytest.approx(0.5, abs=0.05)
    assert found["unreported_share_train"] == pytest.approx(0.0, abs=0.01)
    assert found["delay_days"]["p50"] == pytest.approx(10, abs=1)


def test_outcomes_reported_after_the_training_moment_are_not_seen():
    orders, outcomes, labels, young = built_history()
    late = outcomes.assign(reported_at=outcomes["reported_at"] + pd.Timedelta(days=365))
    found = label_maturity(orders, late, AS_OF, labels.assign(fraud=0), valid=young)["fraud"]
    assert found["outcomes_in_estimate"] == 0 and np.isnan(found["unreported_share_valid"])


def test_warnings_name_immature_labels_small_training_few_trees_and_few_positives():
    maturity = {"fraud": {"unreported_share_train": 0.0, "unreported_share_valid": 0.42, "delay_days": {"p50": 21}}}
    models = {"fraud": {"trees": 3, "positives_train": 500, "positives_valid": 12}}
    found = warnings_of(maturity, n_train=900, n_valid=1000, models=models)
    assert any("about 42% of the fraud positives of the validation slice" in w for w in found)
    assert any("training slice (900 orders) is smaller than the validation slice (1,000)" in w for w in found)
    assert any("early stopping kept only 3 trees" in w for w in found)
    assert any("only 12 positives in the valid slice" in w for w in found)
    assert warnings_of({}, 2000, 1000, {"fraud": {"trees": 40, "positives_train": 500, "positives_valid": 90}}) == []


@pytest.mark.parametrize("mode, says, never", [
    ("correct", ["1 / P(reported by its age)", "prefer --label-delay mature"], "raise --maturity-days"),
    ("mature", ["raise --maturity-days"], "--label-delay correct"),
])
def test_the_immature_label_advice_matches_the_label_delay_mode(mode, says, never):
    maturity = {"fraud": {"unreported_share_train": 0.0, "unreported_share_valid": 0.42, "delay_days": {"p50": 21}}}
    (warning,) = warnings_of(maturity, 2000, 1000, {}, label_delay=mode)
    assert warning.startswith("immature labels: about 42% of the fraud positives")
    assert all(part in warning for part in says) and never not in warning


def test_diagnostics_pass_the_training_mode_to_the_warnings():
    orders, outcomes, labels, young = built_history()
    for mode, advice in (("correct", "prefer --label-delay mature"), ("mature", "raise --maturity-days")):
        found = diagnostics(orders, outcomes, AS_OF, labels, young, {}, label_delay=mode)["warnings"]
        assert any(w.startswith("immature labels: about 5") and advice in w for w in found), found


def delayed_frauds(days: float, n: int = 100_000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders over `days` before AS_OF, 2% fraud: 70% chargebacks after ~30 days, 30% confirmations after ~6."""
    rng = np.random.default_rng(seed)
    created = AS_OF - pd.to_timedelta(rng.uniform(0, days, n), unit="D")
    fraud = np.flatnonzero(rng.random(n) < 0.02)
    chargeback = rng.random(fraud.size) < 0.7
    delay = np.where(chargeback, 30.0, 6.0) * np.exp(np.where(chargeback, 0.35, 0.6) * rng.standard_normal(fraud.size))
    ids = np.array([f"o{i}" for i in range(n)])
    orders = pd.DataFrame({"order_id": ids, "created_at": created})
    kind = np.where(chargeback, "fraud_chargeback", "confirmed_fraud")
    outcomes = pd.DataFrame({"order_id": ids[fraud], "kind": kind,
                             "reported_at": created[fraud] + pd.to_timedelta(delay, unit="D")})
    return orders, outcomes


def test_a_delay_beyond_the_history_is_warned_with_how_much_the_scores_may_be_under():
    """20 days of history for chargebacks after ~30: the warning names the kind and the factor; with 60 days of
    history the reports pin the delays down and there is nothing to warn about."""
    from training.diagnostics import delay_warnings
    from training.label_delay import estimate_delays, with_exposure

    found = {}
    for days in (20, 60):
        orders, outcomes = delayed_frauds(days)
        age = ((AS_OF - orders["created_at"]).dt.total_seconds() / 86400).to_numpy()
        found[days] = delay_warnings(with_exposure(estimate_delays(orders, outcomes, AS_OF), age), days)
    (warning,) = found[20]
    assert warning.startswith("delays beyond the history: the fitted fraud_chargeback delay (median ")
    assert "in 20 days of history" in warning and "fraud scores may be under-estimated by up to ~" in warning
    assert found[60] == []
