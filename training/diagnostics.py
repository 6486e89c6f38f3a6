"""Warnings a data scientist needs before trusting a trained model, computed from what training saw.

- *immature labels*: outcomes arrive days to weeks after the order, so among recent orders
  some positives are not reported yet. The reporting delay distribution is estimated from
  the outcomes known at `as_of` (orders old enough that their delays are observed in full
  up to a horizon), and each slice's share of positives probably still unreported is
  1 - observed / expected, the expected count weighting each observed positive by
  1 / P(reported within its age). A validation slice missing a tenth of its positives
  mis-calibrates the model and mis-prices the policy.
- *delays beyond the history* (`--label-delay correct`): with a history short beside a
  kind's reporting delay (30 days of history, chargebacks after 20 to 60) only the fast tail
  of its reports has been seen, and how many are still to come is the prior's guess, not the
  data's (`training.label_delay.slow_end`). The warning says how much lower the scores may be.
- a training slice smaller than the validation slice, very few trees (early stopping
  stopped almost at once: the model learned next to nothing), few positives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from risk.contract import FRAUD_KINDS, REGRET_KINDS
from training.label_delay import MIN_REPORTS, LabelDelay

UNREPORTED_WARNING = 0.10  # share of a slice's positives probably unreported that earns a warning
UNDERESTIMATE_WARNING = 1.5  # positives possibly still to come, times those expected, that earn a warning
FEW_TREES = 10
FEW_POSITIVES = 50
DELAY_HORIZON_DAYS = 90.0  # longest delay the estimate can see; the contract's chargebacks arrive within 60
KINDS = {"fraud": FRAUD_KINDS, "regret": REGRET_KINDS}


@dataclass(frozen=True)
class ReportingDelay:
    """Empirical distribution of days from order to report, of one risk's outcomes."""

    days: np.ndarray  # sorted delays in days, each at most `horizon`
    horizon: float

    def reported_within(self, age_days: np.ndarray) -> np.ndarray:
        """P(an outcome is reported within `age_days` of its order); 1 beyond the horizon."""
        if len(self.days) == 0:
            return np.ones_like(age_days, dtype="float64")
        share = np.searchsorted(self.days, age_days, side="right") / len(self.days)
        return np.where(age_days >= self.horizon, 1.0, share)

    def quantiles(self) -> dict[str, float]:
        if len(self.days) == 0:
            return {}
        return {f"p{q}": float(np.percentile(self.days, q)) for q in (50, 90, 99)}


def reporting_delay(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp, risk: str) -> ReportingDelay:
    """The delay distribution of `risk`'s outcomes known at `as_of`, free of right truncation up to its horizon.

    Only orders created at least `horizon` before `as_of` are used, so that each of their
    outcomes reported within the horizon has been seen; the horizon is the shorter of
    DELAY_HORIZON_DAYS and half the history (a short history sees short delays only).
    """
    span = (as_of - orders["created_at"].min()).total_seconds() / 86400 if len(orders) else 0.0
    horizon = min(DELAY_HORIZON_DAYS, span / 2)
    known = outcomes[(outcomes["reported_at"] <= as_of) & outcomes["kind"].isin(KINDS[risk])]
    created = orders.set_index("order_id")["created_at"]
    joined = known.assign(created_at=known["order_id"].map(created)).dropna(subset=["created_at"])
    old_enough = joined["created_at"] <= as_of - pd.Timedelta(days=horizon)
    gaps = (joined.loc[old_enough, "reported_at"] - joined.loc[old_enough, "created_at"]).dt.total_seconds() / 86400
    days = np.sort(gaps.to_numpy(dtype="float64"))
    return ReportingDelay(days=days[days <= horizon], horizon=horizon)


def unreported_share(positive: np.ndarray, age_days: np.ndarray, delay: ReportingDelay) -> float:
    """Share of a slice's positives probably not reported yet: 1 - observed / expected."""
    observed = int(positive.sum())
    if observed == 0:
        return float("nan")
    within = np.clip(delay.reported_within(age_days[positive.astype(bool)]), 1e-3, 1.0)
    expected = float((1.0 / within).sum())
    return max(0.0, 1.0 - observed / expected)


def label_maturity(
    orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp, labels: pd.DataFrame, valid: np.ndarray
) -> dict[str, Any]:
    """Per risk: the delay quantiles and the share of positives probably unreported in training and validation.

    `labels` holds `created_at` and 0/1 columns per risk for the orders learned from, `valid`
    marks the validation slice among them.
    """
    age = ((as_of - labels["created_at"]).dt.total_seconds() / 86400).to_numpy(dtype="float64")
    result: dict[str, Any] = {}
    for risk in KINDS:
        delay = reporting_delay(orders, outcomes, as_of, risk)
        positive = labels[risk].to_numpy() == 1
        result[risk] = {
            "delay_days": delay.quantiles(),
            "delay_horizon_days": delay.horizon,
            "outcomes_in_estimate": int(len(delay.days)),
            "unreported_share_train": unreported_share(positive[~valid], age[~valid], delay),
            "unreported_share_valid": unreported_share(positive[valid], age[valid], delay),
        }
    return result


IMMATURE_ADVICE = {
    "correct": ("--label-delay correct counts each reported positive of a young order for 1 / P(reported by its "
                "age), assuming the reporting delays estimated from the outcomes known at --as-of hold for these "
                "orders too; if reporting has slowed or changed lately, prefer --label-delay mature with "
                "--maturity-days past the delays, or move --as-of later"),
    "mature": "move --as-of later or raise --maturity-days",
}
"""What to do about immature labels, by label-delay mode: under the correction the missing positives
are already weighed for, so the advice says what that rests on and when maturity is the safer choice."""


def delay_warnings(delays: dict[str, LabelDelay], history_days: float) -> list[str]:
    """A warning per label whose positives still to come the reports cannot pin down (see the module)."""
    found = []
    for risk, delay in delays.items():
        factor, kind = delay.underestimate_up_to(), delay.slowest_kind()
        if factor < UNDERESTIMATE_WARNING or kind is None:
            continue
        fitted = "reported at once" if kind.reports < MIN_REPORTS else f"median {kind.median_days():.0f} days"
        found.append(f"delays beyond the history: the fitted {kind.kind} delay ({fitted}, from {kind.reports} "
                     f"reports in {history_days:.0f} days of history) cannot be told from a median of "
                     f"{kind.slow_median_days or 0:.0f} days; {risk} scores may be under-estimated by up to "
                     f"~{factor:.1f}x. Train on a longer history, or check the scores against later reports "
                     "(risk evaluate) before relying on them")
    return found


def warnings_of(maturity: dict[str, Any], n_train: int, n_valid: int, models: dict[str, dict[str, Any]],
                label_delay: str = "correct") -> list[str]:
    """The warnings worth printing, each one sentence saying what to do (`label_delay`: the training mode)."""
    found = []
    advice = IMMATURE_ADVICE[label_delay]
    for risk, facts in maturity.items():
        for slice_name in ("train", "valid"):
            share = facts[f"unreported_share_{slice_name}"]
            if share == share and share >= UNREPORTED_WARNING:  # NaN: no positives, said below
                where = "validation" if slice_name == "valid" else "training"
                found.append(f"immature labels: about {share:.0%} of the {risk} positives of the {where} slice are "
                             f"probably not reported yet (median delay {facts['delay_days'].get('p50', 0):.0f} days); "
                             f"{advice}")
    if n_train < n_valid:
        found.append(f"the training slice ({n_train:,} orders) is smaller than the validation slice ({n_valid:,}); "
                     "lower --valid-days or give more history")
    for risk, facts in models.items():
        if facts["trees"] and facts["trees"] < FEW_TREES:
            found.append(f"{risk}: early stopping kept only {facts['trees']} trees: the model learned little; "
                         "check the labels and the learning rate")
        for slice_name in ("train", "valid"):
            if facts[f"positives_{slice_name}"] < FEW_POSITIVES:
                found.append(f"{risk}: only {facts[f'positives_{slice_name}']} positives in the {slice_name} slice: "
                             "metrics and thresholds are noisy")
    return found


def diagnostics(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp, labels: pd.DataFrame,
                valid: np.ndarray, models: dict[str, dict[str, Any]], label_delay: str = "correct",
                delays: dict[str, LabelDelay] | None = None) -> dict[str, Any]:
    """Label maturity per slice and the warnings, as the model's metadata records them (`delays`: the
    reporting delays the correction used, whose extrapolation beyond the history is warned about)."""
    maturity = label_maturity(orders, outcomes, as_of, labels, valid)
    history_days = (as_of - orders["created_at"].min()).total_seconds() / 86400 if len(orders) else 0.0
    found = delay_warnings(delays or {}, history_days)
    return {"label_maturity": maturity,
            "warnings": found + warnings_of(maturity, int((~valid).sum()), int(valid.sum()), models, label_delay)}
