"""Labels from outcomes: fraud beats regret, maturity, and nothing reported after as_of."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from risk.labels import labels_as_of

T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def frame_of_orders(*days_old_at_t0: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days_old_at_t0))],
            "created_at": [T0 - pd.Timedelta(days=d) for d in days_old_at_t0],
        }
    )


def outcomes(*rows: tuple[str, str, pd.Timestamp]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["order_id", "kind", "reported_at"])


def labels(orders, outs, as_of=T0, maturity_days=60):
    return labels_as_of(orders, outs, as_of, timedelta(days=maturity_days)).set_index("order_id")


def test_outcome_reported_after_as_of_is_invisible():
    orders = frame_of_orders(10)
    outs = outcomes(("o0", "fraud_chargeback", T0 + pd.Timedelta(seconds=1)))
    result = labels(orders, outs)
    assert not result.loc["o0", "labelled"]
    assert pd.isna(result.loc["o0", "fraud"])


def test_outcome_reported_exactly_at_as_of_is_visible():
    orders = frame_of_orders(10)
    result = labels(orders, outcomes(("o0", "fraud_chargeback", T0)))
    assert result.loc["o0", "fraud"] == 1 and result.loc["o0", "regret"] == 0


def test_fraud_wins_over_regret_on_the_same_order():
    orders = frame_of_orders(10)
    outs = outcomes(("o0", "refund", T0 - pd.Timedelta(days=5)), ("o0", "confirmed_fraud", T0))
    result = labels(orders, outs)
    assert result.loc["o0", "fraud"] == 1 and result.loc["o0", "regret"] == 0


def test_refund_and_dispute_are_regret_and_confirmed_legit_is_neither():
    orders = frame_of_orders(5, 5, 5)
    outs = outcomes(
        ("o0", "refund", T0), ("o1", "dispute", T0), ("o2", "confirmed_legit", T0)
    )
    result = labels(orders, outs)
    assert list(result["regret"]) == [1, 1, 0]
    assert list(result["fraud"]) == [0, 0, 0]
    assert result["labelled"].all()


def test_silent_orders_are_genuine_only_once_mature():
    orders = frame_of_orders(61, 60, 59)
    result = labels(orders, outcomes())
    assert list(result["labelled"]) == [True, True, False]
    assert result.loc["o0", "fraud"] == 0 and pd.isna(result.loc["o2", "fraud"])


def test_maturity_window_is_configurable():
    result = labels(frame_of_orders(10), outcomes(), maturity_days=7)
    assert result.loc["o0", "labelled"] and result.loc["o0", "regret"] == 0
