"""Training and batch-scoring speed at 1,000,000 orders, and what the history features are worth.

Usage: python bench/bench_training.py [--orders 1000000] [--days 90]

1. Quality: train as of day 60 (30-day label maturity), score the last 30 days with
   point-in-time features, and compare both risks' metrics against a plain LightGBM
   on the order's own fields only (no history features), trained on the same orders.
2. Speed: `train` as of the last day (features over every order included) and
   `score_period` over all orders, each timed end to end.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from features.batch import compute_features
from features.catalog import CATEGORICAL, FEATURE_NAMES
from features.row import ROW_FEATURES
from models.risk_model import RiskModel
from risk.labels import labels_as_of
from training.score import score_period
from training.train import TrainConfig, train, training_set

from benchkit import simulated_world

QUIET = lambda message: None  # noqa: E731


def metrics(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    return float(roc_auc_score(y, p)), float(average_precision_score(y, p))


def quality(orders: pd.DataFrame, outcomes: pd.DataFrame, start: pd.Timestamp, days: int) -> list[tuple]:
    as_of = start + pd.Timedelta(days=days - 30)
    config = TrainConfig(as_of=as_of, maturity=timedelta(days=30))
    result = train(orders, outcomes, config, QUIET)
    predictions = score_period(result.bundle, orders, outcomes, as_of, None, QUIET)
    test = orders[orders["created_at"] >= as_of].reset_index(drop=True)
    truth = labels_as_of(test, outcomes, outcomes["reported_at"].max(), timedelta(days=60))
    # plain LightGBM: the same learner on the order's own fields only, the same training orders
    data = training_set(orders, outcomes, config, QUIET)
    own = [FEATURE_NAMES.index(f.name) for f in ROW_FEATURES]
    own_names = [FEATURE_NAMES[i] for i in own]
    test_X = compute_features(test)[own_names].to_numpy("float32")
    rows = []
    for risk in ("fraud", "regret"):
        y = data.labels[risk].to_numpy()
        plain = RiskModel().fit(data.X[~data.valid][:, own], y[~data.valid], X_valid=data.X[data.valid][:, own],
                                y_valid=y[data.valid], feature_names=own_names,
                                categorical=[c for c in CATEGORICAL if c in own_names])
        y_test = truth[risk].fillna(0).to_numpy()
        ours = metrics(y_test, predictions[f"{risk}_score"].to_numpy())
        base = metrics(y_test, plain.predict_proba(test_X))
        rows.append((risk, int(y_test.sum()), len(y_test), *ours, *base))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    orders, outcomes = simulated_world(args.orders, args.days, seed=7)
    start = orders["created_at"].min().floor("D")

    rows = quality(orders, outcomes, start, args.days)
    print(f"\nlast 30 days of {len(orders):,} simulated orders over {args.days} days; trained as of day "
          f"{args.days - 30} with 30-day maturity")
    print(f"| {'risk':<7} | {'positives/n':>15} | {'AUC ours':>8} | {'AUC plain':>9} | {'AP ours':>7} | "
          f"{'AP plain':>8} |")
    print(f"|{'-' * 9}|{'-' * 17}|{'-' * 10}|{'-' * 11}|{'-' * 9}|{'-' * 10}|")
    for risk, positives, n, auc, ap, base_auc, base_ap in rows:
        print(f"| {risk:<7} | {positives:>6,}/{n:<8,} | {auc:8.4f} | {base_auc:9.4f} | {ap:7.4f} | {base_ap:8.4f} |")

    started = time.perf_counter()
    end = orders["created_at"].max() + pd.Timedelta(seconds=1)
    result = train(orders, outcomes, TrainConfig(as_of=end, maturity=timedelta(days=30)), QUIET)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    score_period(result.bundle, orders, outcomes, start, None, QUIET)
    score_s = time.perf_counter() - started
    n_fit = result.bundle.metadata["training"]["n_train"] + result.bundle.metadata["training"]["n_valid"]
    print(f"\n| {'step':<58} | {'seconds':>8} | {'target':>7} |")
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 9}|")
    print(f"| {f'train: features of {len(orders):,} orders + fit on {n_fit:,} mature ones':<58} | "
          f"{train_s:8.1f} | {'180':>7} |")
    print(f"| {f'score: {len(orders):,} orders, point-in-time features + both models':<58} | {score_s:8.1f} | "
          f"{'90':>7} |")


if __name__ == "__main__":
    main()
