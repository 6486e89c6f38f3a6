"""Features and training on Dask (1 and 2 workers) vs the single-machine path: time, peak memory, model quality.

Usage: python bench/bench_dask.py [--orders 200000] [--days 90] [--test-days 14] [--parts 20]
                                  [--memory-limit 1GB] [--trees 300] [--seed 7] [--world fixed]
                                  [--label-delay correct] [--runs single,dask1,dask2]

Each run is a fresh process (the single path) or a fresh LocalCluster of worker processes,
so peak memory is each process's own high-water mark (getrusage ru_maxrss): the single
path's whole process, and each Dask worker's; CPU time is the single process's, or the
client's plus every worker's. The data set (`--days` + `--test-days` of orders) is simulated
once and written as `--parts` Parquet part files. Training: as of the end of `--days`,
`--label-delay` (the default, "correct": two passes, the second weighted by each order's own
risk; or "mature", 30-day maturity), 14 validation days, `--trees` trees at most (the single
path stops early on validation AP; the Dask path trains all and keeps the best prefix, see
training/dask_train.py). Validation AUC / AP are on the same validation slice for every run;
"later" is the `--test-days` after the as-of, scored by each run's models and judged on every
outcome the simulator reports (bench_label_delay.quality): AP, and predicted / observed
positives (the sum of the scores over the number of positives: 1 is calibrated).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
from bench_label_delay import fully_reported, quality

from features.catalog import FEATURE_NAMES
from models.bundle import ModelBundle
from risk.datasets import ORDERS, OUTCOMES, normalise, write_orders, write_outcomes
from risk.partitioned import write_parts
from training.simulator import DEFAULT_START, simulate
from training.train import TrainConfig

from benchkit import print_table

RISKS = ("fraud", "regret")


def config(as_of: pd.Timestamp, trees: int, label_delay: str) -> TrainConfig:
    params = {"n_estimators": trees}
    return TrainConfig(as_of=as_of, maturity=timedelta(days=30), valid_days=14, fraud_params=params,
                       regret_params=dict(params), label_delay=label_delay)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def later_quality(bundle: ModelBundle, features: pd.DataFrame, later: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The models' quality on the orders after the as-of (`later`: order_id, fraud, regret once fully reported)."""
    rows = features.set_index("order_id").loc[later["order_id"].to_numpy(), list(FEATURE_NAMES)]
    fraud, regret = bundle.scores(rows.to_numpy(dtype="float32"))
    return {risk: quality(later[risk].to_numpy(), p) for risk, p in (("fraud", fraud), ("regret", regret))}


def run_single(data: Path, as_of: pd.Timestamp, trees: int, label_delay: str) -> dict:
    """The single-machine path in this (fresh) process: read, features, then training (features again inside)."""
    from features.batch import compute_features
    from risk.datasets import read_orders, read_outcomes
    from training.train import train

    started = time.perf_counter()
    orders, outcomes = read_orders(data / "orders.parquet"), read_outcomes(data / "outcomes.parquet")
    features = compute_features(orders, outcomes)
    features.to_parquet(data / "single_features.parquet", index=False)
    features_s = time.perf_counter() - started
    features_peak = peak_mb()
    del features
    later = pd.read_parquet(data / "later.parquet")
    started, cpu = time.perf_counter(), cpu_s()
    result = train(orders, outcomes, config(as_of, trees, label_delay), lambda m: None)
    train_s, train_cpu_s = time.perf_counter() - started, cpu_s() - cpu
    return {"features_s": features_s, "train_s": train_s, "train_cpu_s": train_cpu_s,
            "features_peak_mb": features_peak, "peak_mb": peak_mb(), "metrics": result.bundle.metadata["metrics"],
            "trees": {r: getattr(result.bundle, r).trees for r in RISKS},
            "later": later_quality(result.bundle, later_features(data / "single_features.parquet", later), later)}


def later_features(path: Path, later: pd.DataFrame) -> pd.DataFrame:
    """The later orders' features, as the run wrote them (a file, or the workers' part files)."""
    return pd.read_parquet(path, columns=["order_id", *FEATURE_NAMES],
                           filters=[("order_id", "in", later["order_id"].tolist())])


def run_dask(data: Path, as_of: pd.Timestamp, trees: int, label_delay: str, workers: int, memory_limit: str) -> dict:
    """The Dask path on a fresh LocalCluster: features to part files, then training."""
    from cli.dask_options import write_result
    from features.dask_batch import compute_features
    from risk import partitioned
    from training.cluster import ClusterSpec, dask_client
    from training.dask_train import train_on_dask

    spec = ClusterSpec("local", workers=workers, threads_per_worker=1, memory_limit=memory_limit)
    with dask_client(spec) as client:
        orders, outcomes = partitioned.read_orders(data / "orders"), partitioned.read_outcomes(data / "outcomes")
        out = data / f"dask{workers}_features"
        started = time.perf_counter()
        rows = write_result(compute_features(orders, outcomes), out)
        features_s = time.perf_counter() - started
        features_peaks = list(client.run(peak_mb).values())
        started, cpu = time.perf_counter(), cpu_s() + sum(client.run(cpu_s).values())
        result = train_on_dask(client, orders, outcomes, config(as_of, trees, label_delay), lambda m: None)
        train_s, train_cpu_s = time.perf_counter() - started, cpu_s() + sum(client.run(cpu_s).values()) - cpu
        peaks = list(client.run(peak_mb).values())
    later = pd.read_parquet(data / "later.parquet")
    return {"features_s": features_s, "train_s": train_s, "train_cpu_s": train_cpu_s, "rows": rows,
            "features_peak_mb": max(features_peaks), "peak_mb": max(peaks),
            "metrics": result.bundle.metadata["metrics"], "trees": result.bundle.metadata["trainer"]["trees"],
            "later": later_quality(result.bundle, later_features(out, later), later)}


def child(args: argparse.Namespace) -> None:
    data, as_of = Path(args.data), pd.Timestamp(args.as_of)
    if args.child == "single":
        result = run_single(data, as_of, args.trees, args.label_delay)
    else:
        result = run_dask(data, as_of, args.trees, args.label_delay, int(args.child.removeprefix("dask")),
                          args.memory_limit)
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=90, help="of history: the as-of is at their end")
    parser.add_argument("--test-days", type=int, default=14, help="after the as-of, scored and judged")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--world", choices=("fixed", "varied"), default="fixed")
    parser.add_argument("--label-delay", choices=("correct", "mature"), default="correct")
    parser.add_argument("--parts", type=int, default=20)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--memory-limit", default="1GB", help="per Dask worker")
    parser.add_argument("--runs", default="single,dask1,dask2")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench_dask_") as tmp:
        data = Path(tmp)
        days = args.days + args.test_days
        orders, outcomes = simulate(args.orders * days // args.days, days, args.seed, world=args.world)
        orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
        write_orders(orders, data / "orders.parquet")
        write_outcomes(outcomes, data / "outcomes.parquet")
        write_parts(orders, data / "orders", args.parts, write_orders)
        write_parts(outcomes, data / "outcomes", max(1, args.parts // 10), write_outcomes)
        as_of = DEFAULT_START + pd.Timedelta(days=args.days)
        later = (orders["created_at"] >= as_of).to_numpy()
        truth = fully_reported(orders, outcomes)[later]
        truth.insert(0, "order_id", orders["order_id"].to_numpy()[later])
        truth.to_parquet(data / "later.parquet", index=False)
        observed = {risk: int(truth[risk].sum()) for risk in RISKS}
        n_before = int((~later).sum())
        del orders, outcomes
        rows = []
        for run in args.runs.split(","):
            command = [sys.executable, __file__, "--child", run, "--data", str(data), "--as-of", as_of.isoformat(),
                       "--trees", str(args.trees), "--memory-limit", args.memory_limit,
                       "--label-delay", args.label_delay]
            print(f"running {run} ...", file=sys.stderr, flush=True)
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            result = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])
            print(f"{run}: {json.dumps(result)}", file=sys.stderr, flush=True)
            rows.append(row(run, result, args.memory_limit))
    print(f"{args.world} world, seed {args.seed}: {n_before:,} simulated orders over {args.days} days before the "
          f"as-of, {int(later.sum()):,} in the {args.test_days} days after ({observed['fraud']} frauds, "
          f"{observed['regret']} regrets once fully reported); label delay {args.label_delay}; {args.parts} part "
          f"files; Dask workers: 1 thread, memory limit {args.memory_limit} each; load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end")
    print_table(rows)


def row(run: str, result: dict, memory_limit: str) -> dict[str, str]:
    metrics, later = result["metrics"], result["later"]
    return {
        "run": run if run == "single" else f"dask, {run.removeprefix('dask')} worker(s)",
        "features s": f"{result['features_s']:.1f}",
        "train s": f"{result['train_s']:.1f}",
        "train CPU s": f"{result['train_cpu_s']:.1f}",
        "peak MB (features)": f"{result['features_peak_mb']:.0f}",
        "peak MB (all)": f"{result['peak_mb']:.0f}" + ("" if run == "single" else f" / {memory_limit} limit"),
        "trees f/r": f"{result['trees']['fraud']}/{result['trees']['regret']}",
        "fraud AUC/AP": f"{metrics['fraud']['roc_auc']:.4f}/{metrics['fraud']['average_precision']:.3f}",
        "regret AUC/AP": f"{metrics['regret']['roc_auc']:.4f}/{metrics['regret']['average_precision']:.3f}",
        **{f"later {risk} AP, pred/obs": f"{later[risk]['ap']:.3f}, {later[risk]['pred/obs']:.2f}" for risk in RISKS},
    }


if __name__ == "__main__":
    main()
