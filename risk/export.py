"""Logged orders and outcomes written as a contract data set (`risk export`).

The scoring service's decision log holds contract orders (as JSON) and outcomes; this
module turns them into the `orders` and `outcomes` tables of the contract layout, the
same files `risk simulate` writes and `risk train` reads. The log only provides the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from risk.contract import ORDER_COLUMNS, Order, Outcome, describe, flatten
from risk.datasets import write_orders, write_outcomes
from risk.errors import DataError, InvalidInput
from risk.files import write_atomically

EXPORT_FORMATS = ("parquet", "csv")


def export_dataset(
    directory: str | Path,
    orders: Iterable[Mapping[str, Any]],
    outcomes: Iterable[Outcome],
    fmt: str = "parquet",
    *,
    source: str = "decision log",
) -> tuple[int, int]:
    """Write `directory/orders.<fmt>` and `directory/outcomes.<fmt>`; the (orders, outcomes) counts.

    Rows are written in the order given. Each order is validated against the contract
    (`source` names where it came from in the error). Each file is written under a
    temporary name and renamed, so a reader never sees half a file.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"export format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    orders_frame = _orders_frame(orders, source)
    outcomes_frame = _outcomes_frame(outcomes)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(directory / f"orders.{fmt}", lambda path: write_orders(orders_frame, path))
    write_atomically(directory / f"outcomes.{fmt}", lambda path: write_outcomes(outcomes_frame, path))
    return len(orders_frame), len(outcomes_frame)


def _orders_frame(orders: Iterable[Mapping[str, Any]], source: str) -> pd.DataFrame:
    """The orders as one flat frame with the dtypes `write_orders` expects."""
    rows = []
    for body in orders:
        try:
            rows.append(flatten(Order.model_validate(body)))
        except ValidationError as exc:
            raise DataError(f"{source}: stored order {body.get('order_id')!r} breaks the contract: "
                            f"{describe(exc)}") from None
    frame = pd.DataFrame(rows, columns=list(ORDER_COLUMNS))
    for column, kind in ORDER_COLUMNS.items():
        values = frame[column].astype(object)
        if kind == "time":
            frame[column] = pd.to_datetime(values, utc=True)
        elif kind == "bool":
            frame[column] = values.astype("boolean")  # an object column of flags and None reads as text otherwise
        elif kind == "int":
            frame[column] = values.astype("Int64")
    return frame


def _outcomes_frame(outcomes: Iterable[Outcome]) -> pd.DataFrame:
    listed = list(outcomes)
    return pd.DataFrame(
        {
            "order_id": pd.Series([o.order_id for o in listed], dtype=object),
            "kind": pd.Series([o.kind for o in listed], dtype=object),
            "reported_at": pd.to_datetime(pd.Series([o.reported_at for o in listed], dtype=object), utc=True),
            "source": pd.Series([o.source for o in listed], dtype=object),
        }
    )
