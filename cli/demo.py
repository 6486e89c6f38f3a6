"""`risk demo`: the main job on embedded defaults, for a first look at the engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.progress import Progress
from cli.simulate import simulate_to


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate a data set with embedded defaults (the README quick start)",
    )
    parser.add_argument("--out", type=Path, default=Path("demo"), help="working folder (default ./demo)")
    parser.add_argument("--orders", type=int, default=200_000)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    progress = Progress()
    data = args.out / "data"
    simulate_to(data, args.orders, days=90, seed=7, fmt="parquet", progress=progress)
    print(f"simulated data set: {data}/orders.parquet, {data}/outcomes.parquet")
