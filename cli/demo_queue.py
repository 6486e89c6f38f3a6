"""What `risk demo` prepares for the web app: a demo analyst account and orders waiting in review.

The service starts from a fresh feature state, so the demo first replays the 30 days of
simulated history before the last day into it (orders, and the outcomes reported by
then), then scores the last day's orders through the service itself: each is logged, and
those decided `review` open reviews, exactly as the checkout's would.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from cli.progress import Progress

if TYPE_CHECKING:
    from serve.service import ScoringService

DEMO_ANALYST = "demo"
HISTORY_DAYS = 30  # the longest velocity window; label windows see the last 30 of their 90 days


def demo_analyst(service: ScoringService) -> tuple[str, str]:
    """The demo analyst's name and a password generated for this run (the demo's log is fresh each run)."""
    from serve.ui.users import UserStore

    password = secrets.token_urlsafe(12)
    UserStore(service.engine.decisions).add(DEMO_ANALYST, "analyst", password)
    return DEMO_ANALYST, password


def fill_review_queue(service: ScoringService, data: Path, progress: Progress) -> tuple[int, int]:
    """Replay the history before the last simulated day, then score that day's orders; (scored, in review)."""
    from features.replay import _clean
    from risk.contract import unflatten
    from risk.datasets import read_orders, read_outcomes

    orders = read_orders(data / "orders.parquet").sort_values("created_at", kind="stable")
    outcomes = read_outcomes(data / "outcomes.parquet")
    last_day = orders["created_at"].max().floor("D")
    start = last_day - pd.Timedelta(days=HISTORY_DAYS)
    history = orders[(orders["created_at"] >= start) & (orders["created_at"] < last_day)]
    known = outcomes[(outcomes["reported_at"] < last_day) & outcomes["order_id"].isin(history["order_id"])]
    progress(f"replaying {len(history):,} orders and {len(known):,} outcomes of the {HISTORY_DAYS} days before "
             f"{last_day:%Y-%m-%d} into the feature state")
    _feed(service, history, known)
    today = orders[orders["created_at"] >= last_day]
    progress(f"scoring the {len(today):,} orders of {last_day:%Y-%m-%d} through the service")
    in_review = 0
    for record in today.to_dict("records"):
        in_review += service.score(unflatten(_clean(record))).decision.decision == "review"
    return len(today), in_review


def _feed(service: ScoringService, orders: pd.DataFrame, outcomes: pd.DataFrame) -> None:
    """Orders and outcomes into the feature state in time order, as the service would have seen them live."""
    from features.clock import to_us
    from features.replay import _clean, events_in_time_order
    from risk.contract import unflatten

    online, state = service.engine.online, service.engine.state
    orders = orders.reset_index(drop=True)
    records = orders.to_dict("records")
    ids, kinds = outcomes["order_id"].tolist(), outcomes["kind"].tolist()
    reported = to_us(outcomes["reported_at"]).tolist() if len(outcomes) else []
    for kind, row in events_in_time_order(orders, outcomes):
        if kind == "order":
            state.apply(online.writes_for(unflatten(_clean(records[row]))))
        else:
            writes = online.outcome_writes(ids[row], kinds[row], reported[row])
            if writes is not None:
                state.apply(writes)
