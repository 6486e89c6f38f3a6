"""`risk features` on data sets at the edges."""

from __future__ import annotations

import pandas as pd

from cli.main import main
from features.catalog import FEATURE_NAMES
from risk.contract import Order, flatten
from risk.datasets import ORDERS, normalise
from tests.builders import make_order


def test_features_of_an_orders_file_with_a_header_and_no_rows_is_an_empty_table(tmp_path, capsys):
    orders = normalise(pd.DataFrame([flatten(Order.model_validate(make_order()))]), ORDERS).iloc[:0]
    orders.to_csv(tmp_path / "orders.csv", index=False)
    assert main(["features", "--orders", str(tmp_path / "orders.csv"), "--out", str(tmp_path / "f.csv")]) == 0
    features = pd.read_csv(tmp_path / "f.csv")
    assert list(features.columns) == ["order_id", *FEATURE_NAMES] and len(features) == 0
    assert "wrote 0 rows" in capsys.readouterr().err
