"""`risk state load|rebuild`: fill the scoring service's feature state before going live, or again.

Where the state is comes from the same settings `risk serve` reads (flags or RISK_*
variables): Redis at --redis-url, else the embedded state's snapshot in --data-dir,
which the service restores at start-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.progress import Progress

if TYPE_CHECKING:
    from features.loading import History, Loaded
    from features.state import FeatureState
    from serve.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "state",
        help="fill the service's feature state from a data set or the decision log",
        description="Fill the feature state the scoring service reads (Redis at --redis-url, else the embedded "
        "state's snapshot in --data-dir) with exactly what scoring the orders one by one would have written. "
        "Orders the state holds already are skipped, so either command may be run again.",
    )
    commands = parser.add_subparsers(dest="state_command", metavar="COMMAND", required=True)
    load = commands.add_parser("load", help="from a data set (orders and outcomes), before going live",
                               description="Fill the state from a data set, e.g. the history a model was trained on.")
    load.add_argument("--orders", type=Path, required=True, help="orders table (.parquet or .csv)")
    load.add_argument("--outcomes", type=Path, help="outcomes table (label-aware history)")
    rebuild = commands.add_parser(
        "rebuild", help="from the decision log (after Redis lost its data, or for a new state layout)",
        description="Refill the state from every order and outcome in the decision log (--database-url, else the "
        "SQLite log in --data-dir). The embedded state is rebuilt from scratch into --data-dir/state.pkl.")
    rebuild.add_argument("--database-url", help="decision log, e.g. postgresql://user@host/db (default SQLite)")
    for command in (load, rebuild):
        command.add_argument("--redis-url", help="the shared feature state, e.g. redis://127.0.0.1:6379/0")
        command.add_argument("--data-dir", type=Path, help="where the embedded state's snapshot (and SQLite log) live")
        command.add_argument("--quiet", action="store_true", help="no progress output")
        command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    from serve.config import load_settings

    settings = load_settings(redis_url=args.redis_url, data_dir=args.data_dir,
                             database_url=getattr(args, "database_url", None))
    progress = Progress(args.quiet)
    history = read_data_set(args, progress) if args.state_command == "load" else read_log(settings, progress)
    fresh = args.state_command == "rebuild"
    state = open_target(settings, fresh=fresh, progress=progress)
    progress(f"writing {len(history.order_ids):,} orders and {len(history.outcome_ids):,} outcomes to the state")
    loaded = fill(history, state, progress)
    expired = state.expire()  # what the history holds past retention: the service would forget it anyway
    if expired:
        progress(f"forgot {expired:,} order records and logs past retention")
    state.mark_complete()
    if state.persists_by_snapshot:
        progress(f"writing the snapshot {settings.snapshot_path}")
        state.snapshot(settings.snapshot_path)
    state.close()
    progress(f"done: {loaded.orders:,} orders and {loaded.outcomes:,} outcomes written, "
             f"{loaded.skipped:,} already held")


def read_data_set(args: argparse.Namespace, progress: Progress) -> History:
    from features.loading import History
    from risk.datasets import read_orders, read_outcomes

    progress(f"reading {args.orders}")
    orders = read_orders(args.orders)
    outcomes = read_outcomes(args.outcomes) if args.outcomes else None
    return History.from_frames(orders, outcomes)


def read_log(settings: Settings, progress: Progress) -> History:
    from features.loading import History
    from risk.contract import Order
    from serve.decision_log import open_decision_log

    with open_decision_log(settings.database_url, settings.sqlite_path,
                           table_prefix=settings.database_table_prefix) as log:
        progress("reading the decision log")
        orders, outcomes = log.read_since(None)
    return History.from_log((Order.model_validate(order) for order in orders), outcomes)


def open_target(settings: Settings, *, fresh: bool, progress: Progress) -> FeatureState:
    """Redis (generous timeouts: batches are large), else the embedded state (its snapshot, unless `fresh`)."""
    from features.state import EmbeddedState

    if settings.redis_url:
        from features.state.redis_state import RedisState

        return RedisState(url=settings.redis_url, prefix=settings.redis_prefix, timeout_s=60.0)
    if not fresh and settings.snapshot_path.exists():
        progress(f"adding to the snapshot {settings.snapshot_path}")
        return EmbeddedState.load(settings.snapshot_path)
    return EmbeddedState()


def fill(history: History, state: FeatureState, progress: Progress) -> Loaded:
    """The state's writes; nothing else uses the state meanwhile, so an empty embedded state is built in bulk."""
    from features.loading import load_history

    return load_history(history, state, on_progress=lambda done, total: progress(f"{done:,} of {total:,} events"),
                        exclusive=True)
