"""Delay-corrected vs mature-only (and naive) training, over varied simulated worlds and history lengths.

    python bench/bench_label_delay.py                     # 5 seeds, 30/60/90 days of history
    python bench/bench_label_delay.py --seeds 0 1 --orders-per-day 500 --modes correct mature naive

For each seed, one varied world (training.simulator.params: its own fraud mix and rate,
reporting delays, friendly fraud, noise and drift) of `days + test days`; for each history
length H, models trained as of day H three ways:
- correct: `risk train`'s default, every order weighted by the share of its labels reported;
- mature: only orders older than H/2 days (the maturity that leaves half the history;
  60 days, the default, leaves nothing with 30 or 60 days of history);
- naive: every order, silence counting as genuine (maturity 0); only with --modes ... naive.
Each model scores the `test days` after day H, and is judged on the labels of those orders
once fully reported (every outcome the simulator ever reports): fraud and regret AUC and
average precision, and calibration: expected calibration error (15 equal-count bins),
Brier score, and predicted / observed positives overall and in the top 10% and 1% of scores.
Features are computed once per world (they are point-in-time, so as-of-independent; `--cache`
keeps them). Each row also has the training's CPU seconds and each risk's "up to" factor of
the delay warning (`LabelDelay.underestimate_up_to`). Prints one row per setting with mean,
min and max over the seeds, and the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed copy

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from risk.contract import FRAUD_KINDS, REGRET_KINDS
from risk.datasets import ORDERS, OUTCOMES, normalise
from training.simulator import DEFAULT_START, simulate
from training.train import TrainConfig, train

MODES = ("correct", "mature", "naive")
DEFAULT_MODES = ("correct", "mature")
RISKS = ("fraud", "regret")


def fully_reported(orders: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Fraud and regret labels once every outcome is in (fraud wins over regret)."""
    fraud = orders["order_id"].isin(outcomes.loc[outcomes["kind"].isin(FRAUD_KINDS), "order_id"]).to_numpy()
    regret = orders["order_id"].isin(outcomes.loc[outcomes["kind"].isin(REGRET_KINDS), "order_id"]).to_numpy()
    return pd.DataFrame({"fraud": fraud.astype(int), "regret": (regret & ~fraud).astype(int)})


def ece(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error over equal-count bins of the score."""
    order = np.argsort(p, kind="stable")
    return float(sum(abs(p[part].mean() - y[part].mean()) * len(part) for part in np.array_split(order, bins)) / len(y))


def quality(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    ranked = np.argsort(-p, kind="stable")
    top, decile = ranked[: max(1, len(p) // 100)], ranked[: max(1, len(p) // 10)]
    both = 0 < y.sum() < len(y)
    return {"auc": float(roc_auc_score(y, p)) if both else np.nan,
            "ap": float(average_precision_score(y, p)) if both else np.nan,
            "ece": ece(y, p), "brier": float(np.mean((p - y) ** 2)),
            "pred/obs": float(p.sum() / max(y.sum(), 1)),
            "pred/obs top10%": float(p[decile].sum() / max(y[decile].sum(), 1)),
            "pred/obs top1%": float(p[top].sum() / max(y[top].sum(), 1))}


def config(mode: str, as_of: pd.Timestamp, history_days: int) -> TrainConfig:
    if mode == "correct":
        return TrainConfig(as_of=as_of, label_delay="correct")
    maturity = timedelta(days=history_days / 2 if mode == "mature" else 0)
    return TrainConfig(as_of=as_of, label_delay="mature", maturity=maturity)


def world(seed: int, orders_per_day: int, days: int, cache: Path | None = None
          ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Orders, outcomes and features of one varied world; kept in `cache` as Parquet if given (the features
    take minutes of CPU and are the same for every run of a world)."""
    paths = None if cache is None else [cache / f"seed{seed}-{orders_per_day}x{days}-{name}.parquet"
                                        for name in ("orders", "outcomes", "features")]
    if paths and all(path.exists() for path in paths):
        orders, outcomes, features = (pd.read_parquet(path) for path in paths)
        return orders, outcomes, features
    orders, outcomes = simulate(orders_per_day * days, days, seed, world="varied")
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    features = compute_features(orders, outcomes)[list(FEATURE_NAMES)]
    if cache is not None and paths:
        cache.mkdir(parents=True, exist_ok=True)
        for frame, path in zip((orders, outcomes, features), paths, strict=True):
            frame.to_parquet(path)
    return orders, outcomes, features


def run_world(seed: int, orders_per_day: int, histories: list[int], test_days: int,
              modes: tuple[str, ...] = DEFAULT_MODES, cache: Path | None = None) -> list[dict[str, object]]:
    days = max(histories) + test_days
    orders, outcomes, features = world(seed, orders_per_day, days, cache)
    X = features[list(FEATURE_NAMES)].to_numpy(dtype="float32")
    truth = fully_reported(orders, outcomes)
    rows = []
    for history in histories:
        as_of = DEFAULT_START + pd.Timedelta(days=history)
        created = orders["created_at"]
        test = ((created >= as_of) & (created < as_of + pd.Timedelta(days=test_days))).to_numpy()
        for mode in modes:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                bundle = train(orders, outcomes, config(mode, as_of, history), lambda message: None, features).bundle
            except Exception as exc:
                rows.append({"seed": seed, "history": history, "mode": mode, "error": str(exc)[:80]})
                continue
            fraud_p, regret_p = bundle.scores(X[test])
            delays = bundle.metadata["training"]["reporting_delays"]
            row: dict[str, object] = {"seed": seed, "history": history, "mode": mode,
                                      "seconds": time.perf_counter() - started,
                                      "cpu seconds": time.process_time() - cpu}
            for risk in RISKS:  # the "may be under-estimated by up to" of the delay warning (1 under maturity)
                row[f"{risk} up to"] = float(delays[risk]["underestimate_up_to"]) if risk in delays else 1.0
            for risk, p in (("fraud", fraud_p), ("regret", regret_p)):
                for name, value in quality(truth[risk].to_numpy()[test], p).items():
                    row[f"{risk} {name}"] = value
            rows.append(row)
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    return rows


def summary(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    metrics = [c for c in frame.columns if c.startswith(RISKS)]
    table = []
    for (history, mode), group in frame.groupby(["history", "mode"], sort=True):
        ok = group.dropna(subset=metrics, how="all") if metrics else group
        line: dict[str, object] = {"history": history, "mode": mode, "worlds": len(ok)}
        for metric in metrics:
            values = ok[metric].to_numpy(dtype="float64")
            line[metric] = f"{np.nanmean(values):.3f} [{np.nanmin(values):.3f}, {np.nanmax(values):.3f}]" if len(
                values) else "-"
        table.append(line)
    return pd.DataFrame(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--orders-per-day", type=int, default=1000)
    parser.add_argument("--histories", type=int, nargs="+", default=[30, 60, 90])
    parser.add_argument("--test-days", type=int, default=14)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(DEFAULT_MODES))
    parser.add_argument("--out", type=Path, help="write every run as JSON lines here too")
    parser.add_argument("--cache", type=Path, help="keep each world's orders, outcomes and features here "
                        "(Parquet), and reuse them when run again")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for seed in args.seeds:
        rows += run_world(seed, args.orders_per_day, args.histories, args.test_days, tuple(args.modes), args.cache)
    if args.out:
        args.out.write_text("\n".join(json.dumps(r, default=float) for r in rows))
    table = summary(rows)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    for risk in RISKS:
        columns = ["history", "mode", "worlds"] + [c for c in table.columns if c.startswith(risk)]
        print(f"\n{risk}: mean [min, max] over seeds {args.seeds}")
        print(table[columns].to_string(index=False))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
