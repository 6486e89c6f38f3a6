"""The kinds of signal beyond counts: sequences, shared infrastructure, a changed old account, reports on
neighbours (the shipping address, the post), the buyer's local hour; hand-built histories on both paths."""

from __future__ import annotations

import math

import pytest

from features.catalog import FEATURE_NAMES, FRAUD_DIRECTIONS
from features.history import DISTINCT_WINDOWS
from tests.features.test_point_in_time import both, order, outcome

WEEK_S = max(DISTINCT_WINDOWS.values()) / 1e6  # how far back a previous order is looked for
DAY_S = 86400


def test_order_pace_is_per_hour_since_the_strictly_earlier_previous_order_and_calm_after_a_quiet_week():
    orders = [order("o0", 0), order("o1", 50), order("same", 50), order("o3", 200),
              order("week", 200 + WEEK_S - 1), order("later", 200 + WEEK_S - 1 + WEEK_S),
              order("no_device", 300, session={"ip": "203.0.113.7"}, **{"payment.card_fingerprint": "other"}),
              order("quick", 200 + WEEK_S - 1 + WEEK_S + 0.25)]
    for features in both(orders):
        paces = features["order_pace_by_card"]
        assert paces["o0"] == 0  # nothing before
        assert paces["o1"] == 3600 / 50
        assert paces["same"] == 3600 / 50  # an order of the same instant is not "previous"
        assert paces["o3"] == 3600 / 150
        assert paces["week"] == pytest.approx(3600 / (WEEK_S - 1))
        assert paces["later"] == 0  # the last one is a week old: none lately
        assert paces["quick"] == 3600  # a quarter of a second counts as a second
        assert features.loc["no_device", "order_pace_by_device"] == 0  # no device: no pace
        assert features.loc["no_device", "order_pace_by_ip"] == 3600 / 100


def test_late_order_sees_only_the_previous_orders_before_its_own_time():
    orders = [order("a", 0), order("b", 300), order("late", 100)]
    for features in both(orders, arrival=orders):
        assert features.loc["late", "order_pace_by_buyer"] == 3600 / 100


def test_new_things_count_only_on_a_buyer_known_for_a_month():
    base = {"session.device_id": "d1", "session.ip": "198.51.100.1", "payment.card_fingerprint": "c1",
            "shipping.address_hash": "a1"}
    orders = [order("first", 0, **base),
              order("young", 10 * DAY_S, **{**base, "session.device_id": "d2", "session.ip": "198.51.100.2"}),
              order("same", 31 * DAY_S, **base),
              order("changed", 32 * DAY_S, **{**base, "session.device_id": "d3", "session.ip": "198.51.100.3"}),
              order("no_device", 33 * DAY_S, **{**base, "session.device_id": ..., "payment.card_fingerprint": "c9"})]
    for features in both(orders):
        novelty = features["new_on_established_buyer"]
        assert math.isnan(novelty["first"])  # the buyer was never seen
        assert novelty["young"] == 0  # everything of a 10-day-old buyer is new: no change of behaviour
        assert novelty["same"] == 0
        assert novelty["changed"] == 2  # device and IP
        assert novelty["no_device"] == 1  # the card; a missing device is not a new one
        assert features.loc["same", "seconds_since_first_buyer_ip"] == 31 * DAY_S


def test_buyers_sharing_a_shipping_address_and_cards_cycling_on_an_ip():
    orders = [order(f"o{i}", 60 * i, **{"buyer.account_id": f"b{i % 3}", "shipping.address_hash": "drop",
                                         "payment.card_fingerprint": f"c{i}", "session.ip": "198.51.100.9"})
              for i in range(5)]
    for features in both(orders):
        assert list(features["distinct_buyers_by_address_1h"]) == [0, 1, 2, 3, 3]
        assert list(features["distinct_cards_by_ip_1h"]) == [0, 1, 2, 3, 4]
        assert list(features["distinct_devices_by_buyer_1h"]) == [0, 0, 0, 1, 1]  # b0, b1 again on the device


def test_a_report_on_the_address_or_post_counts_only_once_reported():
    """An outcome reported after an order never changes it; one reported before counts for a later order that
    shares only the shipping address (fraud) or the post (regret) with the reported one."""
    def other(oid: str, seconds: float, **shared: str):
        return order(oid, seconds, **{"buyer.account_id": f"b_{oid}", "session.device_id": f"d_{oid}",
                                      "session.ip": "198.51.100.7", "payment.card_fingerprint": f"c_{oid}",
                                      "seller.account_id": f"s_{oid}",
                                      "post.post_id": f"p_{oid}", "shipping.address_hash": f"a_{oid}", **shared})

    orders = [other("a", 0, **{"shipping.address_hash": "drop"}), other("r", 0, **{"post.post_id": "flop"}),
              other("before", 50, **{"shipping.address_hash": "drop", "post.post_id": "flop"}),
              other("after", 60, **{"shipping.address_hash": "drop", "post.post_id": "flop"})]
    outcomes = [outcome("a", "fraud_chargeback", 51), outcome("r", "refund", 51)]
    for features in both(orders, outcomes):
        assert features.loc["before", "fraud_reports_by_address_7d"] == 0
        assert features.loc["before", "regret_reports_by_post_30d"] == 0
        assert math.isnan(features.loc["before", "seconds_since_last_fraud_report_by_address"])
        assert features.loc["after", "fraud_reports_by_address_7d"] == 1
        assert features.loc["after", "fraud_rate_by_address_90d"] == 0.5  # 1 report over its 2 earlier orders
        assert features.loc["after", "regret_reports_by_post_30d"] == 1
        assert features.loc["after", "seconds_since_last_fraud_report_by_address"] == 9
        assert features.loc["after", "fraud_reports_by_ip_7d"] == 1  # the IP they all share


def test_burst_of_a_bin_in_the_last_minute():
    orders = [order(f"o{i}", 20 * i, **{"payment.card_fingerprint": f"c{i}"}) for i in range(5)]
    for features in both(orders):
        assert list(features["order_count_by_bin_1m"]) == [0, 1, 2, 2, 2]  # (t - 60 s, t), open at both ends
        assert list(features["order_count_by_card_1m"]) == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("country, hour", [("US", 5), ("IN", 15), ("GB", 10), ("FJ", math.nan)])
def test_hour_of_day_in_the_buyers_country(country, hour):
    for features in both([order("o", 0, **{"buyer.country": country})]):  # 10:00 UTC
        value = features.loc["o", "hour_of_day_buyer_local"]
        assert value == hour or (math.isnan(hour) and math.isnan(value))


def test_directions_of_the_new_kinds_are_declared_where_an_analyst_would_defend_them():
    expected = {"order_pace_by_card": 1, "order_pace_by_device": 1, "order_pace_by_ip": 1,
                "order_count_by_card_1m": 1, "order_count_by_ip_1m": 1, "order_count_by_bin_10m": 1,
                "distinct_cards_by_ip_1h": 1, "distinct_buyers_by_address_24h": 1, "new_on_established_buyer": 1,
                "fraud_reports_by_address_7d": 1, "seconds_since_last_fraud_report_by_address": -1}
    assert {name: FRAUD_DIRECTIONS.get(name) for name in expected} == expected
    # no stance where volume is mostly loyalty, popularity or a big bank: buyer, seller, post, BIN over a day
    for name in ("order_pace_by_buyer", "order_count_by_post_1h", "order_count_by_bin_24h",
                 "fraud_reports_by_post_30d", "order_count_by_seller_1m", "regret_reports_by_address_7d"):
        assert name in FEATURE_NAMES and name not in FRAUD_DIRECTIONS, name
