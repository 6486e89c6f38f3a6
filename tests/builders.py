"""Builders of contract test data: `make_order(**overrides)` from the contract example."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract"
if not CONTRACT.exists():  # CI clones beside shared/; elsewhere use the copy kept in tests
    CONTRACT = Path(__file__).resolve().parent / "fixtures" / "contract"
EXAMPLES = CONTRACT / "examples"


def example_order() -> dict[str, Any]:
    return json.loads((EXAMPLES / "order.json").read_text())


def make_order(**overrides: Any) -> dict[str, Any]:
    """The contract's example order, with dotted-path overrides: `make_order(**{"buyer.country": "FR"})`.

    A value of `...` deletes the field.
    """
    order = copy.deepcopy(example_order())
    for path, value in overrides.items():
        *parents, leaf = path.split(".")
        node = order
        for part in parents:
            node = node.setdefault(part, {})
        if value is ...:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return order


def train_model(path: Path, seed: int) -> Path:
    """A small trained model directory (30,000 simulated orders, 40 trees at most: about 2 s)."""
    from datetime import timedelta

    import pandas as pd

    from risk.datasets import ORDERS, OUTCOMES, normalise
    from training.simulator import simulate
    from training.train import TrainConfig, train

    orders, outcomes = simulate(30_000, 50, seed)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    config = TrainConfig(as_of=pd.Timestamp("2026-02-15T00:00:00Z"), maturity=timedelta(days=20), valid_days=7,
                         fraud_params={"n_estimators": 40}, regret_params={"n_estimators": 40}, seed=seed)
    train(orders, outcomes, config, lambda message: None).bundle.save(path)
    return path


DATABASE_URL = os.environ.get("RISK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def require_postgres(url: str = DATABASE_URL) -> None:
    """Skip (or fail, when services are required) unless PostgreSQL answers at `url`."""
    import psycopg
    import pytest

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error as exc:
        if os.environ.get("RISK_REQUIRE_SERVICES"):
            pytest.fail(f"PostgreSQL not reachable at {url} ({exc}) and RISK_REQUIRE_SERVICES is set")
        pytest.skip(f"PostgreSQL not reachable at {url}: start it to run these tests")
