"""In-process scoring of one order, end to end, against a naive implementation of the same step.

Usage: python bench/bench_scoring.py [--orders 60000] [--timed 5000]

Ours: ScoringEngine.score (idempotency check, online features from the embedded state,
both models, policy, reasons for flagged orders, SQLite decision log write, state
update), reported three ways: up to the decision (the engine's own clock), everything
but the log write (the issue's "features, both models, reasons, policy, state update"),
and everything. Naive: build a one-row pandas DataFrame from the order, predict_proba with
the scikit-learn wrappers of the same two boosters, no history state. Orders are
varied simulated orders replayed in time order after a warm-up, so history exists.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from features.catalog import FEATURE_NAMES
from features.replay import _clean
from features.state import EmbeddedState
from models.bundle import load_bundle
from risk.contract import flatten, unflatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from training.simulator import simulate
from training.train import TrainConfig, train


def percentiles(seconds: list[float]) -> tuple[float, float]:
    us = np.asarray(seconds) * 1e6
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def time_calls(target: object, method: str) -> list[float]:
    """Wrap `target.method` so that each call adds its duration to the returned list."""
    spent: list[float] = []
    inner = getattr(target, method)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    setattr(target, method, timed)
    return spent


def naive_scorer(bundle):
    """The straightforward way: a pandas row per order, the booster's predict on it, no history."""
    from features.batch import compute_features

    def score(order) -> float:
        frame = normalise(pd.DataFrame([flatten(order)]), ORDERS)
        X = compute_features(frame)[list(FEATURE_NAMES)]
        return float(bundle.fraud.booster_.predict(X)[0] + bundle.regret.booster_.predict(X)[0])

    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=60_000)
    parser.add_argument("--timed", type=int, default=5_000)
    parser.add_argument("--model", type=Path, help="model directory (default: train one on the simulated data)")
    args = parser.parse_args()
    orders, outcomes = simulate(args.orders, 60, seed=21)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    work = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    if args.model is None:
        config = TrainConfig(as_of=orders["created_at"].iloc[int(len(orders) * 0.8)], maturity=timedelta(days=15))
        train(orders, outcomes, config, lambda m: None).bundle.save(work / "model")
    bundle = load_bundle(args.model or work / "model")
    engine = ScoringEngine(bundle, EmbeddedState(), SQLiteDecisionLog(work / "decisions.sqlite"))
    records = [unflatten(_clean(r)) for r in orders.to_dict("records")]
    warm, timed = records[: -args.timed], records[-args.timed:]
    for order in warm:
        engine.score(order)
    logging = time_calls(engine.decisions, "record")
    ours, decided, unlogged, flagged = [], [], [], 0
    for order in timed:
        logging.clear()
        started = time.perf_counter()
        decision = engine.score(order).decision
        ours.append(time.perf_counter() - started)
        decided.append(decision.elapsed_ms / 1000)  # the engine's own clock, stopped at the decision
        unlogged.append(ours[-1] - sum(logging))
        flagged += decision.decision != "approve"
    naive = naive_scorer(bundle)
    slow = []
    for order in timed[:500]:
        started = time.perf_counter()
        naive(order)
        slow.append(time.perf_counter() - started)
    (p50, p99), (n50, n99), (d50, d99) = percentiles(ours), percentiles(slow), percentiles(decided)
    u50, u99 = percentiles(unlogged)
    print(f"\nin-process scoring, {len(timed):,} simulated orders after {len(warm):,} of warm-up history; "
          f"{flagged / len(timed):.1%} flagged (explained)")
    print(f"| {'implementation':<60} | {'p50 us':>8} | {'p99 us':>8} |")
    print(f"|{'-' * 62}|{'-' * 10}|{'-' * 10}|")
    print(f"| {'ours: features + models + policy + reasons (to the decision)':<60} | {d50:8.0f} | {d99:8.0f} |")
    print(f"| {'ours: the same + state update (all but the log write)':<60} | {u50:8.0f} | {u99:8.0f} |")
    print(f"| {'ours: the same + SQLite decision log write':<60} | {p50:8.0f} | {p99:8.0f} |")
    print(f"| {'naive: pandas row + booster.predict, no history':<60} | {n50:8.0f} | {n99:8.0f} |")
    print(f"\nours is {n50 / p50:.1f}x faster at p50 and {n99 / p99:.1f}x at p99 (and the naive one has no history)")


if __name__ == "__main__":
    main()
