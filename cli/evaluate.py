"""`risk evaluate`: score predictions against the labels known at one moment, with a report."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from cli.progress import Progress
from cli.times import parse_time
from risk.errors import InvalidInput
from risk.files import write_text_atomically
from risk.policy import Costs


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
    parser.add_argument("--model", type=Path, help="model directory whose costs and review capacity price the "
                        "decisions (default: the model `risk score` noted beside the predictions, else the defaults)")
    parser.add_argument("--config", type=Path, help="training config JSON: its \"costs\" section overrides the "
                        "model's costs, setting by setting")
    parser.add_argument("--costs", type=Path, help="JSON object of cost settings overriding the model's, e.g. "
                        "{\"review_capacity_per_day\": 50}")
    parser.add_argument("--rates", type=Path, help="exchange rates JSON (default: the shipped rates; README 'Money')")
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
    model = model_note(args.predictions, args.model)
    costs, source = costs_for(model, args.config, args.costs)
    from risk.money import load_rates

    rates = load_rates(args.rates)
    rates.require(costs.currency)
    progress(f"costs: {source}; in {costs.currency}, review capacity {costs.review_capacity_per_day:,.0f} a day")
    progress(f"reading {args.predictions}, {args.orders}, {args.outcomes}")
    predictions = read_predictions(args.predictions)
    other = read_predictions(args.baseline) if args.baseline else None
    orders, outcomes = read_orders(args.orders), read_outcomes(args.outcomes)
    progress(f"{len(predictions):,} predictions, {len(orders):,} orders, {len(outcomes):,} outcomes")
    ours = evaluate(predictions, orders, outcomes, as_of, maturity, costs, rates)
    data = ours.metrics["data"]
    progress(f"as of {data['as_of']}: {data['n_labelled']:,} labelled, "
             f"{data['n_unlabelled']:,} left out (no label yet)")
    # the baseline is priced exactly like ours: same costs, capacity and rates
    baseline = evaluate(other, orders, outcomes, ours.as_of, maturity, costs, rates) if other is not None else None
    metrics = dict(ours.metrics, baseline=baseline.metrics) if baseline else ours.metrics
    extra = {"predictions": str(args.predictions), "baseline": str(args.baseline or "none"),
             "orders": str(args.orders), "outcomes": str(args.outcomes)}
    _make_folder(out)
    # each file whole or not at all (risk.files): a failure leaves the previous evaluation's file as it was
    write_text_atomically(out / "metrics.json", json.dumps(json_ready(metrics), indent=2, allow_nan=False) + "\n")
    progress(f"drawing {out / 'report.html'}")
    words = _words(model)
    extra["costs from"] = source
    write_report(out / "report.html", args.title or f"Evaluation of {args.predictions.name}", ours, baseline,
                 extra=extra, policy_words=words)
    print(summary_table(ours, baseline, policy_words=words))
    progress(f"wrote {out / 'metrics.json'} and {out / 'report.html'}")


def model_note(predictions: Path, model_dir: Path | None) -> dict[str, Any] | None:
    """What is known of the model behind the predictions: --model's metadata, else the note `risk score` wrote."""
    if model_dir is not None:
        from models.registry import read_metadata

        return dict(read_metadata(model_dir), model_dir=str(model_dir))
    from cli.score import MODEL_NOTE

    note = predictions.with_name(predictions.name + MODEL_NOTE)
    if not note.is_file():
        return None
    try:
        data = json.loads(note.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{note}: not the model note `risk score` writes ({exc})") from None
    return data if isinstance(data, dict) else None


def costs_for(model: dict[str, Any] | None, config: Path | None, overrides: Path | None) -> tuple[Costs, str]:
    """The model's costs (or the defaults), then --config's costs section, then --costs; and where they came from."""
    from training.config import check_config, read_config

    settings = dict((model or {}).get("costs", {}))
    source = f"model {model.get('version')}" if model and "costs" in model else "defaults (no model given or noted)"
    if config is not None:
        settings.update(read_config(config).get("costs", {}))
        source += f", overridden by --config {config}"
    if overrides is not None:
        try:
            given = json.loads(overrides.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"--costs {overrides}: cannot be read as JSON ({exc})") from None
        check_config({"costs": given}, f"--costs {overrides}")
        settings.update(given)
        source += f", overridden by --costs {overrides}"
    return Costs(**settings), source


def _words(model: dict[str, Any] | None) -> str | None:
    """The model's policy in words, as recorded at training (None without a model)."""
    if not model or "policy" not in model:
        return None
    from models.describe import policy_words

    return f"{policy_words(model)} (expected at training)"


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot create the folder: {exc.strerror}") from None
