"""A small trained model (once per session), apps built around it, and decision logs on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.state import EmbeddedState
from models.bundle import load_bundle
from serve.config import Settings
from serve.decision_log import DecisionLog, PostgresDecisionLog, SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.main import create_app
from tests.builders import DATABASE_URL, require_postgres, train_model

ADMIN_KEY = "admin-key-0001"
KEYS = {"checkout-key-1": "checkout", "analyst-key-1": "analyst", ADMIN_KEY: "admin"}
CHECKOUT = {"X-API-Key": "checkout-key-1"}
ANALYST = {"X-API-Key": "analyst-key-1"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory) -> Path:
    return train_model(tmp_path_factory.mktemp("model_b"), seed=4)


def make_client(model_dir: Path, tmp_path: Path, state=None, **settings) -> TestClient:
    config = Settings(model_dir=model_dir, data_dir=tmp_path, api_keys=KEYS, **settings)
    engine = ScoringEngine(load_bundle(model_dir), state or EmbeddedState(),
                           SQLiteDecisionLog(tmp_path / "decisions.sqlite"), fallback=config.fallback_decision)
    return TestClient(create_app(config, engine), raise_server_exceptions=False)


@pytest.fixture
def client(model_dir, tmp_path) -> TestClient:
    with make_client(model_dir, tmp_path) as test_client:
        yield test_client


MakeLog = Callable[[], DecisionLog]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def make_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLog]:
    """Opens logs on one store (one SQLite file, or one table prefix); several are like several processes."""
    opened: list[DecisionLog] = []
    if request.param == "postgres":
        require_postgres(DATABASE_URL)
        prefix = f"test_{uuid.uuid4().hex[:12]}_"

        def make() -> DecisionLog:
            opened.append(PostgresDecisionLog(DATABASE_URL, table_prefix=prefix))
            return opened[-1]
    else:

        def make() -> DecisionLog:
            opened.append(SQLiteDecisionLog(tmp_path / "log" / "decisions.db"))
            return opened[-1]

    yield make
    for log in opened:
        log.close()
    if request.param == "postgres":
        cleaner = PostgresDecisionLog(DATABASE_URL, table_prefix=prefix)
        cleaner.drop_tables()
        cleaner.close()
