"""Features on Dask equal the single-machine features on every order, whatever the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.batch import compute_features
from features.dask_batch import compute_features as compute_on_dask
from risk import partitioned
from risk.datasets import ORDERS, OUTCOMES, normalise, write_orders, write_outcomes
from risk.errors import DataError
from training.cluster import ClusterSpec, dask_client
from training.simulator import simulate


@pytest.fixture(scope="module")
def client():
    # threads, not processes: quick to start; the features code is the same either way
    with dask_client(ClusterSpec("local", workers=2, processes=False)) as client:
        yield client


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    orders, outcomes = simulate(3_000, 40, 11)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    root = tmp_path_factory.mktemp("dask_data")
    partitioned.write_parts(orders.sample(frac=1.0, random_state=1), root / "orders", 5, write_orders)  # any row order
    partitioned.write_parts(outcomes, root / "outcomes", 2, write_outcomes)
    write_orders(orders, root / "orders.parquet")
    write_outcomes(outcomes, root / "outcomes.parquet")
    return root, orders, outcomes


def assert_equal_on_every_order(single: pd.DataFrame, distributed: pd.DataFrame) -> None:
    assert len(distributed) == len(single)
    distributed = distributed.set_index("order_id").loc[single["order_id"]].reset_index()
    assert list(distributed.columns) == list(single.columns)
    a, b = single.drop(columns="order_id").to_numpy(), distributed.drop(columns="order_id").to_numpy()
    same = (a == b) | (np.isnan(a) & np.isnan(b))  # exact: the same code on the same events
    rows, cols = np.nonzero(~same)
    assert same.all(), [(single["order_id"].iat[r], single.columns[1 + c], a[r, c], b[r, c])
                        for r, c in zip(rows[:5], cols[:5], strict=True)]


def test_dask_features_equal_single_machine_features_on_every_order(client, data_dir):
    root, orders, outcomes = data_dir
    single = compute_features(orders, outcomes)
    dask_orders, dask_outcomes = partitioned.read_orders(root / "orders"), partitioned.read_outcomes(root / "outcomes")
    assert dask_orders.npartitions == 5
    distributed = compute_on_dask(dask_orders, dask_outcomes, partitions=6).compute()  # more than the 5 parts
    assert_equal_on_every_order(single, distributed)


def test_dask_features_without_outcomes_and_from_one_file_equal_single_machine(client, data_dir):
    root, orders, _ = data_dir
    single = compute_features(orders, None)
    distributed = compute_on_dask(partitioned.read_orders(root / "orders.parquet"), None, partitions=2).compute()
    assert_equal_on_every_order(single, distributed)


def test_keys_missing_on_some_orders_are_covered(data_dir):
    _, orders, _ = data_dir
    assert orders["session_device_id"].isna().any() and orders["session_device_id"].notna().any()


def test_duplicate_order_id_across_part_files_is_a_data_error(client, data_dir, tmp_path):
    _, orders, _ = data_dir
    partitioned.write_parts(pd.concat([orders.head(50), orders.head(1)]), tmp_path / "orders", 2, write_orders)
    with pytest.raises(DataError, match="order_id.*duplicate"):
        compute_on_dask(partitioned.read_orders(tmp_path / "orders"), None, partitions=2).compute()


def test_a_bad_value_in_one_part_file_names_the_column(client, data_dir, tmp_path):
    _, orders, _ = data_dir
    parts = tmp_path / "orders"
    partitioned.write_parts(orders.head(20), parts, 2, write_orders)
    broken = pd.read_parquet(parts / "part-0001.parquet")
    broken.loc[broken.index[0], "amount"] = -5
    broken.to_parquet(parts / "part-0001.parquet", index=False)
    with pytest.raises(DataError, match="amount"):
        partitioned.read_orders(parts).compute()


def test_a_directory_without_part_files_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no .parquet or .csv part files"):
        partitioned.read_orders(tmp_path)
