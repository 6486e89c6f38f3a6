"""`risk train`: fit the fraud and regret models and the decision policy as of a moment."""

from __future__ import annotations

import argparse
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
    parser.add_argument("--label-delay", choices=("correct", "mature"), default="correct",
                        help="correct (default): learn from every order, weighted by the share of its outcomes "
                        "reported at its age (delays estimated as of --as-of); mature: only orders older than "
                        "--maturity-days, silence counting as genuine")
    parser.add_argument("--maturity-days", type=float, default=60.0,
                        help="with --label-delay mature: an order without outcome is genuine once this old "
                        "(default 60)")
    parser.add_argument("--search", action="store_true",
                        help="first choose LightGBM settings among 8 by rolling-origin validation (3 weekly folds "
                        "before the validation slice; about 50 extra fits per risk: minutes)")
    parser.add_argument("--monotone", action=argparse.BooleanOptionalAction, default=True,
                        help="constrain the fraud model to the directions the features declare (default on)")
    parser.add_argument("--valid-days", type=float, default=14.0, help="validation slice length (default 14)")
    parser.add_argument("--config", type=Path,
                        help="JSON file: {\"fraud\": {lightgbm params}, \"regret\": {...}, \"costs\": {...}}; "
                        "checked before any data is read")
    parser.add_argument("--rates", type=Path, help="exchange rates JSON (default: the shipped rates; see README, "
                        "'Money'): order amounts are converted to the costs' currency before any cost")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--tree-step", type=int, default=5,
                        help="with --dask: the tree count is chosen among multiples of this (default 5)")
    dask_options.add_arguments(parser)
    parser.set_defaults(run=run)


def load_config(path: Path | None) -> dict[str, Any]:
    """The checked --config (training.config): an unknown or invalid setting is one line, before any data."""
    from training.config import read_config

    return read_config(path)


def run(args: argparse.Namespace) -> None:
    from risk.datasets import read_orders, read_outcomes
    from training.train import TrainConfig, train

    as_of = parse_time(args.as_of, "--as-of")
    train_from = None if args.train_from is None else parse_time(args.train_from, "--from")
    if train_from is not None and train_from >= as_of:
        raise InvalidInput("--from must be before --as-of")
    if args.maturity_days < 0 or args.valid_days <= 0:
        raise InvalidInput("--maturity-days must be >= 0 and --valid-days > 0")
    config = load_config(args.config)  # settings first: a typo fails in a second, not after the feature work
    costs = Costs(**config.get("costs", {}))
    from risk.money import load_rates

    rates = load_rates(args.rates)
    rates.require(costs.currency)
    progress = Progress(args.quiet)
    train_config = TrainConfig(as_of=as_of, train_from=train_from, maturity=timedelta(days=args.maturity_days),
                               valid_days=args.valid_days,
                               fraud_params=config.get("fraud", {}), regret_params=config.get("regret", {}),
                               costs=costs, rates=rates, seed=args.seed, label_delay=args.label_delay,
                               monotone=args.monotone, search=args.search)
    if args.dask:
        train_on_dask(args, train_config, progress)
        return
    progress(f"reading {args.orders} and {args.outcomes}")
    orders, outcomes = read_orders(args.orders), read_outcomes(args.outcomes)
    result = train(orders, outcomes, train_config, progress)
    bundle = result.bundle
    write_model_directory(args.out, result, orders, outcomes, train_config)
    progress(f"model {bundle.version} written to {args.out} (report: {args.out / 'report.html'})")
    for warning in bundle.metadata.get("diagnostics", {}).get("warnings", []):
        progress(f"warning: {warning}")
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
    write_model_directory(args.out, result, valid_orders, valid_outcomes, config)
    progress(f"model {result.bundle.version} written to {args.out} (report: {args.out / 'report.html'})")
    print(summary(result.bundle))


def write_model_directory(out: Path, result: TrainResult, orders: pd.DataFrame, outcomes: pd.DataFrame,
                          config: TrainConfig) -> None:
    """The model files and report.html, written into a fresh directory and swapped in whole
    (`risk.files.replace_directory`): a crash or a failing report leaves the previous model as it was."""
    from risk.files import replace_directory

    def write(directory: Path) -> None:
        result.bundle.write_files(directory)
        write_training_report(result, orders, outcomes, config, directory / "report.html")

    try:
        replace_directory(out, write)
    except NotADirectoryError:
        raise InvalidInput(f"--out {out}: a file is there; give a directory for the model") from None


def write_training_report(
    result: TrainResult, orders: pd.DataFrame, outcomes: pd.DataFrame, config: TrainConfig, path: Path
) -> None:
    """The validation slice's evaluation, with feature importance, as an HTML page."""
    from models.describe import policy_words
    from training.evaluate import evaluate
    from training.report import write_report

    metadata = result.bundle.full_metadata()
    # delay-corrected validation orders are younger than any maturity window: priced as reported by as-of
    maturity = config.maturity if config.label_delay == "mature" else timedelta(0)
    evaluation = evaluate(result.validation, orders, outcomes, as_of=config.as_of, maturity=maturity,
                          costs=config.costs, rates=config.rates)
    importance = {risk: values for risk, values in metadata["importance"].items()}
    training = metadata["training"]
    write_report(path, f"Model {result.bundle.version}: validation {training['valid_from'][:10]} to "
                 f"{training['valid_to'][:10]}", evaluation, importance=importance,
                 extra={"as of": training["as_of"], "trained on": training["n_train"]},
                 policy=result.bundle.policy, policy_words=policy_words(metadata), metadata=metadata)


def summary(bundle: ModelBundle) -> str:
    """The trained models (trees, calibrator, validation metrics, settings), the policy in words, the warnings."""
    from models.describe import model_lines, policy_words

    metadata = bundle.full_metadata()
    lines = [f"model {bundle.version}", *model_lines(metadata), f"policy: {policy_words(metadata)}"]
    lines += [f"warning: {w}" for w in metadata.get("diagnostics", {}).get("warnings", [])]
    return "\n".join(lines)
