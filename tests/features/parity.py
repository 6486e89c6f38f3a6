"""The parity assertion shared by the embedded and Redis parity tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def assert_same_features(batch: pd.DataFrame, online: pd.DataFrame) -> None:
    """Every feature of every order equal (floats within 1e-9 relative, unknown equals unknown)."""
    assert list(batch["order_id"]) == list(online["order_id"])
    b = batch.drop(columns="order_id").to_numpy()
    o = online.drop(columns="order_id").to_numpy()
    same = np.isclose(b, o, rtol=1e-9, atol=0.0) | (np.isnan(b) & np.isnan(o))
    if not same.all():
        rows, cols = np.nonzero(~same)
        names = batch.columns[1:]
        pairs = zip(rows[:5], cols[:5], strict=True)
        examples = [(batch["order_id"].iat[r], names[c], b[r, c], o[r, c]) for r, c in pairs]
        pytest.fail(f"{len(rows)} values differ, e.g. (order, feature, batch, online): {examples}")
