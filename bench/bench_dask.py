"""Features and training on Dask (1 and 2 workers) vs the single-machine path: time, peak memory, model metrics.

Usage: python bench/bench_dask.py [--orders 200000] [--days 90] [--parts 20] [--memory-limit 1GB]
                                  [--trees 300] [--runs single,dask1,dask2]

Each run is a fresh process (the single path) or a fresh LocalCluster of worker processes,
so peak memory is each process's own high-water mark (getrusage ru_maxrss): the single
path's whole process, and each Dask worker's. The data set is simulated once and written
as `--parts` Parquet part files. Training: as of the day after the last order, 30-day
label maturity, 14 validation days, `--trees` trees at most (the single path stops early
on validation AP; the Dask path trains all and keeps the best prefix, see training/dask_train.py).
Validation AUC / AP are on the same validation slice for every run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd

from risk.datasets import write_orders, write_outcomes
from risk.partitioned import write_parts
from training.train import TrainConfig

from benchkit import print_table, simulated_world


def config(as_of: pd.Timestamp, trees: int) -> TrainConfig:
    params = {"n_estimators": trees}
    return TrainConfig(as_of=as_of, maturity=timedelta(days=30), valid_days=14, fraud_params=params,
                       regret_params=dict(params))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_single(data: Path, as_of: pd.Timestamp, trees: int) -> dict:
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
    started = time.perf_counter()
    result = train(orders, outcomes, config(as_of, trees), lambda m: None)
    train_s = time.perf_counter() - started
    return {"features_s": features_s, "train_s": train_s, "features_peak_mb": features_peak, "peak_mb": peak_mb(),
            "metrics": result.bundle.metadata["metrics"], "trees": {r: getattr(result.bundle, r).trees
                                                                    for r in ("fraud", "regret")}}


def run_dask(data: Path, as_of: pd.Timestamp, trees: int, workers: int, memory_limit: str) -> dict:
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
        started = time.perf_counter()
        result = train_on_dask(client, orders, outcomes, config(as_of, trees), lambda m: None)
        train_s = time.perf_counter() - started
        peaks = list(client.run(peak_mb).values())
    return {"features_s": features_s, "train_s": train_s, "rows": rows, "features_peak_mb": max(features_peaks),
            "peak_mb": max(peaks), "metrics": result.bundle.metadata["metrics"],
            "trees": result.bundle.metadata["trainer"]["trees"]}


def child(args: argparse.Namespace) -> None:
    data, as_of = Path(args.data), pd.Timestamp(args.as_of)
    if args.child == "single":
        result = run_single(data, as_of, args.trees)
    else:
        result = run_dask(data, as_of, args.trees, int(args.child.removeprefix("dask")), args.memory_limit)
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=90)
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
        orders, outcomes = simulated_world(args.orders, args.days, seed=7)
        write_orders(orders, data / "orders.parquet")
        write_outcomes(outcomes, data / "outcomes.parquet")
        write_parts(orders, data / "orders", args.parts, write_orders)
        write_parts(outcomes, data / "outcomes", max(1, args.parts // 10), write_outcomes)
        as_of = (orders["created_at"].max() + pd.Timedelta(seconds=1)).isoformat()
        del orders, outcomes
        rows = []
        for run in args.runs.split(","):
            command = [sys.executable, __file__, "--child", run, "--data", str(data), "--as-of", as_of,
                       "--trees", str(args.trees), "--memory-limit", args.memory_limit]
            print(f"running {run} ...", file=sys.stderr, flush=True)
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            result = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])
            print(f"{run}: {json.dumps(result)}", file=sys.stderr, flush=True)
            rows.append(row(run, result, args.memory_limit))
    print(f"{args.orders:,} simulated orders over {args.days} days, {args.parts} part files; "
          f"Dask workers: 1 thread, memory limit {args.memory_limit} each")
    print_table(rows)


def row(run: str, result: dict, memory_limit: str) -> dict[str, str]:
    metrics = result["metrics"]
    return {
        "run": run if run == "single" else f"dask, {run.removeprefix('dask')} worker(s)",
        "features s": f"{result['features_s']:.1f}",
        "train s": f"{result['train_s']:.1f}",
        "peak MB (features)": f"{result['features_peak_mb']:.0f}",
        "peak MB (all)": f"{result['peak_mb']:.0f}" + ("" if run == "single" else f" / {memory_limit} limit"),
        "trees f/r": f"{result['trees']['fraud']}/{result['trees']['regret']}",
        "fraud AUC/AP": f"{metrics['fraud']['roc_auc']:.4f}/{metrics['fraud']['average_precision']:.3f}",
        "regret AUC/AP": f"{metrics['regret']['roc_auc']:.4f}/{metrics['regret']['average_precision']:.3f}",
    }


if __name__ == "__main__":
    main()
