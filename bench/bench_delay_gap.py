"""Where delay-corrected fraud scores fall short with short histories: one ingredient swapped at a time.

    python bench/bench_delay_gap.py                       # 5 varied worlds, as of day 30 and 60
    python bench/bench_delay_gap.py --seeds 0 1 --variants fitted oracle --cache /tmp/delay-gap

The worlds are bench/bench_label_delay.py's (1,000 orders a day for `histories + test days`).
For each world and history, the fraud model is trained as `risk train` does it (delay
correction, two passes, expected-label calibrator), with one ingredient swapped:
- `fitted`: as `risk train` (reporting delays fitted as of the as-of);
- `oracle`: the simulator's own delays instead (each kind's true log-normal, the kinds
  mixed by their eventual counts, the base rate the eventual one): how much of the gap is
  the delay fit;
- `prior30`: the fit with the prior's median at 30 days instead of 14 (the prior's pull);
- `cut02`, `cut20`: `min_reported` 0.02 and 0.2 instead of 0.05 (the weights' cut).
And, for each variant's trees, the calibrator fitted to the validation slice's *eventual*
labels (`+eventual`): what a calibrator could do on that slice if it knew the truth.
Columns: fraud AP and predicted / observed on the test days (judged on the eventual
labels), predicted / observed on the validation slice itself (against its eventual labels),
the slice's orders, reported and eventual frauds, the reported share F at the slice's ages
as used (mean) and the true one, the trees kept.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed copy

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score

import training.label_delay as label_delay
import training.train as train_module
from bench.bench_label_delay import fully_reported, world
from models.calibration import choose_calibrator
from training.label_delay import LABEL_KINDS, KindDelay, LabelDelay
from training.simulator import DEFAULT_START
from training.simulator.params import varied_params
from training.train import TrainConfig, TrainingSet, _fit, _refit_with_own_risk, model_defaults, training_set

VARIANTS = ("fitted", "oracle", "prior30", "cut02", "cut20")


def oracle_estimate(seed: int, outcomes_ever: pd.DataFrame):
    """An `estimate_delays` that returns the simulator's own delays (reports counted as the fit counts them)."""
    fit = label_delay.estimate_delays
    truth = varied_params(seed).delays

    def estimate(history: pd.DataFrame, known: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, LabelDelay]:
        fitted = fit(history, known, as_of)
        ever = outcomes_ever[outcomes_ever["order_id"].isin(history["order_id"])]
        delays = {}
        for label, kinds in LABEL_KINDS.items():
            first = ever[ever["kind"].isin(kinds)].sort_values("reported_at", kind="stable").drop_duplicates("order_id")
            counts = first["kind"].value_counts()
            seen = {k.kind: k.reports for k in fitted[label].kinds}
            delays[label] = LabelDelay(label, tuple(
                KindDelay(str(kind), float(np.log(truth[str(kind)].a)), truth[str(kind)].b, seen.get(str(kind), 0),
                          float(n)) for kind, n in counts.items()), base_rate=float(counts.sum()) / len(history))
        return delays

    return estimate


@contextlib.contextmanager
def variant_of(name: str, seed: int, outcomes: pd.DataFrame) -> Iterator[TrainConfig | None]:
    """Swap the ingredient `name` names for the duration."""
    saved = (train_module.estimate_delays, train_module.with_exposure, label_delay.PRIOR_MEDIAN_DAYS)
    try:
        if name == "oracle":
            train_module.estimate_delays = oracle_estimate(seed, outcomes)
            train_module.with_exposure = lambda delays, age: delays  # the eventual counts as they are
        if name == "prior30":
            label_delay.PRIOR_MEDIAN_DAYS = 30.0
        yield None
    finally:
        train_module.estimate_delays, train_module.with_exposure, label_delay.PRIOR_MEDIAN_DAYS = saved


def fraud_model(data: TrainingSet, config: TrainConfig):
    """The fraud model exactly as training.train.train fits it under the delay correction."""
    settings = {"seed": config.seed, **model_defaults("fraud", config), **config.fraud_params}
    model = _fit(settings, data, "fraud", data.weight("fraud"))
    if data.delays and model.booster_ is not None:
        model, _ = _refit_with_own_risk(settings, data, "fraud", model, config, lambda message: None)
    return model


def true_cdf(seed: int, delay: LabelDelay, age: np.ndarray) -> np.ndarray:
    truth = varied_params(seed).delays
    total = sum(k.expected_reports for k in delay.kinds)
    return sum(k.expected_reports / total * stats.norm.cdf((np.log(age) - np.log(truth[k.kind].a)) / truth[k.kind].b)
               for k in delay.kinds)


def run(seed: int, orders_per_day: int, days: int, histories: list[int], test_days: int, variants: list[str],
        cache: Path | None) -> list[dict[str, object]]:
    orders, outcomes, features = world(seed, orders_per_day, days, cache)
    X = features.to_numpy(dtype="float32")
    truth = fully_reported(orders, outcomes)["fraud"].to_numpy()
    eventual = pd.Series(truth, index=orders["order_id"].to_numpy())
    rows = []
    for history in histories:
        as_of = DEFAULT_START + pd.Timedelta(days=history)
        created = orders["created_at"]
        test = ((created >= as_of) & (created < as_of + pd.Timedelta(days=test_days))).to_numpy()
        for name in variants:
            started = time.process_time()
            config = TrainConfig(as_of=as_of, min_reported={"cut02": 0.02, "cut20": 0.2}.get(name, 0.05))
            with variant_of(name, seed, outcomes):
                try:
                    data = training_set(orders, outcomes, config, lambda message: None, features)
                    model = fraud_model(data, config)
                except Exception as exc:  # a history too short for this variant: say so, go on
                    rows.append({"seed": seed, "history": history, "variant": name, "error": str(exc)[:100]})
                    print(json.dumps(rows[-1]), flush=True)
                    continue
            valid = data.valid
            y_valid = eventual.loc[data.labels["order_id"].to_numpy()[valid]].to_numpy()
            reported = data.labels["fraud"].to_numpy()[valid]
            age = data.age_days[valid] if data.age_days is not None else np.zeros(int(valid.sum()))
            margin_valid = model.predict_margin(data.X[valid])
            for calibration in ("as trained", "eventual"):
                if calibration == "eventual":
                    model.use_calibrator(*choose_calibrator(margin_valid, y_valid.astype("float64"), seed=model.seed))
                p_test, p_valid = model.predict_proba(X[test]), model.predict_proba(data.X[valid])
                rows.append({
                    "seed": seed, "history": history, "variant": name + ("+eventual" if calibration == "eventual"
                                                                         else ""),
                    "test ap": float(average_precision_score(truth[test], p_test)),
                    "test pred/obs": float(p_test.sum() / max(truth[test].sum(), 1)),
                    "valid pred/obs": float(p_valid.sum() / max(y_valid.sum(), 1)),
                    "valid n": int(valid.sum()), "valid reported": int(reported.sum()),
                    "valid eventual": int(y_valid.sum()),
                    "valid age": f"{age.min():.1f}-{age.max():.1f}" if len(age) else "-",
                    "F used": float(np.mean(data.delays["fraud"].cdf(age))) if data.delays else float("nan"),
                    "F true": float(np.mean(true_cdf(seed, data.delays["fraud"], age))) if data.delays
                    else float("nan"),
                    "trees": model.trees, "cpu s": time.process_time() - started,
                })
                print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}),
                      flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--orders-per-day", type=int, default=1000)
    parser.add_argument("--histories", type=int, nargs="+", default=[30, 60])
    parser.add_argument("--world-days", type=int, default=104,
                        help="days simulated (default 104: bench_label_delay.py's worlds, 90 days + 14 test days)")
    parser.add_argument("--test-days", type=int, default=14)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--cache", type=Path, help="keep each world's orders, outcomes and features here")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        rows += run(seed, args.orders_per_day, args.world_days, args.histories, args.test_days, args.variants,
                    args.cache)
    frame = pd.DataFrame([r for r in rows if "error" not in r])
    columns = ["test ap", "test pred/obs", "valid pred/obs", "F used", "F true"]
    pd.set_option("display.width", 250)
    print(frame.groupby(["history", "variant"], sort=True)[columns].mean().round(3).to_string())


if __name__ == "__main__":
    main()
