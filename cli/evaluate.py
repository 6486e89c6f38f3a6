"""`risk evaluate`: score predictions against the labels known at one moment, with a report."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

from cli.progress import Progress
from cli.times import parse_time
from risk.errors import InvalidInput


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate predictions against known labels and write a report",
        description="Score predictions (order_id, fraud_score, regret_score, decision) against the labels known "
        "at --as-of, price the decisions, print a summary and write metrics.json and report.html.",
    )
    parser.add_argument("--predictions", type=Path, help="predictions (.parquet or .csv)")
    parser.add_argument("--orders", type=Path, help="orders table (.parquet or .csv)")
    parser.add_argument("--outcomes", type=Path, help="outcomes table (.parquet or .csv)")
    parser.add_argument("--baseline", type=Path, help="other predictions to compare with (optional)")
    parser.add_argument("--as-of", help="RFC 3339 time with a timezone (default: the latest reported outcome)")
    parser.add_argument("--maturity-days", type=float, default=60.0, help="label maturity window (default 60)")
    parser.add_argument("--out", type=Path, help="output folder (default: <predictions stem>_evaluation/ beside it)")
    parser.add_argument("--title", help="report title (default: from the predictions file name)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    if args.predictions is None or args.orders is None or args.outcomes is None:
        raise InvalidInput("give --predictions, --orders and --outcomes")
    as_of = parse_time(args.as_of, "--as-of") if args.as_of is not None else None
    if not args.maturity_days >= 0:
        raise InvalidInput(f"--maturity-days must be 0 or more, got {args.maturity_days:g}")
    maturity = timedelta(days=args.maturity_days)
    out = args.out or args.predictions.parent / f"{args.predictions.stem}_evaluation"
    from risk.datasets import read_orders, read_outcomes
    from training.evaluate import evaluate, json_ready, read_predictions, summary_table
    from training.report import write_report

    progress = Progress(args.quiet)
    progress(f"reading {args.predictions}, {args.orders}, {args.outcomes}")
    predictions = read_predictions(args.predictions)
    other = read_predictions(args.baseline) if args.baseline else None
    orders, outcomes = read_orders(args.orders), read_outcomes(args.outcomes)
    progress(f"{len(predictions):,} predictions, {len(orders):,} orders, {len(outcomes):,} outcomes")
    ours = evaluate(predictions, orders, outcomes, as_of, maturity)
    data = ours.metrics["data"]
    progress(f"as of {data['as_of']}: {data['n_labelled']:,} labelled, "
             f"{data['n_unlabelled']:,} left out (no label yet)")
    baseline = evaluate(other, orders, outcomes, ours.as_of, maturity) if other is not None else None
    metrics = dict(ours.metrics, baseline=baseline.metrics) if baseline else ours.metrics
    extra = {"predictions": str(args.predictions), "baseline": str(args.baseline or "none"),
             "orders": str(args.orders), "outcomes": str(args.outcomes)}
    _make_folder(out)
    (out / "metrics.json").write_text(json.dumps(json_ready(metrics), indent=2, allow_nan=False) + "\n")
    progress(f"drawing {out / 'report.html'}")
    write_report(out / "report.html", args.title or f"Evaluation of {args.predictions.name}", ours, baseline,
                 extra=extra)
    print(summary_table(ours, baseline))
    progress(f"wrote {out / 'metrics.json'} and {out / 'report.html'}")


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot create the folder: {exc.strerror}") from None
