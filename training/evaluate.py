"""Evaluate fraud and regret predictions against the labels known at one moment.

Two models can only be compared when they are priced the same way: with the labels as
they were known at `as_of` (never a report from later), the same ranking metrics, and
the same cost model as the policy optimiser (`risk.policy.decision_costs`). This module
is that one place; `training.report` draws it and `risk evaluate` runs it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

from risk.datasets import read_frame
from risk.errors import DataError, InvalidInput
from risk.labels import DEFAULT_MATURITY, labels_as_of
from risk.money import Rates, load_rates, minor_exponent
from risk.policy import DECISION_CODES, Costs, Policy, decision_costs, decision_rates

RISKS = ("fraud", "regret")
PREDICTION_COLUMNS = ("order_id", "fraud_score", "regret_score", "decision")
ORDER_COLUMNS = ("order_id", "created_at", "amount", "currency")
OUTCOME_COLUMNS = ("order_id", "kind", "reported_at")
FPR_TARGETS = (0.001, 0.01)
RELIABILITY_BINS = 10
NAN = float("nan")


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate` found, plus the aligned per-order arrays the report draws from.

    `metrics` holds plain Python values only (NaN where a metric is undefined, e.g. the
    AUC of a risk without positives); `to_json` writes NaN as null. The arrays hold one
    entry per labelled order, all in the same order; `amount` is in minor units of the
    reporting currency `costs.currency` (converted with the rates named in `metrics["money"]`).
    """

    metrics: dict[str, Any]
    per_week: pd.DataFrame
    reliability: dict[str, pd.DataFrame]
    scores: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    decisions: np.ndarray
    amount: np.ndarray
    created_at: pd.Series
    as_of: pd.Timestamp
    costs: Costs

    def to_json(self) -> str:
        """The metrics as strict JSON (NaN becomes null)."""
        return json.dumps(json_ready(self.metrics), indent=2, allow_nan=False)


# ---- reading ---------------------------------------------------------------------------


def read_predictions(path: str | Path) -> pd.DataFrame:
    """Predictions (order_id, fraud_score, regret_score, decision) from .parquet or .csv."""
    frame = read_frame(path, csv_dtype={"order_id": str, "decision": str})
    return check_predictions(frame, source=str(path))


def check_predictions(frame: pd.DataFrame, source: str = "predictions") -> pd.DataFrame:
    """The prediction columns, validated: unique ids, scores in 0..1, known decisions."""
    _require(frame, PREDICTION_COLUMNS, source)
    ids = frame["order_id"]
    if ids.isna().any():
        raise DataError(f"{source}: column 'order_id' has {int(ids.isna().sum())} missing value(s)")
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise DataError(f"{source}: {len(repeated)} repeated order_id(s), e.g. {repeated.iloc[0]!r}")
    out = pd.DataFrame({"order_id": ids.astype(str).to_numpy()})
    for risk in RISKS:
        out[f"{risk}_score"] = _scores(frame[f"{risk}_score"], source, f"{risk}_score")
    decisions = frame["decision"].astype(object)
    unknown = decisions[~decisions.isin(list(DECISION_CODES))]
    if len(unknown):
        raise DataError(f"{source}: column 'decision': {len(unknown)} value(s) not approve, review or decline, "
                        f"e.g. {unknown.iloc[0]!r}")
    out["decision"] = decisions.to_numpy()
    return out


def _scores(values: pd.Series, source: str, column: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = np.flatnonzero(~((numbers >= 0) & (numbers <= 1)))
    if len(bad):
        raise DataError(f"{source}: column '{column}', row {bad[0] + 1}: a score must be a probability "
                        f"in 0..1, got {values.iloc[bad[0]]!r} ({len(bad)} such row(s))")
    return numbers


def _require(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}")


# ---- evaluation ------------------------------------------------------------------------


def evaluate(
    predictions: pd.DataFrame,
    orders: pd.DataFrame,
    outcomes: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    maturity: timedelta = DEFAULT_MATURITY,
    costs: Costs = Costs(),  # noqa: B008 - frozen dataclass, safe as a default
    rates: Rates | None = None,
) -> Evaluation:
    """Score `predictions` against the labels known at `as_of` (default: the latest report).

    Only labelled orders are scored; `metrics["data"]` says how many predictions were
    left out because their label was not known yet. Unknown order ids are an error:
    they mean the predictions and the orders do not belong together. Amounts are
    converted to `costs.currency` with `rates` (default: the shipped rates) before any
    cost is computed; a currency the rates lack is one InvalidInput naming it.
    """
    predictions = check_predictions(predictions)
    _require(orders, ORDER_COLUMNS, "orders")
    _require(outcomes, OUTCOME_COLUMNS, "outcomes")
    joined = _join(predictions, orders)
    as_of = _resolve_as_of(as_of, outcomes, joined)
    labels = labels_as_of(joined, outcomes, as_of, maturity)
    labelled = labels["labelled"].to_numpy(dtype=bool)
    if not labelled.any():
        raise DataError(f"no prediction has a known label at {as_of.isoformat()}: orders must be reported on "
                        f"or be older than the {maturity.days}-day maturity window")
    scored = joined[labelled].reset_index(drop=True)
    truth = {risk: labels.loc[labelled, risk].to_numpy(dtype=bool) for risk in RISKS}
    scores = {risk: scored[f"{risk}_score"].to_numpy() for risk in RISKS}
    days = _days(scored["created_at"])
    reliability = {risk: reliability_table(truth[risk], scores[risk]) for risk in RISKS}
    rates = rates or load_rates()
    amount = rates.to_minor(scored["amount"].to_numpy(), scored["currency"].to_numpy(), costs.currency)
    metrics: dict[str, Any] = {
        "data": _data_summary(joined, labelled, as_of, maturity),
        "costs": costs.to_dict(),
        "money": money_summary(scored["currency"], costs.currency, rates),
    }
    for risk in RISKS:
        metrics[risk] = risk_metrics(truth[risk], scores[risk], days, costs.review_capacity_per_day)
        metrics[risk]["calibration_error"] = calibration_error(reliability[risk])
    codes = scored["decision"].map(DECISION_CODES).to_numpy(dtype="int64")
    metrics["policy"] = {"currency": costs.currency,  # every cost below is in minor units of it
                         **policy_metrics(codes, amount, truth["fraud"], truth["regret"], costs)}
    metrics["policy"].update(review_load(joined, costs.review_capacity_per_day))
    return Evaluation(
        metrics=metrics,
        per_week=per_week_table(scored["created_at"], truth, scores),
        reliability=reliability,
        scores=scores,
        labels=truth,
        decisions=codes,
        amount=amount,
        created_at=scored["created_at"],
        as_of=as_of,
        costs=costs,
    )


def _join(predictions: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Predictions with each order's created_at and amount; every id must be an order."""
    if not isinstance(orders["created_at"].dtype, pd.DatetimeTZDtype):
        raise DataError("orders: column 'created_at' must hold times with a timezone")
    if orders["order_id"].duplicated().any():
        raise DataError("orders: order_id is not unique")
    known = predictions["order_id"].isin(orders["order_id"].astype(str))
    if not known.all():
        example = predictions.loc[~known, "order_id"].iloc[0]
        raise DataError(f"predictions: {int((~known).sum())} order_id(s) not in the orders table, e.g. {example!r}")
    facts = orders[list(ORDER_COLUMNS)].assign(order_id=orders["order_id"].astype(str))
    return predictions.merge(facts, on="order_id", how="left", validate="one_to_one")


def _resolve_as_of(as_of: pd.Timestamp | None, outcomes: pd.DataFrame, joined: pd.DataFrame) -> pd.Timestamp:
    """The given moment, or the latest report (the latest order when there is none)."""
    if as_of is None:
        latest = outcomes["reported_at"].max() if len(outcomes) else joined["created_at"].max()
        return pd.Timestamp(latest)
    as_of = pd.Timestamp(as_of)
    if as_of.tzinfo is None:
        raise InvalidInput(f"as_of {as_of.isoformat()} has no timezone")
    return as_of


def money_summary(currency: pd.Series, reporting: str, rates: Rates) -> dict[str, Any]:
    """Which currencies the priced orders were in and how they were converted (for metrics and reports)."""
    counts = currency.astype(str).value_counts()
    return {"reporting_currency": reporting, "rates": rates.describe(),
            "orders_by_currency": {str(code): int(n) for code, n in counts.items()}}


def _days(created_at: pd.Series) -> np.ndarray:
    """UTC calendar day of each order, as an integer (days since the epoch)."""
    naive = created_at.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive.to_numpy().astype("datetime64[D]").astype("int64")


def _data_summary(joined: pd.DataFrame, labelled: np.ndarray, as_of: pd.Timestamp, maturity: timedelta) -> dict:
    created = joined["created_at"]
    return {
        "as_of": as_of.isoformat(),
        "maturity_days": maturity.total_seconds() / 86400,
        "n_predictions": len(joined),
        "n_labelled": int(labelled.sum()),
        "n_unlabelled": int((~labelled).sum()),
        "first_order": created.min().isoformat(),
        "last_order": created.max().isoformat(),
    }


# ---- metrics of one risk -------------------------------------------------------------------


def risk_metrics(y: np.ndarray, score: np.ndarray, days: np.ndarray, capacity: float) -> dict[str, Any]:
    """Ranking and probability metrics of one risk; NaN where the labels make one undefined."""
    n, positives = len(y), int(y.sum())
    both_classes = 0 < positives < n
    metrics: dict[str, Any] = {
        "n": n,
        "positives": positives,
        "prevalence": positives / n if n else NAN,
        "mean_score": float(score.mean()) if n else NAN,
        "roc_auc": float(roc_auc_score(y, score)) if both_classes else NAN,
        "average_precision": float(average_precision_score(y, score)) if positives else NAN,
    }
    metrics.update(recall_at_fpr(y, score))
    metrics.update(precision_at_capacity(y, score, days, capacity))
    metrics["brier"] = float(brier_score_loss(y, score, labels=[False, True])) if n else NAN
    return metrics


def recall_at_fpr(y: np.ndarray, score: np.ndarray, targets: tuple[float, ...] = FPR_TARGETS) -> dict[str, float]:
    """Recall at the best score threshold whose false-positive rate stays at or below each target.

    Thresholds are real score values, so tied scores move together: a model that ties a
    positive with many negatives does not get credit for splitting the tie.
    """
    if not (0 < y.sum() < len(y)):
        return {f"recall_at_fpr_{t:g}": NAN for t in targets}
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    return {f"recall_at_fpr_{t:g}": float(tpr[fpr <= t + 1e-12].max()) for t in targets}


def precision_at_capacity(y: np.ndarray, score: np.ndarray, days: np.ndarray, capacity: float) -> dict[str, Any]:
    """Precision if analysts looked at the top `capacity` orders of each day, all days pooled.

    This is what a review queue of fixed size buys: a model is only as good as its
    ranking within each day. Ties are taken in the order the orders come.
    """
    picked = top_per_day(score, days, int(capacity))
    hits = int(y[picked].sum())
    positives = int(y.sum())
    return {
        "flagged_at_capacity": int(len(picked)),
        "precision_at_capacity": hits / len(picked) if len(picked) and positives else NAN,
        "recall_at_capacity": hits / positives if positives else NAN,
    }


def top_per_day(score: np.ndarray, days: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores of each day (stable on ties)."""
    order = np.lexsort((-score, days))
    sorted_days = days[order]
    rank_in_day = np.arange(len(order)) - np.searchsorted(sorted_days, sorted_days, side="left")
    return order[rank_in_day < k]


def reliability_table(y: np.ndarray, score: np.ndarray, bins: int = RELIABILITY_BINS) -> pd.DataFrame:
    """Mean predicted vs observed rate in `bins` equal-count bins of the score (quantile bins)."""
    n = len(y)
    columns = ["bin", "score_min", "score_max", "mean_predicted", "observed_rate", "count"]
    if n == 0:
        return pd.DataFrame(columns=columns)
    bin_of = np.empty(n, dtype="int64")
    bin_of[np.argsort(score, kind="stable")] = np.arange(n) * bins // n
    frame = pd.DataFrame({"bin": bin_of, "score": score, "label": y.astype("float64")})
    table = frame.groupby("bin").agg(
        score_min=("score", "min"),
        score_max=("score", "max"),
        mean_predicted=("score", "mean"),
        observed_rate=("label", "mean"),
        count=("label", "size"),
    )
    return table.reset_index()[columns]


def calibration_error(table: pd.DataFrame) -> float:
    """Expected calibration error: the count-weighted gap between predicted and observed rates."""
    if table.empty:
        return NAN
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((gap * table["count"]).sum() / table["count"].sum())


# ---- the policy ----------------------------------------------------------------------------


def policy_metrics(
    codes: np.ndarray, amount: np.ndarray, is_fraud: np.ndarray, is_regret: np.ndarray, costs: Costs
) -> dict[str, Any]:
    """What the given decisions cost on labelled orders, against approving everything."""
    cost = decision_costs(codes, amount, is_fraud, is_regret, costs)
    baseline = decision_costs(np.zeros_like(codes), amount, is_fraud, is_regret, costs)
    total, approve_all = float(cost.sum()), float(baseline.sum())
    n = len(codes)
    stopped = codes[is_fraud] > 0
    declined_genuine = codes[~is_fraud] == DECISION_CODES["decline"]
    return {
        "total_cost": total,
        "cost_per_order": total / n,
        "approve_all_cost": approve_all,
        "approve_all_cost_per_order": approve_all / n,
        "saving": approve_all - total,
        "saving_rate": (approve_all - total) / approve_all if approve_all else NAN,
        "rates": decision_rates(codes),
        "fraud_stopped_rate": float(stopped.mean()) if len(stopped) else NAN,
        "genuine_declined_rate": float(declined_genuine.mean()) if len(declined_genuine) else NAN,
    }


def review_load(predictions: pd.DataFrame, capacity: float) -> dict[str, Any]:
    """Reviews per UTC day over every prediction: the workload does not wait for labels."""
    days = _days(predictions["created_at"])
    _, day_index = np.unique(days, return_inverse=True)
    reviews = np.bincount(day_index, weights=(predictions["decision"] == "review").to_numpy(dtype="float64"))
    return {
        "reviews_per_day_mean": float(reviews.mean()),
        "reviews_per_day_max": float(reviews.max()),
        "review_capacity_per_day": float(capacity),
        "days": int(len(reviews)),
        "days_over_capacity": int((reviews > capacity).sum()),
    }


def cost_by_fraud_threshold(evaluation: Evaluation, thresholds: np.ndarray) -> pd.DataFrame:
    """Cost of the policy "decline if fraud_score >= x, else approve" for each x, on the labelled orders.

    Priced with `decision_costs`, like the decisions themselves, so the curve and the
    policy's own cost are on the same scale.
    """
    fraud, regret, amount = evaluation.labels["fraud"], evaluation.labels["regret"], evaluation.amount
    n = len(amount)
    approve = decision_costs(np.zeros(n, dtype="int64"), amount, fraud, regret, evaluation.costs)
    decline = decision_costs(np.full(n, 2, dtype="int64"), amount, fraud, regret, evaluation.costs)
    order = np.argsort(-evaluation.scores["fraud"], kind="stable")
    descending = evaluation.scores["fraud"][order]
    extra = np.concatenate([[0.0], np.cumsum(decline[order] - approve[order])])
    declined = np.searchsorted(-descending, -np.asarray(thresholds, dtype="float64"), side="right")
    total = approve.sum() + extra[declined]
    return pd.DataFrame({"threshold": thresholds, "declined": declined, "total_cost": total,
                         "cost_per_order": total / n})


# ---- per week ------------------------------------------------------------------------------


def per_week_table(created_at: pd.Series, truth: dict[str, np.ndarray], scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """n, positives, AUC and AP per risk for each ISO week: does the model hold up over time?"""
    iso = created_at.dt.isocalendar()
    week = (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).to_numpy()
    rows = []
    for name in np.unique(week):
        mask = week == name
        row: dict[str, Any] = {"week": name, "n": int(mask.sum())}
        for risk in RISKS:
            y, s = truth[risk][mask], scores[risk][mask]
            positives = int(y.sum())
            row[f"{risk}_positives"] = positives
            row[f"{risk}_auc"] = float(roc_auc_score(y, s)) if 0 < positives < len(y) else NAN
            row[f"{risk}_ap"] = float(average_precision_score(y, s)) if positives else NAN
        rows.append(row)
    return pd.DataFrame(rows)


# ---- comparing and printing ----------------------------------------------------------------


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metrics as one level of dotted keys (`fraud.roc_auc`)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def compare(ours: Evaluation, baseline: Evaluation) -> pd.DataFrame:
    """Every numeric metric side by side, indexed by dotted name, with `delta = ours - baseline`."""
    a, b = flatten(ours.metrics), flatten(baseline.metrics)
    names = [k for k, v in a.items() if _is_number(v) and not k.startswith("costs.") and _is_number(b.get(k))]
    frame = pd.DataFrame({"ours": [float(a[k]) for k in names], "baseline": [float(b[k]) for k in names]},
                         index=pd.Index(names, name="metric"))
    frame["delta"] = frame["ours"] - frame["baseline"]
    return frame


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_ready(value: Any) -> Any:
    """A copy with NaN and infinities as None, so the result is strict JSON."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_SUMMARY_ROWS = (
    ("labelled orders", "data.n_labelled", "int"),
    *(
        row
        for risk in RISKS
        for row in (
            (f"{risk} positives", f"{risk}.positives", "int"),
            (f"{risk} ROC AUC", f"{risk}.roc_auc", "num"),
            (f"{risk} average precision", f"{risk}.average_precision", "num"),
            (f"{risk} recall @ 0.1% FPR", f"{risk}.recall_at_fpr_0.001", "num"),
            (f"{risk} recall @ 1% FPR", f"{risk}.recall_at_fpr_0.01", "num"),
            (f"{risk} precision @ capacity", f"{risk}.precision_at_capacity", "num"),
            (f"{risk} Brier", f"{risk}.brier", "num4"),
        )
    ),
    ("cost per order", "policy.cost_per_order", "money"),
    ("approve-all cost per order", "policy.approve_all_cost_per_order", "money"),
    ("saving vs approve-all", "policy.saving_rate", "pct"),
    ("approve rate", "policy.rates.approve", "pct"),
    ("review rate", "policy.rates.review", "pct"),
    ("decline rate", "policy.rates.decline", "pct"),
    ("reviews per day, mean", "policy.reviews_per_day_mean", "one"),
    ("reviews per day, max", "policy.reviews_per_day_max", "one"),
    ("review capacity per day", "policy.review_capacity_per_day", "one"),
    ("days over review capacity", "policy.days_over_capacity", "int"),
    ("days with orders", "policy.days", "int"),
)
_FORMATS = {"int": "{:,.0f}", "num": "{:.3f}", "num4": "{:.4f}", "one": "{:,.1f}", "pct": "{:.2%}"}


def summary_table(evaluation: Evaluation, baseline: Evaluation | None = None, policy_words: str | None = None) -> str:
    """A short fixed-width table of the headline metrics, for the terminal; money rows name their currency."""
    data = evaluation.metrics["data"]
    currency = evaluation.costs.currency
    lines = [f"as of {data['as_of']}: {data['n_labelled']:,} labelled of {data['n_predictions']:,} predictions "
             f"({data['n_unlabelled']:,} left out: label not known yet)"]
    ours = flatten(evaluation.metrics)
    theirs = flatten(baseline.metrics) if baseline else None
    header = f"{'metric':<34}{'ours':>12}" + (f"{'baseline':>12}{'delta':>12}" if theirs else "")
    lines += [header, "-" * len(header)]
    for label, key, kind in _SUMMARY_ROWS:
        if kind == "money":
            label = f"{label} ({currency})"
            kind = f"money{minor_exponent(currency)}"
        line = f"{label:<34}{_fmt(ours.get(key), kind):>12}"
        if theirs is not None:
            delta = _delta(ours.get(key), theirs.get(key))
            line += f"{_fmt(theirs.get(key), kind):>12}{_fmt(delta, kind, signed=True):>12}"
        lines.append(line)
    lines.append(f"costs in {currency} ({money_line(evaluation.metrics['money'])}); review capacity "
                 f"{evaluation.costs.review_capacity_per_day:,.0f} a day")
    if policy_words:
        lines.append(f"policy: {policy_words}")
    return "\n".join(lines)


def money_line(money: dict[str, Any]) -> str:
    """How the amounts were converted, in a few words: "orders in USD 700, EUR 200; rates default (2026-01-02)"."""
    counts = ", ".join(f"{code} {n:,}" for code, n in money["orders_by_currency"].items())
    rates = money["rates"]
    return f"orders in {counts}; rates {rates['source']}, {rates['date']}"


def _delta(a: Any, b: Any) -> float | None:
    return float(a) - float(b) if _is_number(a) and _is_number(b) else None


def _fmt(value: Any, kind: str, signed: bool = False) -> str:
    if not _is_number(value) or not math.isfinite(value):
        return "n/a"
    if kind.startswith("money"):  # minor units shown as major units with the currency's decimals
        exponent = int(kind.removeprefix("money"))
        value, spec = value / 10 ** exponent, f"{{:,.{exponent}f}}"
    else:
        spec = _FORMATS[kind]
    return (spec.replace("{:", "{:+") if signed else spec).format(value)


# ---- the policy's thresholds ------------------------------------------------------------------

THRESHOLDS = ("decline_fraud", "review_fraud", "review_regret")


def threshold_curves(evaluation: Evaluation, policy: Policy, points: int = 60) -> pd.DataFrame:
    """Expected cost per order and reviews per day as each threshold moves, the other two held at the policy's.

    One row per (threshold, value): what an analyst needs to see how sensitive the cost and the
    review queue are to each threshold, priced with `decision_costs` like the decisions.
    """
    fraud, regret = evaluation.scores["fraud"], evaluation.scores["regret"]
    days = max(len(np.unique(_days(evaluation.created_at))), 1)
    rows = []
    for name in THRESHOLDS:
        scores = fraud if name.endswith("fraud") else regret
        grid = np.unique(np.clip(np.concatenate([np.quantile(scores, np.linspace(0.5, 1, points // 2)),
                                                 np.logspace(-4, 0, points // 2), [getattr(policy, name)]]),
                                 1e-4, 1.0))
        for value in grid:
            moved = Policy(**dict(policy.to_dict(), **{name: float(value)}))
            codes = moved.decide_many(fraud, regret)
            cost = decision_costs(codes, evaluation.amount, evaluation.labels["fraud"], evaluation.labels["regret"],
                                  evaluation.costs)
            rows.append({"threshold": name, "value": float(value), "cost_per_order": float(cost.mean()),
                         "reviews_per_day": float((codes == DECISION_CODES["review"]).sum() / days)})
    return pd.DataFrame(rows)
