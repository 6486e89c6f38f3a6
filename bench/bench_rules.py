"""Cost of analyst rules: 100 active rules per scoring call, and a backtest over 1,000,000 orders.

    .venv/bin/python bench/bench_rules.py [--orders 20000] [--backtest-orders 1000000]

Online: `RuleSet.evaluate` of every order of a simulated set (RuleInputs built before
timing, as the engine builds them once per request), with 100 live rules of 20 shapes
(comparisons, arithmetic, strings, `in`, lists, missing values, scores), against an
empty rule set. Backtest: one rule over a table of 1,000,000 orders whose features are
already computed: a 200,000-order simulated set with features, its rows repeated to
1,000,000 with times shifted by the set's span per copy (so lists' point in time is
exercised over the whole range).
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import pandas as pd

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from risk.contract import unflatten
from risk.policy import DECISION_NAMES, Costs, Policy
from risk.rules import ListItem, ListSnapshot, NamedList, RuleInputs, RuleSet, RuleSpec
from risk.rules.backtest import backtest
from risk.rules.table import build_table

from benchkit import print_table, simulated_world

SHAPES = [
    "review if amount > {k}000 and card_country != ip_country",
    "decline if order_count_by_card_1h >= {k} or distinct_cards_by_device_24h > {k}",
    "review if buyer_account_age_hours < {k} and post_category in ('gift_card', 'electronics')",
    "approve if card_fingerprint in @trusted_cards and amount < {k}0000",
    "review if fraud_score > 0.{k} or regret_score > 0.{k}",
    "review if email_domain contains 'mail{k}'",
    "review if wallet is missing and funding == 'prepaid' and amount > {k}00",
    "review if not (shipping_country == buyer_country) and amount > {k}0000",
    "decline if ip in @bad_ips and amount > {k}",
    "review if amount / post_listed_price > 1.{k}",
    "review if created_at - post_viewed_at < {k}",
    "review if card_country in ('NG', 'GH', 'RU') or buyer_country not in ('US', 'GB') and amount > {k}",
    "review if model_decision == 'review' and amount < {k}000",
    "review if prepaid_card and ip_country_differs_card and amount > {k}00",
    "review if amount_to_buyer_mean_30d > {k} and seconds_since_first_card < 3600",
    "decline if card_bin in @bad_bins and quantity >= {k}",
    "review if channel == 'app' and hour_of_day_utc in (0, 1, 2, {k})",
    "review if seller_account_age_hours < 24 * {k} and amount > 5000",
    "review if not buyer_email_verified and buyer_followers_log < {k}",
    "review if fraud_rate_by_card_30d > 0.{k}",
]


def hundred_rules() -> list[RuleSpec]:
    return [RuleSpec(f"r{s}_{k}", shape.format(k=k)) for s, shape in enumerate(SHAPES) for k in range(1, 6)]


def lists_for(orders: pd.DataFrame, at_us: np.ndarray) -> ListSnapshot:
    start, end = int(at_us.min()), int(at_us.max())
    middle = (start + end) // 2
    cards = orders["payment_card_fingerprint"].drop_duplicates().iloc[::50]
    ips = orders["session_ip"].dropna().drop_duplicates().iloc[::40]
    return ListSnapshot([
        NamedList("trusted_cards", "card_fingerprint",
                  tuple(ListItem(c, added_at_us=middle if i % 2 else start) for i, c in enumerate(cards))),
        NamedList("bad_ips", "ip", tuple(ListItem(ip, added_at_us=middle) for ip in ips)
                  + (ListItem("10.0.0.0/8"), ListItem("172.16.0.0/12"))),
        NamedList("bad_bins", "card_bin", tuple(ListItem(b[:4]) for b in orders["payment_card_bin"].dropna()[:20])),
    ])


def scores_for(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    fraud, regret = rng.beta(0.5, 4, n), rng.beta(0.5, 6, n)
    codes = Policy(decline_fraud=0.6, review_fraud=0.3, review_regret=0.4).decide_many(fraud, regret)
    return pd.DataFrame({"fraud_score": fraud, "regret_score": regret, "model_decision": DECISION_NAMES[codes]})


def time_online(rules: RuleSet, inputs: list[RuleInputs]) -> np.ndarray:
    for item in inputs[:500]:  # warm up
        rules.evaluate(item)
    gc.collect()
    gc.disable()
    spent = np.empty(len(inputs))
    clock = time.perf_counter_ns
    for n, item in enumerate(inputs):
        started = clock()
        rules.evaluate(item)
        spent[n] = clock() - started
    gc.enable()
    return spent / 1000.0


def online(n_orders: int) -> list[dict[str, str]]:
    orders, outcomes = simulated_world(n_orders, 30, seed=3)
    features = compute_features(orders, outcomes)
    scores = scores_for(len(orders), 4)
    _, at_us = build_table(orders, None)
    lists = lists_for(orders, at_us)
    vectors = features[list(FEATURE_NAMES)].to_numpy(dtype="float64")
    inputs = [RuleInputs(unflatten(row), vectors[n].tolist(), float(scores.fraud_score[n]),
                         float(scores.regret_score[n]), scores.model_decision[n], int(at_us[n]))
              for n, row in enumerate(orders.to_dict("records"))]
    full = RuleSet.compile(hundred_rules(), lists)
    empty = RuleSet.compile([], lists)
    rows = []
    base = time_online(empty, inputs)
    cost = time_online(full, inputs)
    hits = sum(bool(full.evaluate(i).matches) for i in inputs)
    for name, spent in (("0 rules", base), ("100 rules", cost)):
        rows.append({"rule set": name, "orders": f"{len(inputs):,}", "p50 us": f"{np.percentile(spent, 50):.1f}",
                     "p99 us": f"{np.percentile(spent, 99):.1f}", "mean us": f"{spent.mean():.1f}"})
    rows.append({"rule set": "ratio", "orders": f"{hits:,} with a match", "p50 us":
                 f"{np.percentile(cost, 50) / max(np.percentile(base, 50), 1e-9):.0f}x",
                 "p99 us": "", "mean us": ""})
    return rows


def backtest_million(n_orders: int, base_orders: int) -> list[dict[str, str]]:
    started = time.perf_counter()
    orders, outcomes = simulated_world(base_orders, 90, seed=5)
    features = compute_features(orders, outcomes)
    table, at_us = build_table(orders, features, scores_for(len(orders), 6))
    copies = -(-n_orders // len(orders))
    span = int(at_us.max() - at_us.min()) + 1
    big_at = np.concatenate([at_us + k * span for k in range(copies)])[:n_orders]
    lists = lists_for(orders, big_at)
    live_specs = hundred_rules()[:10]
    wave = RuleSpec("wave", "decline if card_country != ip_country and amount > 20000 "
                            "and card_fingerprint not in @trusted_cards")
    candidate, live = RuleSet.compile([*live_specs, wave], lists), RuleSet.compile(live_specs, lists)
    # only the columns the rules read are repeated (all 204 features x 1M would be 1.6 GB of float64)
    wanted = {a for rules in (candidate, live) for e in rules.entries for a in e.rule.attributes}
    wanted |= {"amount", "currency", "model_decision"}
    big = {name: np.tile(table[name], copies)[:n_orders] for name in wanted}
    rng = np.random.default_rng(7)
    outcome = rng.choice(np.array(["genuine", "fraud", "regret", "unknown"], dtype=object), n_orders,
                         p=[0.9, 0.01, 0.04, 0.05])
    prepared = time.perf_counter() - started
    rows = []
    for name, tried, rule_ids in (("one rule alone vs no rules", RuleSet.compile([wave], lists),
                                   ["wave"]), ("one rule added to 10 live rules", candidate, ["wave"])):
        baseline = live if tried is candidate else RuleSet.EMPTY
        started = time.perf_counter()
        report = backtest(big, big_at, tried, baseline, outcome, big["amount"], big["currency"], Costs(),
                          rule_ids=rule_ids)
        spent = time.perf_counter() - started
        rows.append({"backtest": name, "orders": f"{n_orders:,}", "seconds": f"{spent:.2f}",
                     "hits": f"{report.hits:,}", "changed": f"{report.overrides['changed']:,}"})
    print(f"table: {base_orders:,} simulated orders with features x {copies}, times shifted by the span per copy "
          f"({prepared:.0f} s to prepare, not timed)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--backtest-orders", type=int, default=1_000_000)
    parser.add_argument("--backtest-base", type=int, default=200_000)
    parser.add_argument("--skip-backtest", action="store_true")
    args = parser.parse_args()
    print_table(online(args.orders))
    if not args.skip_backtest:
        print()
        print_table(backtest_million(args.backtest_orders, args.backtest_base))


if __name__ == "__main__":
    main()
