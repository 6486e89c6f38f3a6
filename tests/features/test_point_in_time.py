"""Hand-built histories where the right value is known, checked on both paths.

Every case runs through the batch computation and through the online path (replayed
in time order on the embedded state), and both must give the expected numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from features.clock import label_known, label_time_us, visible
from features.online import OnlineFeatures, to_us
from features.state import EmbeddedState
from risk.contract import Order, Outcome, flatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.builders import make_order

T0 = pd.Timestamp("2026-11-24T10:00:00Z")


def at(seconds: float) -> str:
    return (T0 + pd.Timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def order(oid: str, seconds: float, **overrides) -> Order:
    return Order.model_validate(make_order(order_id=oid, created_at=at(seconds), **overrides))


def outcome(oid: str, kind: str, seconds: float) -> Outcome:
    return Outcome(order_id=oid, kind=kind, reported_at=at(seconds))


def batch(orders: list[Order], outcomes: list[Outcome] = ()) -> pd.DataFrame:
    frame = normalise(pd.DataFrame([flatten(o) for o in orders]), ORDERS)
    columns = ["order_id", "kind", "reported_at", "source"]
    outs = normalise(pd.DataFrame([o.model_dump() for o in outcomes], columns=columns), OUTCOMES)
    return compute_features(frame, outs).set_index("order_id")


def online(events: list[Order | Outcome]) -> pd.DataFrame:
    """Feeds events in the given arrival order (not sorted), as a live service would see them."""
    engine = OnlineFeatures(EmbeddedState())
    rows = {}
    for event in events:
        if isinstance(event, Outcome):
            writes = engine.outcome_writes(event.order_id, event.kind, to_us(event.reported_at))
            if writes:
                engine.state.apply(writes)
        else:
            values, writes = engine.compute(event)
            engine.state.apply(writes)
            rows[event.order_id] = values
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(FEATURE_NAMES))


def both(orders: list[Order], outcomes: list[Outcome] = (), arrival: list | None = None) -> list[pd.DataFrame]:
    created = {o.order_id: to_us(o.created_at) for o in orders}

    def when(event: Order | Outcome) -> tuple[int, bool]:
        if isinstance(event, Order):
            return created[event.order_id], True
        return label_time_us(to_us(event.reported_at), created[event.order_id]), False

    events = arrival if arrival is not None else sorted([*orders, *outcomes], key=when)
    return [batch(orders, outcomes), online(events)]


def test_predicates_are_open_windows_and_inclusive_labels():
    assert visible(event_us=5, as_of_us=10, window_us=10)
    assert not visible(event_us=10, as_of_us=10, window_us=10)  # same instant
    assert not visible(event_us=0, as_of_us=10, window_us=10)  # exactly one window old
    assert label_known(label_us=10, as_of_us=10) and not label_known(label_us=11, as_of_us=10)


def test_order_never_counts_itself_and_earlier_orders_count():
    orders = [order("a", 0), order("b", 60), order("c", 120)]
    for features in both(orders):
        assert list(features.loc[["a", "b", "c"], "order_count_by_card_1h"]) == [0, 1, 2]
        assert features.loc["c", "amount_sum_by_card_1h"] == 2 * 4999


def test_orders_at_the_same_instant_do_not_see_each_other():
    orders = [order("a", 0), order("b", 0), order("c", 1)]
    for features in both(orders):
        assert features.loc["a", "order_count_by_card_10m"] == 0
        assert features.loc["b", "order_count_by_card_10m"] == 0
        assert features.loc["c", "order_count_by_card_10m"] == 2


def test_order_exactly_one_window_old_has_left_the_window():
    orders = [order("a", 0), order("b", 600), order("c", 599.999999)]
    for features in both(orders):
        assert features.loc["b", "order_count_by_card_10m"] == 1  # only c; a is exactly 10 minutes old
        assert features.loc["c", "order_count_by_card_10m"] == 1


def test_late_arriving_order_sees_only_orders_before_its_own_time():
    orders = [order("a", 0), order("b", 300), order("c", 100)]
    arrival = [orders[0], orders[1], orders[2]]  # c arrives after b although it happened before
    for features in both(orders, arrival=arrival):
        assert features.loc["c", "order_count_by_card_10m"] == 1  # only a
        assert features.loc["c", "seconds_since_first_card"] == 100


def test_outcome_reported_one_second_after_the_order_is_not_seen_by_it():
    orders = [order("a", 0, **{"session.device_id": "d1"}), order("b", 1000), order("c", 1001)]
    outcomes = [outcome("a", "fraud_chargeback", 1001)]
    for features in both(orders, outcomes):
        assert features.loc["b", "fraud_reports_by_card_90d"] == 0
        assert features.loc["c", "fraud_reports_by_card_90d"] == 1  # reported at c's instant: known


def test_order_never_sees_its_own_outcome():
    orders = [order("a", 0), order("b", 10)]
    outcomes = [outcome("a", "confirmed_fraud", 0)]  # bad data: reported at the order's instant
    for features in both(orders, outcomes):
        assert features.loc["a", "fraud_reports_by_card_90d"] == 0
        assert features.loc["b", "fraud_reports_by_card_90d"] == 1


def test_label_rate_is_reports_per_order_and_zero_without_reports_whatever_the_volume():
    orders = [order("a", 0), order("b", 10), order("c", 20)]
    outcomes = [outcome("a", "refund", 5)]
    for features in both(orders, outcomes):
        assert features.loc["a", "regret_rate_by_card_90d"] == 0  # no order before: rate over one order
        assert features.loc["b", "regret_rate_by_card_90d"] == 1  # one report, one earlier order
        assert features.loc["c", "regret_rate_by_card_90d"] == 0.5
        assert features.loc["c", "fraud_rate_by_card_90d"] == 0


def test_second_outcome_of_the_same_label_counts_once():
    orders = [order("a", 0), order("b", 100)]
    outcomes = [outcome("a", "confirmed_fraud", 10), outcome("a", "fraud_chargeback", 20)]
    for features in both(orders, outcomes):
        assert features.loc["b", "fraud_reports_by_seller_90d"] == 1


def test_report_ages_count_a_report_from_its_instant_on():
    orders = [order("a", 0), order("b", 10), order("c", 100), order("d", 199), order("e", 200), order("f", 500)]
    outcomes = [outcome("a", "fraud_chargeback", 100), outcome("b", "confirmed_fraud", 200)]
    for features in both(orders, outcomes):
        assert math.isnan(features.loc["b", "seconds_since_first_fraud_report_by_card"])
        assert features.loc["c", "seconds_since_first_fraud_report_by_card"] == 0  # reported at c's instant
        assert features.loc["d", "seconds_since_last_fraud_report_by_card"] == 99  # b's report not yet
        assert features.loc["f", "seconds_since_first_fraud_report_by_card"] == 400
        assert features.loc["f", "seconds_since_last_fraud_report_by_card"] == 300
        assert math.isnan(features.loc["f", "seconds_since_first_regret_report_by_card"])


def test_late_order_does_not_see_a_report_made_after_it():
    orders = [order("a", 0), order("b", 300), order("late", 150)]
    outcomes = [outcome("a", "fraud_chargeback", 100), outcome("b", "fraud_chargeback", 400)]
    arrival = [orders[0], outcomes[0], orders[1], outcomes[1], orders[2]]
    batch_features, online_features = both(orders, outcomes, arrival=arrival)
    assert batch_features.loc["late", "seconds_since_last_fraud_report_by_card"] == 50
    assert online_features.loc["late", "seconds_since_first_fraud_report_by_card"] == 50
    assert math.isnan(online_features.loc["late", "seconds_since_last_fraud_report_by_card"])  # unknown, not 400


def test_amount_z_score_against_the_buyers_log_amounts():
    amounts = [1000, 2000, 4000, 16000]
    orders = [order(f"o{i}", 60 * i, amount=a) for i, a in enumerate(amounts)]
    units = [math.floor(math.log(a) * 1000 + 0.5) for a in amounts]
    mean = sum(units[:3]) / 3
    spread = math.sqrt(sum(u * u for u in units[:3]) / 3 - mean * mean)
    for features in both(orders):
        assert math.isnan(features.loc["o2", "amount_z_to_buyer_30d"])  # two earlier orders: too few
        assert features.loc["o3", "amount_z_to_buyer_30d"] == pytest.approx((units[3] - mean) / spread)
        assert features.loc["o3", "amount_z_to_buyer_90d"] == features.loc["o3", "amount_z_to_buyer_30d"]


def test_distinct_cards_per_device_counts_each_card_once_per_window():
    cards = ["c1", "c2", "c1", "c3"]
    orders = [order(f"o{i}", 60 * i, **{"payment.card_fingerprint": c, "session.device_id": "d"})
              for i, c in enumerate(cards)] + [order("late", 3600 + 61, **{"session.device_id": "d"})]
    for features in both(orders):
        assert list(features.loc[["o0", "o1", "o2", "o3"], "distinct_cards_by_device_1h"]) == [0, 1, 2, 2]
        # at 3661 s the window (61 s, 3661 s) holds o2 (c1 at 120 s) and o3 (c3 at 180 s)
        assert features.loc["late", "distinct_cards_by_device_1h"] == 2


def test_first_purchase_from_seller_and_newness():
    orders = [order("a", 0), order("b", 50), order("c", 60, **{"seller.account_id": "other_seller"})]
    for features in both(orders):
        assert features.loc["a", "first_purchase_from_seller"] == 1
        assert features.loc["b", "first_purchase_from_seller"] == 0
        assert features.loc["c", "first_purchase_from_seller"] == 1
        assert math.isnan(features.loc["a", "seconds_since_first_card"])
        assert features.loc["b", "seconds_since_first_card"] == 50


def test_missing_optional_fields_give_unknown_values_not_errors():
    bare = make_order(order_id="bare", created_at=at(0), post=..., session=..., shipping=...)
    for key in ("created_at", "country", "email_domain", "email_verified", "phone_verified", "followers", "following"):
        bare["buyer"].pop(key, None)
    orders = [Order.model_validate(bare)]
    for features in both(orders):
        row = features.loc["bare"]
        for name in ("post_age_seconds", "view_to_buy_seconds", "buyer_account_age_days",
                     "order_count_by_device_1h", "distinct_cards_by_device_24h",
                     "seconds_since_first_address", "fraud_rate_by_ip_90d", "ip_country_differs_card"):
            assert np.isnan(row[name]), name
        assert row["order_count_by_card_1h"] == 0



def _viewed(seconds: float, before: float | None) -> dict:
    return {"session.post_viewed_at": None if before is None else at(seconds - before)}


def test_buyer_usual_view_to_buy_is_the_geometric_mean_of_earlier_orders_with_a_view_time():
    def units(x: float) -> int:
        return math.floor(math.log(x) * 1000 + 0.5)

    orders = [order("o0", 0, **_viewed(0, 10)), order("o1", 2000, **_viewed(2000, 1000)),
              order("o2", 4000, **_viewed(4000, None)), order("o3", 6000, **_viewed(6000, 100))]
    usual = (units(10) + units(1000)) / 2  # o2, without a view time, adds nothing
    for features in both(orders):
        assert math.isnan(features.loc["o0", "buyer_usual_view_to_buy_seconds_90d"])
        assert math.isnan(features.loc["o0", "view_to_buy_to_buyer_usual_90d"])
        assert features.loc["o1", "buyer_usual_view_to_buy_seconds_90d"] == pytest.approx(math.exp(units(10) / 1000))
        assert features.loc["o1", "view_to_buy_to_buyer_usual_90d"] == pytest.approx(100, rel=1e-3)
        assert math.isnan(features.loc["o2", "view_to_buy_to_buyer_usual_90d"])  # its own view time is unknown
        assert features.loc["o3", "buyer_usual_view_to_buy_seconds_90d"] == pytest.approx(math.exp(usual / 1000))
        assert features.loc["o3", "view_to_buy_to_buyer_usual_90d"] == pytest.approx(
            math.exp((units(100) - usual) / 1000))


def test_buyer_usual_view_to_buy_forgets_orders_older_than_its_window():
    orders = [order("old", 0, **_viewed(0, 10)), order("new", 91 * 86400, **_viewed(91 * 86400, 100))]
    for features in both(orders):
        assert math.isnan(features.loc["new", "buyer_usual_view_to_buy_seconds_90d"])
