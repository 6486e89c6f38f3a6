"""The batch evaluator's inputs: DataFrames or arrays, raw or converted columns, and a clear error for a missing one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.errors import DataError
from risk.rules import ListSnapshot, compile_rule

NO_LISTS = ListSnapshot([])


def test_raw_frame_columns_and_converted_arrays_give_the_same_answer():
    frame = pd.DataFrame({
        "created_at": pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", None], utc=True),
        "payment_wallet": pd.Series(["apple_pay", None, "x"], dtype="string"),
        "quantity": pd.Series([2, None, 1], dtype="Int64"),
        "buyer_email_verified": pd.Series([True, None, False], dtype="boolean"),
    })
    rule = compile_rule("review if created_at >= '2026-01-02T00:00:00Z' or wallet == 'apple_pay' "
                        "or (quantity == 1 and buyer_email_verified == false)", {})
    at = np.zeros(3, dtype="int64")
    from_frame = rule.matches_batch(frame, NO_LISTS, at)  # type: ignore[arg-type]
    arrays = {"created_at": np.array([1767225600.0, 1767312000.0, np.nan]),
              "payment_wallet": np.array(["apple_pay", None, "x"], dtype=object),
              "quantity": np.array([2.0, np.nan, 1.0]), "buyer_email_verified": np.array([1.0, np.nan, 0.0])}
    assert from_frame.tolist() == rule.matches_batch(arrays, NO_LISTS, at).tolist() == [True, True, True]


def test_a_missing_quantity_is_one_item_as_in_the_order_model():
    rule = compile_rule("review if quantity == 1", {})
    assert rule.matches_batch({"quantity": np.array([np.nan, 2.0])}, NO_LISTS, np.zeros(2)).tolist() == [True, False]


def test_a_column_the_rule_reads_must_be_in_the_table():
    rule = compile_rule("review if amount > 1", {})
    with pytest.raises(DataError, match="'amount'"):
        rule.matches_batch({"currency": np.array(["USD"], dtype=object)}, NO_LISTS, np.zeros(1))
