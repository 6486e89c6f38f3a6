"""The review queue's service calls on a large log: the queue's first page and an order's linked orders.

    PYTHONPATH=. .venv/bin/python bench/bench_reviews.py [--reviews 10000] [--linked 1000] [--repeat 50]
                                           [--database-url postgresql://...]

Builds a decision log (SQLite in a temporary folder, and PostgreSQL under a fresh table
prefix when --database-url is given; its tables are dropped afterwards) holding
`--reviews` open reviews over 200 sellers, 8 countries and 10 reason codes, plus one
order whose card (and, for a third of them, device) is shared by `--linked` other
orders. Times `ReviewService.queue` (first page of 50, sorted, with and without a
filter) and `ReviewService.linked` (limit 1000), the calls the JSON API and the web
app's pages make; the HTML rendering on top is the web app's to measure.
Targets (issue 12): queue under 200 ms, linked orders under 150 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from risk.contract import Decision, Order
from serve.decision_log import DecisionLog, PostgresDecisionLog, SQLiteDecisionLog
from serve.decision_log.schema import entity_values
from serve.reviews import QueueFilter, ReviewService
from serve.reviews.opening import ReviewOpener

from benchkit import print_table

COUNTRIES = ["US", "FR", "DE", "GB", "NG", "BR", "IN", "JP"]
CODES = [f"FRAUD:FEATURE_{i}" for i in range(10)]


class _LogOnly:
    """What ReviewService reads of an engine, for a benchmark that never scores (no model needed)."""

    def __init__(self, decisions: DecisionLog) -> None:
        self.decisions = decisions
        self.review_opener = ReviewOpener()

    def feed_outcomes(self, outcomes: list[Any]) -> None:
        pass


def _order(i: int, rng: random.Random, start: datetime, **entities: str) -> dict[str, Any]:
    return {
        "order_id": f"ord_{i:07d}", "created_at": (start + timedelta(seconds=i)).isoformat(),
        "amount": rng.randint(100, 200_000), "currency": "EUR",
        "buyer": {"account_id": entities.get("buyer", f"buyer_{i}"), "country": rng.choice(COUNTRIES)},
        "seller": {"account_id": f"seller_{rng.randrange(200)}"},
        "session": {"device_id": entities.get("device", f"dev_{i}"),
                    "ip": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"},
        "payment": {"card_fingerprint": entities.get("card", f"card_{i}")},
        "shipping": {"address_hash": f"addr_{i}"},
    }


def _decision(order_id: str, rng: random.Random) -> dict[str, Any]:
    codes = rng.sample(CODES, 3)
    return {"order_id": order_id, "decision": "review", "fraud_score": rng.random(), "regret_score": rng.random(),
            "reasons": [{"code": code, "message": f"reason {code}"} for code in codes], "rules": [],
            "model_version": "bench"}


def build(log: DecisionLog, n_reviews: int, n_linked: int, progress: Callable[[str], None]) -> str:
    """Fill `log`; the order_id whose linked orders are measured."""
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    opener = ReviewOpener(sla=timedelta(minutes=240))
    now = datetime.now(UTC)
    shared = {"card": "card_center"}
    for i in range(n_reviews + n_linked + 1):
        linked = i >= n_reviews
        entities = ({**shared, "device": "dev_center"} if i % 3 == 0 else shared) if linked else {}
        data = _order(i, rng, start, **entities)
        decision = _decision(data["order_id"], rng)
        review, _ = opener.open(Order.model_validate(data), Decision.model_validate(decision),
                                now - timedelta(seconds=rng.randrange(20_000)))
        log.record(data["order_id"], "h", datetime.fromisoformat(data["created_at"]), data, None, decision, "bench",
                   entities=entity_values(data), review=review if not linked else None)
        if i % 2000 == 0:
            progress(f"  {i:,} orders logged")
    return f"ord_{n_reviews + n_linked:07d}"


def timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    call()  # warm: statement caches, pages in memory
    spent, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent, result


def measure(name: str, log: DecisionLog, center: str, repeat: int) -> list[dict[str, str]]:
    reviews = ReviewService(_LogOnly(log))  # type: ignore[arg-type]
    cases: list[tuple[str, Callable[[], Any], float]] = [
        ("queue: due, no filter", lambda: reviews.queue(sort="due"), 200),
        ("queue: due, country", lambda: reviews.queue(sort="due", filters=QueueFilter(country="NG")), 200),
        ("queue: due, seller", lambda: reviews.queue(sort="due", filters=QueueFilter(seller="seller_7")), 200),
        ("queue: due, reason", lambda: reviews.queue(sort="due", filters=QueueFilter(reason=CODES[3])), 200),
        ("queue: amount, min_amount", lambda: reviews.queue(sort="amount", filters=QueueFilter(min_amount=150_000)),
         200),
        ("queue: score, page 20", lambda: reviews.queue(sort="score", offset=950), 200),
        ("linked orders (limit 1000)", lambda: reviews.linked(center, limit=1000), 150),
    ]
    rows = []
    for label, call, target in cases:
        spent, result = timed(call, repeat)
        size = f"{len(result.items)}/{result.total}" if hasattr(result, "total") else str(len(result.orders))
        rows.append({"backend": name, "call": label, "rows": size,
                     "median ms": f"{statistics.median(spent):.1f}",
                     "p95 ms": f"{sorted(spent)[int(len(spent) * 0.95) - 1]:.1f}", "max ms": f"{max(spent):.1f}",
                     "target ms": f"{target}", "ok": "yes" if sorted(spent)[int(len(spent) * 0.95) - 1] < target
                     else "NO"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--linked", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", help="also measure PostgreSQL at this URL (tables dropped afterwards)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        log = SQLiteDecisionLog(Path(folder) / "decisions.sqlite")
        print(f"SQLite: logging {args.reviews:,} reviews and {args.linked:,} linked orders...", flush=True)
        center = build(log, args.reviews, args.linked, print)
        rows += measure("sqlite", log, center, args.repeat)
        log.close()
    if args.database_url:
        prefix = f"bench_{uuid.uuid4().hex[:10]}_"
        pg = PostgresDecisionLog(args.database_url, table_prefix=prefix)
        try:
            print(f"PostgreSQL: logging {args.reviews:,} reviews and {args.linked:,} linked orders...", flush=True)
            center = build(pg, args.reviews, args.linked, print)
            pg.read("analyze", lambda c: c.execute("ANALYZE"))
            rows += measure("postgresql", pg, center, args.repeat)
        finally:
            pg.drop_tables()
            pg.close()
    print_table(rows)


if __name__ == "__main__":
    main()
