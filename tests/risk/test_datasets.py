"""Reading and writing the contract's data sets, and the one-line errors for bad files."""

from __future__ import annotations

import pandas as pd
import pytest

from risk.contract import ORDER_COLUMNS, REQUIRED_ORDER_COLUMNS, REQUIRED_OUTCOME_COLUMNS
from risk.datasets import read_orders, read_outcomes, write_orders, write_outcomes
from risk.errors import DataError


@pytest.fixture
def sample_csv(examples):
    return (examples / "orders.csv").read_text()


def write_text(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def edit_cell(csv_text: str, row: int, column: str, value: str) -> str:
    lines = csv_text.splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    return "\n".join(lines) + "\n"


def test_contract_samples_load_with_fixed_dtypes(examples):
    orders = read_orders(examples / "orders.csv")
    outcomes = read_outcomes(examples / "outcomes.csv")
    assert list(orders.columns) == list(ORDER_COLUMNS)
    assert len(orders) == 3 and len(outcomes) == 2
    assert str(orders["created_at"].dtype) == "datetime64[ns, UTC]"
    assert orders["amount"].dtype == "int64"
    assert str(orders["buyer_followers"].dtype) == "Int64"
    assert str(orders["post_promoted"].dtype) == "boolean"
    assert orders.loc[2, "post_post_id"] is pd.NA or pd.isna(orders.loc[2, "post_post_id"])
    assert outcomes.loc[0, "kind"] == "fraud_chargeback"


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_orders_round_trip_through_each_format(examples, tmp_path, suffix):
    orders = read_orders(examples / "orders.csv")
    write_orders(orders, tmp_path / f"orders.{suffix}")
    pd.testing.assert_frame_equal(read_orders(tmp_path / f"orders.{suffix}"), orders)


def test_parquet_and_csv_hold_the_same_outcomes(examples, tmp_path):
    outcomes = read_outcomes(examples / "outcomes.csv")
    write_outcomes(outcomes, tmp_path / "o.parquet")
    write_outcomes(read_outcomes(tmp_path / "o.parquet"), tmp_path / "o.csv")
    pd.testing.assert_frame_equal(read_outcomes(tmp_path / "o.csv"), outcomes)


def test_times_with_offsets_are_stored_in_utc(sample_csv, tmp_path):
    path = write_text(tmp_path, "o.csv", edit_cell(sample_csv, 1, "created_at", "2026-11-24T11:15:02+01:00"))
    assert read_orders(path).loc[0, "created_at"] == pd.Timestamp("2026-11-24T10:15:02Z")


@pytest.mark.parametrize("text", ["2026-11-24t10:15:02z", "2026-11-24 10:15:02Z", "2026-11-24T11:15:02.250+01:00"])
def test_every_rfc_3339_spelling_is_read(sample_csv, tmp_path, text):
    path = write_text(tmp_path, "o.csv", edit_cell(sample_csv, 1, "created_at", text))
    expected = pd.Timestamp("2026-11-24T10:15:02.250Z" if ".250" in text else "2026-11-24T10:15:02Z")
    assert read_orders(path).loc[0, "created_at"] == expected


def test_a_parquet_column_of_text_times_is_held_to_rfc_3339_too(examples, tmp_path):
    orders = read_orders(examples / "orders.csv")
    as_text = orders.assign(created_at=orders["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S+0000"))
    as_text.to_parquet(tmp_path / "text_times.parquet")
    with pytest.raises(DataError, match=r"column 'created_at', row 1: not an RFC 3339 time"):
        read_orders(tmp_path / "text_times.parquet")


def test_unknown_columns_are_ignored_and_optional_ones_may_be_absent(examples, tmp_path):
    orders = read_orders(examples / "orders.csv")
    slim = orders[["order_id", "created_at", "amount", "currency", "buyer_account_id",
                   "seller_account_id", "payment_card_fingerprint"]].assign(extra_column="x")
    slim.to_parquet(tmp_path / "slim.parquet")
    back = read_orders(tmp_path / "slim.parquet")
    assert list(back.columns) == list(ORDER_COLUMNS)
    assert back["buyer_country"].isna().all()
    assert (back["quantity"] == 1).all()


@pytest.mark.parametrize(
    "row, column, value, words",
    [
        (2, "created_at", "2026-11-24T10:16:40", ["created_at", "row 2", "timezone"]),
        (3, "created_at", "not a time", ["created_at", "row 3", "RFC 3339"]),
        (2, "created_at", "2026-11-24T11:15:02+0100", ["created_at", "row 2", "RFC 3339"]),  # offset without colon
        (1, "created_at", "2026-11-24T11:15+01:00", ["created_at", "row 1", "RFC 3339"]),  # no seconds
        (3, "created_at", "2026-11-24", ["created_at", "row 3", "timezone"]),
        (2, "created_at", "1764000000", ["created_at", "row 2", "RFC 3339"]),
        (1, "amount", "0", ["amount", "row 1", "greater than 0"]),
        (2, "amount", "12.5", ["amount", "row 2", "whole number"]),
        (2, "amount", "abc", ["amount", "row 2", "not an integer"]),
        (1, "currency", "usd", ["currency", "row 1", "ISO 4217"]),
        (3, "payment_funding", "cash", ["payment_funding", "row 3"]),
        (1, "post_promoted", "maybe", ["post_promoted", "row 1", "true or false"]),
        (2, "buyer_account_id", "", ["buyer_account_id", "row 2", "missing"]),
        (2, "order_id", "ord_8f2c1a", ["order_id", "row 2", "duplicate"]),
        (1, "post_post_id", "", ["post_post_id", "row 1", "has a post"]),
        (1, "session_ip", "1.2.3", ["session_ip", "row 1"]),
        (3, "buyer_country", "France", ["buyer_country", "row 3", "ISO 3166"]),
    ],
)
def test_bad_cell_fails_with_one_line_naming_file_column_and_row(sample_csv, tmp_path, row, column, value, words):
    path = write_text(tmp_path, "bad.csv", edit_cell(sample_csv, row, column, value))
    with pytest.raises(DataError) as caught:
        read_orders(path)
    message = caught.value.message
    assert "\n" not in message and "bad.csv" in message
    for word in words:
        assert word in message, message


def test_missing_required_column_is_named(sample_csv, tmp_path):
    lines = [",".join(line.split(",")[1:]) for line in sample_csv.splitlines()]
    path = write_text(tmp_path, "no_id.csv", "\n".join(lines))
    with pytest.raises(DataError, match="missing required column.*order_id"):
        read_orders(path)


@pytest.mark.parametrize("column", REQUIRED_ORDER_COLUMNS)
def test_each_required_order_column_is_required(examples, tmp_path, column):
    read_orders(examples / "orders.csv").drop(columns=[column]).to_parquet(tmp_path / "o.parquet")
    with pytest.raises(DataError, match=f"missing required column.*{column}"):
        read_orders(tmp_path / "o.parquet")


@pytest.mark.parametrize("column", REQUIRED_OUTCOME_COLUMNS)
def test_each_required_outcome_column_is_required(examples, tmp_path, column):
    read_outcomes(examples / "outcomes.csv").drop(columns=[column]).to_parquet(tmp_path / "o.parquet")
    with pytest.raises(DataError, match=f"missing required column.*{column}"):
        read_outcomes(tmp_path / "o.parquet")


def test_post_id_is_not_a_required_column_since_a_post_may_be_absent(examples, tmp_path):
    orders = read_orders(examples / "orders.csv")
    orders.drop(columns=[c for c in orders.columns if c.startswith("post_")]).to_parquet(tmp_path / "o.parquet")
    assert read_orders(tmp_path / "o.parquet")["post_post_id"].isna().all()


def test_unknown_quantity_reads_as_one_in_csv_and_parquet(sample_csv, examples, tmp_path):
    path = write_text(tmp_path, "o.csv", edit_cell(sample_csv, 2, "quantity", ""))
    assert read_orders(path).loc[1, "quantity"] == 1
    orders = read_orders(examples / "orders.csv")
    orders["quantity"] = pd.array([None, 2, None], dtype="Int64")
    orders.to_parquet(tmp_path / "o.parquet")
    assert read_orders(tmp_path / "o.parquet")["quantity"].tolist() == [1, 2, 1]


def test_naive_parquet_timestamps_are_rejected(examples, tmp_path):
    orders = read_orders(examples / "orders.csv")
    orders["created_at"] = orders["created_at"].dt.tz_localize(None)
    orders.to_parquet(tmp_path / "naive.parquet")
    with pytest.raises(DataError, match="created_at.*timezone"):
        read_orders(tmp_path / "naive.parquet")


def test_unreadable_and_missing_files_give_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_orders(tmp_path / "absent.parquet")
    with pytest.raises(DataError, match="cannot be read as parquet"):
        read_orders(write_text(tmp_path, "junk.parquet", "not parquet"))
    with pytest.raises(DataError, match="unknown format"):
        read_orders(write_text(tmp_path, "orders.json", "{}"))


def test_bad_outcome_kind_is_named(examples, tmp_path):
    text = (examples / "outcomes.csv").read_text().replace("refund", "refunded")
    with pytest.raises(DataError, match="kind.*row 2"):
        read_outcomes(write_text(tmp_path, "out.csv", text))
