"""A small trained model (once per session) and apps built around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.state import EmbeddedState
from models.bundle import load_bundle
from serve.config import Settings
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.main import create_app
from tests.builders import train_model

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
