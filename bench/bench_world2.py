"""Our engine on an independent world (bench/world2), against the generator's own probabilities and a plain model.

    python bench/bench_world2.py                          # 5 seeds, 150,000 orders over 90 days each
    python bench/bench_world2.py --seeds 3 --orders 50000 --out runs.jsonl

For each seed: one world from bench/world2 (its own fraud mix, delays, drift, noise),
written and read back through the contract's data-set reader; our engine trained as of
day 60 exactly as `risk train` does by default (training.train.train with the CLI's
default TrainConfig: label-delay correction, monotone constraints, 14 validation days,
default costs), then scoring days 60-90 as `risk score` does (training.score.score_period:
point-in-time features with the outcomes known at each order's moment). The test orders
are labelled with every outcome the world ever reports. Compared with:
- oracle: the generator's own chance of fraud and of regret for each order;
- plain: LightGBM on 14 point-in-time history counts (bench/world2/baseline.py), trained on
  the orders before day 60 labelled with the outcomes reported by then.
Prints fraud and regret AUC, average precision and predicted / observed (the sum of the
scores over the number of positives) per seed and as mean +- standard deviation over
seeds, and the ratios the goal is set on: ours / oracle fraud AP (goal 0.9x) and regret
AUC (goal 0.95x).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed copy

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from bench.world2 import PATTERNS, generate
from bench.world2.baseline import fit_and_score, simple_features
from risk.contract import FRAUD_KINDS, REGRET_KINDS
from risk.datasets import read_orders, read_outcomes, write_orders, write_outcomes
from risk.labels import labels_as_of
from training.score import score_period
from training.train import TrainConfig, train

RISKS = ("fraud", "regret")
MODELS = ("ours", "oracle", "plain")
METRICS = ("auc", "ap", "pred/obs")
GOALS = {"fraud ap": 0.9, "regret auc": 0.95}


def final_labels(orders: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Fraud and regret once every outcome is in (fraud wins over regret)."""
    fraud = orders["order_id"].isin(outcomes.loc[outcomes["kind"].isin(FRAUD_KINDS), "order_id"]).to_numpy()
    regret = orders["order_id"].isin(outcomes.loc[outcomes["kind"].isin(REGRET_KINDS), "order_id"]).to_numpy()
    return pd.DataFrame({"fraud": fraud.astype(int), "regret": (regret & ~fraud).astype(int)})


def read_back(world_orders: pd.DataFrame, world_outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Through the files a data scientist would get: written and read with the contract's reader."""
    with tempfile.TemporaryDirectory() as folder:
        write_orders(world_orders, Path(folder) / "orders.parquet")
        write_outcomes(world_outcomes, Path(folder) / "outcomes.parquet")
        return read_orders(Path(folder) / "orders.parquet"), read_outcomes(Path(folder) / "outcomes.parquet")


def plain_scores(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp,
                 test: np.ndarray) -> dict[str, np.ndarray]:
    features = simple_features(orders)
    before = (orders["created_at"] < as_of).to_numpy()
    known = labels_as_of(orders.loc[before, ["order_id", "created_at"]], outcomes, as_of, pd.Timedelta(0))
    scores = {}
    for risk in RISKS:
        y = known[risk].to_numpy(dtype="int64") if risk in known else np.zeros(int(before.sum()), dtype=np.int64)
        scores[risk] = fit_and_score(features[before], y, features[test])
    return scores


def run_world(seed: int, n_orders: int, days: int, as_of_day: int, verbose: bool = False) -> dict[str, object]:
    started = time.perf_counter()
    world = generate(seed, n_orders, days)
    orders, outcomes = read_back(world.orders, world.outcomes)
    start = orders["created_at"].min().normalize()
    as_of = start + pd.Timedelta(days=as_of_day)
    end = start + pd.Timedelta(days=days)
    say = (lambda message: print(f"  {time.perf_counter() - started:6.0f} s  {message}", flush=True)) if verbose else (
        lambda message: None)
    bundle = train(orders, outcomes, TrainConfig(as_of=as_of), say).bundle
    ours = score_period(bundle, orders, outcomes, as_of, end, say)
    test = ((orders["created_at"] >= as_of) & (orders["created_at"] < end)).to_numpy()
    truth = world.truth.set_index("order_id").loc[orders["order_id"][test]]
    y = final_labels(orders, outcomes)[test].reset_index(drop=True)
    scores = {"ours": {"fraud": ours["fraud_score"].to_numpy(), "regret": ours["regret_score"].to_numpy()},
              "oracle": {"fraud": truth["p_fraud"].to_numpy(), "regret": truth["p_regret"].to_numpy()},
              "plain": plain_scores(orders, outcomes, as_of, test)}
    row: dict[str, object] = {"seed": seed, "orders": len(orders), "test orders": int(test.sum()),
                              "fraud rate": float(y["fraud"].mean()), "regret rate": float(y["regret"].mean())}
    for model in MODELS:
        for risk in RISKS:
            row[f"{model} {risk} auc"] = float(roc_auc_score(y[risk], scores[model][risk]))
            row[f"{model} {risk} ap"] = float(average_precision_score(y[risk], scores[model][risk]))
            row[f"{model} {risk} pred/obs"] = float(scores[model][risk].sum() / max(int(y[risk].sum()), 1))
    row.update(percentiles(scores, truth))
    for metric in GOALS:
        for model in ("ours", "plain"):
            row[f"{model}/oracle {metric}"] = float(row[f"{model} {metric}"]) / float(row[f"oracle {metric}"])
    row["seconds"] = time.perf_counter() - started
    return row


def percentiles(scores: dict[str, dict[str, np.ndarray]], truth: pd.DataFrame) -> dict[str, float]:
    """Per kind of fraud, the mean percentile of its orders' fraud scores among genuine orders that stayed genuine.

    Kinds: each attack pattern (all its orders, reported or not) and friendly fraud (genuine
    buyers' orders that came back as fraud). 1.0 is above every genuine order, 0.5 is chance.
    """
    pattern, fate = truth["pattern"].to_numpy(), truth["fate"].to_numpy()
    groups = {p: pattern == p for p in PATTERNS} | {"friendly": (pattern == "genuine") & (fate == "fraud")}
    out = {}
    for model, by_risk in scores.items():
        genuine = np.sort(by_risk["fraud"][(pattern == "genuine") & (fate != "fraud")])
        for name, rows in groups.items():
            if rows.any():
                out[f"{model} percentile {name}"] = float(np.mean(
                    np.searchsorted(genuine, by_risk["fraud"][rows], side="left") / len(genuine)))
    return out


def pattern_table(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    lines = []
    for kind in (*PATTERNS, "friendly"):
        line: dict[str, object] = {"fraud kind": kind}
        for model in MODELS:
            column = f"{model} percentile {kind}"
            line[model] = f"{frame[column].mean():.3f}" if column in frame and frame[column].notna().any() else "-"
        lines.append(line)
    return pd.DataFrame(lines)


def table(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    lines = []
    for model in MODELS:
        for _, run in frame.iterrows():
            lines.append({"seed": run["seed"], "model": model, **{
                f"{risk} {m}": f"{run[f'{model} {risk} {m}']:.3f}" for risk in RISKS for m in METRICS}})
        lines.append({"seed": "mean +- sd", "model": model, **{
            f"{risk} {m}": f"{frame[f'{model} {risk} {m}'].mean():.3f} +- {frame[f'{model} {risk} {m}'].std():.3f}"
            for risk in RISKS for m in METRICS}})
    return pd.DataFrame(lines)


def ratios(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    lines = []
    for metric, goal in GOALS.items():
        for model in ("ours", "plain"):
            values = frame[f"{model}/oracle {metric}"]
            lines.append({"ratio to oracle": metric, "model": model, "goal": f"{goal:.2f}",
                          **{f"seed {s}": f"{v:.3f}" for s, v in zip(frame["seed"], values, strict=True)},
                          "mean +- sd": f"{values.mean():.3f} +- {values.std():.3f}",
                          "met": f"{int((values >= goal).sum())}/{len(values)}"})
    return pd.DataFrame(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--orders", type=int, default=150_000, help="orders per world (default 150,000: about 2 "
                        "minutes of CPU per world)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--as-of-day", type=int, default=60)
    parser.add_argument("--out", type=Path, help="also write each world's row as JSON lines here")
    parser.add_argument("--verbose", action="store_true", help="print the steps of each world with their times")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for seed in args.seeds:
        rows.append(run_world(seed, args.orders, args.days, args.as_of_day, args.verbose))
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}), flush=True)
        if args.out:
            args.out.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(f"\n{args.orders:,} orders over {args.days} days per world; trained as of day {args.as_of_day}, "
          f"tested on days {args.as_of_day}-{args.days} with every outcome ever reported")
    print(table(rows).to_string(index=False))
    print()
    print(ratios(rows).to_string(index=False))
    print("\nmean percentile of each kind of fraud's scores among genuine orders (1.0: above all; 0.5: chance)")
    print(pattern_table(rows).to_string(index=False))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
