"""`risk simulate`: write a simulated social-commerce data set in the contract layout."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.progress import Progress
from risk.datasets import write_orders, write_outcomes
from risk.errors import InvalidInput


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="write a simulated data set (orders + outcomes)",
        description="Simulate buyers, sellers, posts and their orders, with fraud and regret, "
        "and write DIR/orders.parquet and DIR/outcomes.parquet.",
    )
    parser.add_argument("--orders", type=int, default=200_000, help="number of orders (default 200000)")
    parser.add_argument("--days", type=int, default=90, help="days covered (default 90)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, default=Path("data/simulated"), help="output folder")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--world", choices=("varied", "fixed"), default="varied",
                        help="varied (default): fraud mix and rates, reporting delays, friendly fraud, noise and "
                        "drift drawn from the seed; fixed: the simulator's one documented world")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    simulate_to(args.out, args.orders, args.days, args.seed, args.format, Progress(args.quiet), args.world)


def simulate_to(out: Path, n_orders: int, days: int, seed: int, fmt: str, progress: Progress,
                world: str = "fixed") -> None:
    """Simulate and write both tables; shared by `simulate` and `demo`."""
    if n_orders < 1:
        raise InvalidInput(f"--orders must be at least 1, got {n_orders}")
    if days < 1:
        raise InvalidInput(f"--days must be at least 1, got {days}")
    from training.simulator import simulate  # heavier than what other commands need

    orders, outcomes = simulate(n_orders, days, seed, progress=progress, world=world)
    progress(f"writing {len(orders):,} orders and {len(outcomes):,} outcomes to {out}/")
    write_orders(orders, out / f"orders.{fmt}")
    write_outcomes(outcomes, out / f"outcomes.{fmt}")
    progress("done")
