"""How much of each risk's signal lies in history rather than in the order's own row.

    python bench/bench_signal.py                  # 200,000 orders over 90 days, seed 7
    python bench/bench_signal.py 400000           # another size
    python bench/bench_signal.py --quick          # only the average-precision-stopped pair

Simulates a world, computes every point-in-time feature (`features.batch`), then per
risk (fraud, regret) trains LightGBM models as of day 60 with a 30-day maturity:
orders older than `as_of - 30 d` are the training set, their last 14 days the early
stopping / calibration slice. Models are tested on the orders of days 60-90, labelled
with every outcome ever reported. Two feature sets:

- history: the whole catalog (row features plus velocity, distinct counts, first-seen
  ages and reported outcomes of the order's entities);
- plain: the order's own row features only (`features.row`).

Prints one line per model (test AUC and average precision), then a table of history
over plain per risk and metric. A simulator whose fraud shows in history, not in the
single row, gives fraud ratios clearly above 1.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

# Runs from a checkout without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.batch import compute_features
from features.catalog import CATEGORICAL, FEATURE_NAMES
from features.row import ROW_FEATURES
from models.risk_model import RiskModel
from risk.labels import labels_as_of

from benchkit import print_table, simulated_world

RISKS = ("fraud", "regret")
ALL_COLUMNS = list(range(len(FEATURE_NAMES)))
ROW_COLUMNS = [FEATURE_NAMES.index(f.name) for f in ROW_FEATURES]


@dataclass(frozen=True)
class Variant:
    """One model to train: a feature set and the metric early stopping watches."""

    features: str  # "history" or "plain"
    stop: str      # LightGBM metric name
    label: str     # short name of the stopping metric

    @property
    def name(self) -> str:
        return f"{self.features} {self.label}"

    @property
    def columns(self) -> list[int]:
        return ALL_COLUMNS if self.features == "history" else ROW_COLUMNS


VARIANTS = (
    Variant("history", "auc", "auc-stop"),
    Variant("history", "average_precision", "ap-stop"),
    Variant("history", "binary_logloss", "logloss"),
    Variant("plain", "auc", "auc-stop"),
    Variant("plain", "average_precision", "ap-stop"),
)
QUICK_VARIANTS = tuple(v for v in VARIANTS if v.label == "ap-stop")


@dataclass(frozen=True)
class Split:
    """Row masks of the training, validation and test slices, and the labels."""

    fit: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    train_labels: pd.DataFrame
    test_labels: pd.DataFrame


def split(orders: pd.DataFrame, outcomes: pd.DataFrame, train_days: int, maturity_days: int) -> Split:
    """Train as of `train_days` after the first midnight, with labels known then; test on the rest."""
    as_of = orders["created_at"].min().floor("D") + pd.Timedelta(days=train_days)
    maturity = pd.Timedelta(days=maturity_days)
    created = orders["created_at"]
    train = (created < as_of - maturity).to_numpy()
    valid = train & (created >= as_of - maturity - pd.Timedelta(days=14)).to_numpy()
    return Split(
        fit=train & ~valid, valid=valid, test=(created >= as_of).to_numpy(),
        train_labels=labels_as_of(orders, outcomes[outcomes["reported_at"] <= as_of], as_of,
                                  timedelta(days=maturity_days)),
        test_labels=labels_as_of(orders, outcomes, outcomes["reported_at"].max(), timedelta(days=60)),
    )


def evaluate(X: np.ndarray, data: Split, risk: str, variant: Variant) -> dict[str, float]:
    """Fits one model and scores the test slice."""
    y = data.train_labels[risk].fillna(0).to_numpy()
    y_test = data.test_labels[risk].fillna(0).to_numpy()[data.test]
    names = [FEATURE_NAMES[i] for i in variant.columns]
    started = time.perf_counter()
    model = RiskModel(metric=variant.stop)
    model.fit(X[data.fit][:, variant.columns], y[data.fit],
              X_valid=X[data.valid][:, variant.columns], y_valid=y[data.valid],
              feature_names=names, categorical=[c for c in CATEGORICAL if c in names])
    p = model.predict_proba(X[data.test][:, variant.columns])
    return {"trees": model.booster_.best_iteration, "AUC": roc_auc_score(y_test, p),
            "AP": average_precision_score(y_test, p), "seconds": time.perf_counter() - started}


def ratio_rows(results: dict[tuple[str, str], dict[str, float]]) -> list[dict[str, str]]:
    """History over plain for each risk, stopping metric and test metric trained both ways."""
    rows = []
    for (risk, name), history in results.items():
        features, label = name.split(" ")
        plain = results.get((risk, f"plain {label}"))
        if features != "history" or plain is None:
            continue
        for metric in ("AUC", "AP"):
            rows.append({"risk": risk, "stopping": label, "metric": metric, "history": f"{history[metric]:.4f}",
                         "plain": f"{plain[metric]:.4f}", "history/plain": f"{history[metric] / plain[metric]:.2f}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("orders", type=int, nargs="?", default=200_000, help="orders to simulate (200,000)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train-days", type=int, default=60, help="as-of day of training (60)")
    parser.add_argument("--maturity-days", type=int, default=30, help="maturity window of training labels (30)")
    parser.add_argument("--quick", action="store_true", help="only the models stopped on average precision")
    args = parser.parse_args()

    started = time.perf_counter()
    orders, outcomes = simulated_world(args.orders, args.days, args.seed)
    X = compute_features(orders, outcomes)[list(FEATURE_NAMES)].to_numpy("float32")
    data = split(orders, outcomes, args.train_days, args.maturity_days)
    print(f"{len(orders):,} orders, {args.days} days, seed {args.seed}: simulated and featurised in "
          f"{time.perf_counter() - started:.0f} s; train {data.fit.sum():,} + valid {data.valid.sum():,}, "
          f"test {data.test.sum():,}", flush=True)

    results: dict[tuple[str, str], dict[str, float]] = {}
    for risk in RISKS:
        for variant in QUICK_VARIANTS if args.quick else VARIANTS:
            result = evaluate(X, data, risk, variant)
            results[(risk, variant.name)] = result
            print(f"{risk:6s} {variant.name:16s} trees {result['trees']:4d} AUC {result['AUC']:.4f} "
                  f"AP {result['AP']:.4f} {result['seconds']:.1f}s", flush=True)
    print()
    print_table(ratio_rows(results))


if __name__ == "__main__":
    main()
