"""End-to-end scoring cost of analyst rules: ScoringEngine.score with no rules and with N active rules.

Usage: python bench/bench_rules_scoring.py [--orders 40000] [--timed 4000] [--rules 100]

The same engine scores the timed orders alternately without rules and with N rules
(comparisons on order fields, features and scores, `in (...)`, and list look-ups in
card, IP-range and device lists of 1,000 items each), so both sides see the same
machine load and order mix. The rules come from a rules store in the bench's SQLite
file, compiled once (`serve.rules_store.live.build_active`), as a service runs them;
most do not match, as in production. Reported: p50/p99 of the whole score call and the
difference (the rules' cost per call, including building RuleInputs and applying the
result to the decision).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from bench_scoring import percentiles

from features.replay import _clean
from features.state import EmbeddedState
from models.bundle import load_bundle
from risk.contract import unflatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.rules_store.database import SQLiteDatabase
from serve.rules_store.live import NO_RULES, build_active
from serve.rules_store.records import NewItem
from serve.rules_store.store import RulesStore
from training.simulator import simulate
from training.train import TrainConfig, train

TEMPLATES = (
    "review if amount > {big} and card_country != ip_country",
    "decline if payment_card_fingerprint in @cards",
    "review if post_category in (\"gift_card\", \"digital\") and buyer_account_age_days < {small}",
    "decline if fraud_score > 0.9{digit} and regret_score < 0.5",
    "review if session_ip in @ips and amount > {mid}",
    "decline if session_device_id in @devices and order_count_by_card_1h > {small}",
    "review if buyer_email_domain is missing and amount > {mid}",
    "approve if seller_verified and amount < {tiny} and fraud_score < 0.0{digit}",
)


def add_rules(store: RulesStore, count: int, seed: int = 5) -> None:
    """`count` rules from the templates with varied constants, and three lists of 1,000 items."""
    rng = random.Random(seed)
    forever = datetime(2100, 1, 1, tzinfo=UTC)
    for name, kind in (("cards", "card_fingerprint"), ("ips", "ip"), ("devices", "device")):
        store.create_list(name, kind, author="bench")
        values = ([f"10.{rng.randrange(256)}.{rng.randrange(256)}.0/24" for _ in range(1000)] if kind == "ip"
                  else [f"bench_{name}_{i}" for i in range(1000)])
        store.add_items(name, [NewItem(v, "bench", forever) for v in dict.fromkeys(values)], author="bench")
    for i in range(count):
        text = TEMPLATES[i % len(TEMPLATES)].format(big=rng.randrange(50_000, 500_000), small=rng.randrange(1, 5),
                                                    mid=rng.randrange(5_000, 50_000), tiny=rng.randrange(100, 1_000),
                                                    digit=rng.randrange(10))
        store.create_rule(f"r{i:03d}", text, author="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40_000)
    parser.add_argument("--timed", type=int, default=4_000)
    parser.add_argument("--rules", type=int, default=100)
    args = parser.parse_args()
    orders, outcomes = simulate(args.orders, 60, seed=21)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    work = Path(tempfile.mkdtemp(prefix="bench-rules-"))
    config = TrainConfig(as_of=orders["created_at"].iloc[int(len(orders) * 0.8)], maturity=timedelta(days=15))
    train(orders, outcomes, config, lambda m: None).bundle.save(work / "model")
    engine = ScoringEngine(load_bundle(work / "model"), EmbeddedState(), SQLiteDecisionLog(work / "decisions.sqlite"))
    store = RulesStore(SQLiteDatabase(work / "decisions.sqlite"), clock=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    add_rules(store, args.rules)
    with_rules = build_active(store)
    records = [unflatten(_clean(r)) for r in orders.to_dict("records")]
    warm, timed = records[: -args.timed], records[-args.timed:]
    for order in warm:
        engine.score(order)
    spent: dict[bool, list[float]] = {False: [], True: []}
    matched = 0
    for n, order in enumerate(timed):
        ruled = n % 2 == 1
        engine.use_rules(with_rules if ruled else NO_RULES)
        started = time.perf_counter()
        decision = engine.score(order).decision
        spent[ruled].append(time.perf_counter() - started)
        matched += bool(decision.rules)
    (a50, a99), (b50, b99) = percentiles(spent[False]), percentiles(spent[True])
    print(f"\nScoringEngine.score, {len(timed):,} orders after {len(warm):,} of history, alternating; "
          f"{len(with_rules.rules)} rules, lists of 1,000 items; {matched / len(spent[True]):.1%} of ruled orders "
          "matched a rule")
    print(f"| {'rules':<10} | {'p50 us':>8} | {'p99 us':>8} |")
    print(f"| {'none':<10} | {a50:8.0f} | {a99:8.0f} |")
    print(f"| {len(with_rules.rules):<10} | {b50:8.0f} | {b99:8.0f} |")
    print(f"difference p50 {b50 - a50:.0f} us, mean {np.mean(spent[True]) * 1e6 - np.mean(spent[False]) * 1e6:.0f} us")


if __name__ == "__main__":
    main()
