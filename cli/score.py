"""`risk score`: score a period in batch with a model directory, as production would have."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from cli import dask_options
from cli.outputs import write_table
from cli.progress import Progress
from cli.times import parse_time
from risk.errors import InvalidInput
from risk.files import write_text_atomically

if TYPE_CHECKING:
    import pandas as pd

    from models.bundle import ModelBundle


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score the orders of a period in batch",
        description="Score the orders created in [--from, --to) with point-in-time features from all the "
        "history before each order. Writes order_id, fraud_score, regret_score, decision.",
    )
    parser.add_argument("--model", type=Path, required=True, help="model directory")
    parser.add_argument("--orders", type=Path, required=True)
    parser.add_argument("--outcomes", type=Path, help="outcomes (for label-aware features)")
    parser.add_argument("--from", dest="start", required=True, help="RFC 3339 time")
    parser.add_argument("--to", dest="end", help="RFC 3339 time (default: the end of the data)")
    parser.add_argument("--out", type=Path, required=True, help="predictions file (.parquet or .csv)")
    parser.add_argument("--quiet", action="store_true")
    dask_options.add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from models.bundle import load_bundle
    from risk.datasets import read_orders, read_outcomes
    from training.score import score_period

    start = parse_time(args.start, "--from")
    end = parse_time(args.end, "--to") if args.end else None
    if args.dask:
        run_on_dask(args, start, end)
        return
    if args.out.suffix.lower() not in (".parquet", ".csv"):
        raise InvalidInput(f"--out {args.out}: use a .parquet or .csv file name")
    bundle = load_bundle(args.model)
    progress = Progress(args.quiet)
    progress(f"model {bundle.version}; reading {args.orders}")
    orders = read_orders(args.orders)
    outcomes = read_outcomes(args.outcomes) if args.outcomes else None
    predictions = score_period(bundle, orders, outcomes, start, end, progress)
    write_table(predictions, args.out)
    write_model_note(args.out, args.model, bundle)
    counts = predictions["decision"].value_counts().to_dict()
    progress(f"wrote {len(predictions):,} predictions to {args.out}: {counts}")


MODEL_NOTE = ".model.json"


def write_model_note(predictions: Path, model_dir: Path, bundle: ModelBundle) -> Path:
    """Beside the predictions, which model made them, with its costs and policy: `risk evaluate` prices with them."""
    metadata = bundle.full_metadata()
    note: dict[str, object] = {"version": bundle.version, "model_dir": str(model_dir.resolve())}
    note.update({key: metadata[key] for key in ("policy", "costs", "expected", "training") if key in metadata})
    path = predictions.with_name(predictions.name + MODEL_NOTE)
    write_text_atomically(path, json.dumps(note, indent=2, default=str) + "\n")
    return path
def run_on_dask(args: argparse.Namespace, start: pd.Timestamp, end: pd.Timestamp | None) -> None:
    """Features and predictions on a Dask cluster, each partition scored where it lies."""
    from models.bundle import load_bundle
    from risk import partitioned
    from training.cluster import dask_client
    from training.dask_score import score_period

    dask_options.check_out(args.out)
    spec = dask_options.cluster_spec(args)
    bundle = load_bundle(args.model)
    progress = Progress(args.quiet)
    orders = partitioned.read_orders(args.orders)
    outcomes = partitioned.read_outcomes(args.outcomes) if args.outcomes else None
    progress(f"model {bundle.version}; {args.orders}: {orders.npartitions} partitions")
    with dask_client(spec) as client:
        progress(f"dask: {len(client.scheduler_info()['workers'])} workers")
        predictions = score_period(bundle, orders, outcomes, start, end, progress, args.partitions)
        rows = dask_options.write_result(predictions, args.out)
    if rows == 0:
        raise InvalidInput(f"no orders created in [{start.isoformat()}, {'end' if end is None else end.isoformat()})")
    progress(f"wrote {rows:,} predictions to {args.out}")
