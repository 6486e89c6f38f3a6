"""`risk features`: batch features of a data set, or the list of features with descriptions."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import dask_options
from cli.outputs import write_table
from cli.progress import Progress
from risk.errors import InvalidInput


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "features",
        help="compute point-in-time features of a data set, or list them",
        description="Compute every feature of every order, each from the orders before it and the "
        "outcomes reported by then, and write one row per order with its order_id.",
    )
    parser.add_argument("--orders", type=Path,
                        help="orders table (.parquet or .csv; with --dask also a directory of parts)")
    parser.add_argument("--outcomes", type=Path, help="outcomes table (optional: no label-aware history)")
    parser.add_argument("--out", type=Path, help="output file (.parquet or .csv; with --dask also a directory)")
    parser.add_argument("--list", action="store_true", help="print each feature with its description")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    dask_options.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    if args.list:
        print_catalog()
        return
    if args.orders is None or args.out is None:
        raise InvalidInput("give --orders and --out (or --list)")
    if args.dask:
        run_on_dask(args)
        return
    if args.out.suffix.lower() not in (".parquet", ".csv"):
        raise InvalidInput(f"--out {args.out}: use a .parquet or .csv file name")
    from features.batch import compute_features
    from risk.datasets import read_orders, read_outcomes

    progress = Progress(args.quiet)
    progress(f"reading {args.orders}")
    orders = read_orders(args.orders)
    outcomes = read_outcomes(args.outcomes) if args.outcomes else None
    progress(f"{len(orders):,} orders, {0 if outcomes is None else len(outcomes):,} outcomes")
    features = compute_features(orders, outcomes, progress=progress)
    write_table(features, args.out)
    progress(f"wrote {len(features):,} rows x {features.shape[1] - 1} features to {args.out}")


def run_on_dask(args: argparse.Namespace) -> None:
    """The same features, computed on a Dask cluster from a file or a directory of part files."""
    from features.dask_batch import compute_features
    from risk import partitioned
    from training.cluster import dask_client

    dask_options.check_out(args.out)
    spec = dask_options.cluster_spec(args)
    progress = Progress(args.quiet)
    orders = partitioned.read_orders(args.orders)
    outcomes = partitioned.read_outcomes(args.outcomes) if args.outcomes else None
    with dask_client(spec) as client:
        progress(f"dask: {len(client.scheduler_info()['workers'])} workers; {args.orders}: {orders.npartitions} "
                 "partitions")
        features = compute_features(orders, outcomes, args.partitions, progress=progress)
        rows = dask_options.write_result(features, args.out)
    progress(f"wrote {rows:,} rows x {len(features.columns) - 1} features to {args.out}")


def print_catalog() -> None:
    from features.catalog import describe

    infos = describe()
    width = max(len(info.name) for info in infos)
    for info in infos:
        kind = " (categorical)" if info.categorical else ""
        print(f"{info.name:<{width}}  {info.family:<7}  {info.description}{kind}")
