"""`risk train`: fit the fraud and regret models and the decision policy as of a moment."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli import dask_options
from cli.progress import Progress
from cli.times import parse_time
from risk.errors import InvalidInput
from risk.policy import Costs

if TYPE_CHECKING:  # the heavy modules load only when a command runs, so `risk --help` stays quick
    import pandas as pd

    from models.bundle import ModelBundle
    from training.train import TrainConfig, TrainResult


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the fraud and regret models and the policy as of a moment",
        description="Train on orders created before --as-of, labelled with the outcomes reported by then, "
        "and write one self-contained model directory.",
    )
    parser.add_argument("--orders", type=Path, required=True)
    parser.add_argument("--outcomes", type=Path, required=True)
    parser.add_argument("--as-of", required=True, help="RFC 3339 time, e.g. 2026-03-01T00:00:00Z")
    parser.add_argument("--out", type=Path, required=True, help="model directory to write")
    parser.add_argument("--from", dest="train_from", metavar="TIME",
                        help="learn only from orders created at or after TIME (older orders still count as "
                        "history in the features); default: all orders before --as-of")
    parser.add_argument("--maturity-days", type=float, default=60.0,
                        help="an order without outcome is genuine once this old (default 60)")
    parser.add_argument("--valid-days", type=float, default=14.0, help="validation slice length (default 14)")
    parser.add_argument("--config", type=Path,
                        help="JSON file: {\"fraud\": {lightgbm params}, \"regret\": {...}, \"costs\": {...}}")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--tree-step", type=int, default=5,
                        help="with --dask: the tree count is chosen among multiples of this (default 5)")
    dask_options.add_arguments(parser)
    parser.set_defaults(run=run)


def load_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidInput(f"--config {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--config {path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    unknown = set(config) - {"fraud", "regret", "costs"}
    if unknown:
        raise InvalidInput(f"--config {path}: unknown section(s) {sorted(unknown)}; use fraud, regret, costs")
    return config


def run(args: argparse.Namespace) -> None:
    from risk.datasets import read_orders, read_outcomes
    from training.train import TrainConfig, train

    as_of = parse_time(args.as_of, "--as-of")
    train_from = None if args.train_from is None else parse_time(args.train_from, "--from")
    if train_from is not None and train_from >= as_of:
        raise InvalidInput("--from must be before --as-of")
    if args.maturity_days < 0 or args.valid_days <= 0:
        raise InvalidInput("--maturity-days must be >= 0 and --valid-days > 0")
    config = load_config(args.config)
    try:
        costs = Costs(**config.get("costs", {}))
    except TypeError as exc:
        raise InvalidInput(f"--config costs: {exc}") from None
    progress = Progress(args.quiet)
    train_config = TrainConfig(as_of=as_of, train_from=train_from, maturity=timedelta(days=args.maturity_days),
                               valid_days=args.valid_days,
                               fraud_params=config.get("fraud", {}), regret_params=config.get("regret", {}),
                               costs=costs, seed=args.seed)
    if args.dask:
        train_on_dask(args, train_config, progress)
        return
    progress(f"reading {args.orders} and {args.outcomes}")
    orders, outcomes = read_orders(args.orders), read_outcomes(args.outcomes)
    result = train(orders, outcomes, train_config, progress)
    bundle = result.bundle
    bundle.save(args.out)
    write_training_report(result, orders, outcomes, train_config, args.out / "report.html")
    progress(f"model {bundle.version} written to {args.out} (report: {args.out / 'report.html'})")
    print(summary(bundle))


def train_on_dask(args: argparse.Namespace, config: TrainConfig, progress: Progress) -> None:
    """`training.dask_train` on a cluster; the report covers the validation slice, collected here."""
    from risk import partitioned
    from training import dask_train
    from training.cluster import dask_client

    if args.tree_step < 1:
        raise InvalidInput("--tree-step must be at least 1")
    spec = dask_options.cluster_spec(args)
    orders, outcomes = partitioned.read_orders(args.orders), partitioned.read_outcomes(args.outcomes)
    with dask_client(spec) as client:
        progress(f"dask: {len(client.scheduler_info()['workers'])} workers; {args.orders}: {orders.npartitions} "
                 "partitions")
        result = dask_train.train_on_dask(client, orders, outcomes, config, progress, args.partitions, args.tree_step)
        valid_ids = result.validation["order_id"]
        valid_orders = orders[orders["order_id"].isin(list(valid_ids))].compute()
        valid_outcomes = outcomes[outcomes["order_id"].isin(list(valid_ids))].compute()
    result.bundle.save(args.out)
    write_training_report(result, valid_orders, valid_outcomes, config, args.out / "report.html")
    progress(f"model {result.bundle.version} written to {args.out} (report: {args.out / 'report.html'})")
    print(summary(result.bundle))


def write_training_report(
    result: TrainResult, orders: pd.DataFrame, outcomes: pd.DataFrame, config: TrainConfig, path: Path
) -> None:
    """The validation slice's evaluation, with feature importance, as an HTML page."""
    from training.evaluate import evaluate
    from training.report import write_report

    evaluation = evaluate(result.validation, orders, outcomes, as_of=config.as_of, maturity=config.maturity,
                          costs=config.costs)
    importance = {risk: values for risk, values in result.bundle.metadata["importance"].items()}
    training = result.bundle.metadata["training"]
    write_report(path, f"Model {result.bundle.version}: validation {training['valid_from'][:10]} to "
                 f"{training['valid_to'][:10]}", evaluation, importance=importance,
                 extra={"as of": training["as_of"], "trained on": training["n_train"],
                        "policy": json.dumps(result.bundle.policy.to_dict())})


def summary(bundle: ModelBundle) -> str:
    """The trained models' validation metrics and the policy's expected effect, for the terminal."""
    lines = [f"model {bundle.version}", f"{'risk':<8} {'AUC':>7} {'AP':>7} {'Brier':>8} {'pos/n':>14}"]
    for risk, m in bundle.metadata["metrics"].items():
        lines.append(f"{risk:<8} {m['roc_auc']:7.4f} {m['average_precision']:7.4f} {m['brier']:8.5f} "
                     f"{m['positives']:>6}/{m['n']:<7}")
    expected = bundle.metadata["expected"]
    rates = ", ".join(f"{k} {v:.2%}" for k, v in expected["rates"].items())
    lines.append(f"policy on validation: {rates}; {expected['reviews_per_day']:.0f} reviews/day; "
                 f"cost {expected['cost'] / 100:,.0f} vs {expected['cost_approve_all'] / 100:,.0f} approving all")
    return "\n".join(lines)
