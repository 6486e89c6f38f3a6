"""`risk export`: the service's decision log as training data (orders + outcomes, contract layout)."""

from __future__ import annotations

import argparse
from pathlib import Path

from risk.export import EXPORT_FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export the decision log as a training data set",
        description="Write OUT/orders.<fmt> and OUT/outcomes.<fmt> from the scoring service's decision log, "
        "ready for `risk train`.",
    )
    parser.add_argument("--database-url", help="PostgreSQL URL of the log (default: the SQLite log in --data-dir)")
    parser.add_argument("--data-dir", type=Path, default=Path("risk-data"), help="the service's --data-dir")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="parquet")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from risk.errors import NotFound
    from risk.export import export_dataset
    from serve.decision_log import open_decision_log

    default = args.data_dir / "decisions.sqlite"
    if args.database_url is None and not default.exists():
        raise NotFound(f"no decision log at {default}: give the service's --data-dir or --database-url")
    with open_decision_log(args.database_url, default) as log:
        orders, outcomes = log.read_since(None)
    counts = export_dataset(args.out, orders, outcomes, args.format)
    print(f"exported {counts[0]:,} orders and {counts[1]:,} outcomes to {args.out}/")
