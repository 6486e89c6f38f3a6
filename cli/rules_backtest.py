"""`risk rules backtest`: replay a rule (or a candidate rule set) over a past period, point in time."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cli.progress import Progress
from cli.rules_db import database_options, open_store
from cli.times import parse_time
from risk.errors import DataError, InvalidInput
from risk.files import write_text_atomically


def register(actions: argparse._SubParsersAction) -> None:
    parser = actions.add_parser(
        "backtest", parents=[database_options()], help="replay a rule or a rule set over a period",
        description="Replays candidate rules over the orders created in [--from, --to): features as they were "
        "(computed from all history before each order, or --features), the model's scores, lists as they were at "
        "each order's moment (from the decision database's history), against the live rule set.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--rule", help='one rule, tried on top of the live ones, e.g. "decline if amount > 50000"')
    which.add_argument("--rules", type=Path, help="a file of rules, one `rule_id: text` per line: the whole set")
    parser.add_argument("--orders", type=Path, required=True)
    parser.add_argument("--outcomes", type=Path, help="outcomes (label-aware features and eventual outcomes)")
    parser.add_argument("--model", type=Path, required=True, help="model directory (scores and costs)")
    parser.add_argument("--from", dest="start", required=True, help="RFC 3339 time")
    parser.add_argument("--to", dest="end", help="RFC 3339 time (default: the end of the data)")
    parser.add_argument("--features", type=Path, help="precomputed features (order_id + every feature)")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    parser.add_argument("--quiet", action="store_true")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from models.bundle import load_bundle
    from risk.datasets import read_orders, read_outcomes
    from serve.rules_store.backtests import candidate_specs, parse_rules_file, run_backtest
    from training.rules_backtest import backtest_data

    start = parse_time(args.start, "--from")
    end = parse_time(args.end, "--to") if args.end else None
    rules = parse_rules_file(_read(args.rules), str(args.rules)) if args.rules else None
    progress = Progress(args.quiet)
    bundle = load_bundle(args.model)
    progress(f"model {bundle.version}; reading {args.orders}")
    orders = read_orders(args.orders)
    outcomes = read_outcomes(args.outcomes) if args.outcomes else None
    features = _read_features(args.features) if args.features else None
    data = backtest_data(bundle, orders, outcomes, start, end, progress, features)
    with open_store(args) as store:
        progress("evaluating the rules")
        report = run_backtest(store, data, *candidate_specs(store, args.rule, rules))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(args.out, json.dumps(report, indent=2, default=str))
        progress(f"report written to {args.out}")
    print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def _read_features(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"--features {path}: cannot read ({exc})") from None


def format_report(report: dict[str, Any]) -> str:
    """The report as a few small tables (every figure is also in the JSON)."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    def money(amounts: dict[str, float]) -> str:
        return ", ".join(f"{amount:,.0f} {currency}" for currency, amount in amounts.items()) or "-"

    hits = ", ".join(f"{rule} {n:,}" for rule, n in report["hits_by_rule"].items())
    overrides = report["overrides"]
    lines = [f"orders replayed: {report['orders']:,} ({report['priced_orders']:,} with a known outcome)",
             f"hits: {report['hits']:,} ({hits}); precision {pct(report['precision'])}, "
             f"fraud recall {pct(report['fraud_recall'])}", "",
             f"{'outcome':<10} {'hits':>8}  amount (minor units)"]
    lines += [f"{kind:<10} {row['count']:>8,}  {money(row['amount'])}" for kind, row in report["by_outcome"].items()]
    pairs = ", ".join(f"{pair} {n:,}" for pair, n in overrides["pairs"].items()) or "none"
    lines += ["", f"overrides vs the live rules: {overrides['changed']:,} changed (stricter {overrides['stricter']:,}, "
              f"milder {overrides['milder']:,}): {pairs}"]
    for currency, cost in report["cost"].items():
        lines.append(f"expected cost {currency}: live {cost['live']:,.0f}, candidate {cost['candidate']:,.0f}, "
                     f"change {cost['change']:+,.0f}")
    lines += ["", f"{'day':<12} {'orders':>8} {'hits':>8}"]
    lines += [f"{row['day']:<12} {row['orders']:>8,} {row['hits']:>8,}" for row in report["hits_by_day"]]
    return "\n".join(lines)
