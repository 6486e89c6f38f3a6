"""Logged orders and outcomes become the contract data set `risk train` reads (risk/export.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from risk.contract import Order, Outcome
from risk.datasets import read_orders, read_outcomes
from risk.errors import DataError, InvalidInput
from risk.export import EXPORT_FORMATS, export_dataset
from tests.builders import make_order


def _order(order_id: str, **overrides: object) -> dict:
    return Order.model_validate(make_order(order_id=order_id, **overrides)).model_dump(mode="json")


OUTCOME = Outcome(order_id="ord_a", kind="refund", reported_at=datetime(2026, 11, 30, 10, 30, tzinfo=UTC))


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_rows_are_written_in_the_order_given_and_read_back_as_the_contract_tables(tmp_path: Path, fmt: str) -> None:
    orders = [_order("ord_b", amount=150), _order("ord_a", **{"buyer.email_verified": None}, post=...)]
    outcomes = [OUTCOME, Outcome(order_id="ord_b", kind="dispute", reported_at=OUTCOME.reported_at, source="buyer")]

    assert export_dataset(tmp_path, orders, outcomes, fmt) == (2, 2)

    back = read_orders(tmp_path / f"orders.{fmt}")
    assert list(back["order_id"]) == ["ord_b", "ord_a"]
    assert back.loc[0, "amount"] == 150 and pd.isna(back.loc[1, "buyer_email_verified"])
    assert pd.isna(back.loc[1, "post_post_id"])
    back_outcomes = read_outcomes(tmp_path / f"outcomes.{fmt}")
    assert list(back_outcomes["kind"]) == ["refund", "dispute"]
    assert back_outcomes.loc[0, "reported_at"] == pd.Timestamp("2026-11-30T10:30:00Z")
    assert pd.isna(back_outcomes.loc[0, "source"]) and back_outcomes.loc[1, "source"] == "buyer"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"orders.{fmt}", f"outcomes.{fmt}"]


def test_an_unknown_format_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="'xlsx' is not one of parquet, csv"):
        export_dataset(tmp_path / "out", [], [], fmt="xlsx")
    assert not (tmp_path / "out").exists()


def test_a_stored_order_that_breaks_the_contract_is_named_and_nothing_is_replaced(tmp_path: Path) -> None:
    export_dataset(tmp_path, [_order("ord_a")], [OUTCOME])
    broken = {**_order("ord_bad"), "amount": -5}

    with pytest.raises(DataError, match=r"decision log: stored order 'ord_bad' breaks the contract: amount"):
        export_dataset(tmp_path, [_order("ord_a"), broken], [])

    assert list(read_orders(tmp_path / "orders.parquet")["order_id"]) == ["ord_a"]
    assert len(read_outcomes(tmp_path / "outcomes.parquet")) == 1
