"""Online and batch evaluation agree on every order of a replayed simulated data set, for every rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from risk.contract import unflatten
from risk.policy import DECISION_NAMES, Policy
from risk.rules import ListItem, ListSnapshot, NamedList, RuleInputs, RuleSet, RuleSpec
from risk.rules.table import build_table
from training.simulator.simulate import simulate

RULES = [
    "decline if card_country != ip_country and amount > 20000",
    'review if buyer_account_age_hours < 1 and post_category in ("gift_card", "electronics")',
    "approve if card_fingerprint in @trusted_cards",
    "decline if ip in @bad_ips",
    "decline if card_bin in @bad_bins and amount > 1000",
    "review if email_domain in @bad_domains or shipping_country in @bad_countries",
    "review if not (device_id in @bad_devices)",
    "review if wallet is missing and funding == 'prepaid'",
    "review if wallet != 'apple_pay'",
    "review if not (wallet == 'apple_pay')",
    "review if post_viewed_at is not missing and created_at - post_viewed_at < 30",
    "review if amount / post_listed_price > 1.5",
    "review if (amount - listed_price * quantity) / 100 >= 5 or quantity >= 3",
    "review if email_domain contains 'mail'",
    "review if not (email_domain contains 'mail')",
    "decline if order_count_by_card_1h >= 2 or distinct_cards_by_device_24h > 2",
    "review if fraud_score > 0.5 or regret_score > 0.3",
    "review if model_decision == 'review' and amount < 3000",
    "review if prepaid_card and ip_country_differs_card",
    "review if not buyer_email_verified",
    "review if buyer_created_at > '2026-01-15T00:00:00Z'",
    "review if seller_account_age_hours < 24 * 30",
    "review if channel == 'app' and hour_of_day_utc in (0, 1, 2, 3, 4)",
    "review if shipping_matches_billing == false",
    "review if not (shipping_country == buyer_country)",
    "review if card_country in ('NG', 'GH', 'RU') or buyer_country not in ('US', 'GB')",
    "review if -amount_z_to_buyer_30d < -1",
    "review if amount_to_buyer_mean_30d * 2 > 3 and not (seconds_since_first_card > 3600)",
    "review if ip not in @bad_ips and ip is not missing",
    "decline if ip_country == card_country and card_fingerprint not in @trusted_cards and amount > 30000",
    "review if views is missing or likes / views > 0.05",
    "review if not (fraud_rate_by_card_30d > 0 or seconds_since_first_device is missing)",
]


@pytest.fixture(scope="module")
def replay():
    orders, outcomes = simulate(4000, 30, seed=11)
    features = compute_features(orders, outcomes)
    rng = np.random.default_rng(5)
    fraud, regret = rng.beta(0.5, 4, len(orders)), rng.beta(0.5, 6, len(orders))
    codes = Policy(decline_fraud=0.6, review_fraud=0.3, review_regret=0.4).decide_many(fraud, regret)
    scores = pd.DataFrame({"fraud_score": fraud, "regret_score": regret, "model_decision": DECISION_NAMES[codes]})
    table, at_us = build_table(orders, features, scores)
    return orders, features, scores, table, at_us, _lists(orders, at_us, rng)


def _lists(orders: pd.DataFrame, at_us: np.ndarray, rng: np.random.Generator) -> ListSnapshot:
    """Lists drawn from the data, half their items added mid-period, some expiring or removed."""
    start, end = int(at_us.min()), int(at_us.max())
    middle = (start + end) // 2

    def items(values, **extra) -> tuple[ListItem, ...]:
        values = pd.unique(pd.Series(values).dropna())
        chosen = rng.choice(values, size=min(len(values), 60), replace=False)
        return tuple(ListItem(str(v), added_at_us=start if i % 2 else middle,
                              expires_at_us=end - (end - start) // 5 if i % 3 == 0 else None, **extra)
                     for i, v in enumerate(chosen))

    ips = orders["session_ip"].dropna()
    ranges = tuple(ListItem(".".join(ip.split(".")[:2]) + ".0.0/16", added_at_us=middle)
                   for ip in ips.iloc[:3] if "." in ip)
    bins = tuple(ListItem(b[:4]) for b in orders["payment_card_bin"].dropna().iloc[:5])
    devices = tuple(ListItem(it.value, added_at_us=it.added_at_us, removed_at_us=middle + 3600 * 10**6)
                    for it in items(orders["session_device_id"]))
    return ListSnapshot([
        NamedList("trusted_cards", "card_fingerprint", items(orders["payment_card_fingerprint"], reason="regular")),
        NamedList("bad_ips", "ip", items(ips) + ranges),
        NamedList("bad_bins", "card_bin", bins),
        NamedList("bad_domains", "email_domain", tuple(ListItem(d.upper()) for d in ("GMAIL.com", "proton.me"))),
        NamedList("bad_countries", "country",
                  (ListItem("ng", added_at_us=middle), ListItem("gb", expires_at_us=middle))),
        NamedList("bad_devices", "device", devices),
    ])


def test_every_rule_agrees_online_and_batch_on_every_order(replay):
    orders, features, scores, table, at_us, lists = replay
    rules = RuleSet.compile([RuleSpec(f"r{i}", text) for i, text in enumerate(RULES)], lists)
    batch = rules.evaluate_batch(table, at_us)
    vectors = features[list(FEATURE_NAMES)].to_numpy(dtype="float64")
    online = {f"r{i}": np.zeros(len(orders), dtype=bool) for i in range(len(RULES))}
    decisions, deciders = [], []
    for n, row in enumerate(orders.to_dict("records")):
        inputs = RuleInputs(unflatten(row), vectors[n].tolist(), float(scores["fraud_score"].iloc[n]),
                            float(scores["regret_score"].iloc[n]), scores["model_decision"].iloc[n], int(at_us[n]))
        result = rules.evaluate(inputs)
        decisions.append(result.decision)
        deciders.append(result.decided_by)
        for match in result.matches:
            if not match.rule_id.startswith("@"):
                online[match.rule_id][n] = True
        for entry in rules.entries[:3]:  # a rule alone gives the same answer as within the set
            assert entry.rule.matches(inputs, lists) == online[entry.spec.rule_id][n]
    for i, text in enumerate(RULES):
        hits_online, hits_batch = online[f"r{i}"], batch.matches[f"r{i}"]
        differ = np.flatnonzero(hits_online != hits_batch)
        assert len(differ) == 0, f"{text!r}: online and batch differ on {len(differ)} orders, e.g. row {differ[:3]}"
        assert 0 < hits_online.sum() < len(orders), f"{text!r} matches {hits_online.sum()} orders: not a real check"
    assert decisions == batch.decision.tolist()
    assert deciders == batch.decided_by.tolist()


def test_lists_in_the_replay_match_only_from_when_their_items_were_added(replay):
    orders, _, _, table, at_us, lists = replay
    rules = RuleSet.compile([RuleSpec("c", "review if shipping_country in @bad_countries")], lists)
    hits = rules.evaluate_batch(table, at_us).matches["c"]
    middle = (int(at_us.min()) + int(at_us.max())) // 2
    country = table["shipping_country"]
    assert not hits[(at_us < middle) & (country == "NG")].any() and hits[(at_us >= middle) & (country == "NG")].all()
    assert hits[(at_us < middle) & (country == "GB")].all() and not hits[(at_us >= middle) & (country == "GB")].any()
