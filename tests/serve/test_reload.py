"""Reloading from a registry: the canary runs before the switch, a refused model leaves the old one serving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models.registry import Registry
from risk.errors import ModelRefused
from serve.config import Settings
from serve.main import create_app
from serve.runtime import build_engine
from tests.builders import make_order
from tests.serve.conftest import ADMIN, CHECKOUT, KEYS


@pytest.fixture
def registry(model_dir, tmp_path) -> Registry:
    registry = Registry(_folder(tmp_path / "registry"))
    registry.add(model_dir, "v1")
    registry.promote("v1")
    return registry


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.fixture
def client(registry, tmp_path):
    settings = Settings(registry=registry.root, data_dir=tmp_path / "data", api_keys=KEYS, reload_interval_s=3600)
    with TestClient(create_app(settings, build_engine(settings)), raise_server_exceptions=False) as test_client:
        yield test_client


def _break_policy(model: Path) -> None:
    """Edit the policy by hand so the model declines most orders: it loads, but the canary's rates moved."""
    path = model / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["policy"]["decline_fraud"] = 0.0  # every order declined
    path.write_text(json.dumps(metadata))


def test_readyz_and_decisions_name_the_registry_version(client):
    ready = client.get("/readyz").json()
    assert (ready["model_version"], ready["registry_version"], ready["reload_refused"]) == ("v1", "v1", None)
    decision = client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT).json()
    assert decision["model_version"] == "v1"


def test_reload_switches_to_a_promoted_model_that_passes_the_canary(client, registry, model_dir):
    registry.add(model_dir, "v2")
    assert client.get("/readyz").json()["model_version"] == "v1"  # added, not promoted: still v1
    registry.promote("v2")
    answer = client.post("/v1/admin/reload", headers=ADMIN)
    assert answer.status_code == 200 and answer.json() == {"model_version": "v2"}
    assert client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT).json()["model_version"] == "v2"


def test_reload_refuses_a_promoted_model_failing_the_canary_and_keeps_the_old(client, registry, model_dir):
    registry.add(model_dir, "v2")
    registry.promote("v2")
    _break_policy(registry.root / "v2")  # broken after the registry checked it (a hand edit on disk)
    answer = client.post("/v1/admin/reload", headers=ADMIN)
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "ModelRefused" and "canary sample" in body["message"]
    assert body["message"].endswith("v1 keeps serving")
    ready = client.get("/readyz").json()
    assert (ready["model_version"], ready["registry_version"]) == ("v1", "v2")
    assert ready["reload_refused"]["version"] == "v2" and "canary" in ready["reload_refused"]["reason"]
    assert client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT).json()["model_version"] == "v1"


def test_reload_refuses_a_promoted_model_missing_its_fraud_trees(client, registry, model_dir):
    registry.add(model_dir, "v2")
    registry.promote("v2")
    (registry.root / "v2" / "fraud.lgb.txt").unlink()
    answer = client.post("/v1/admin/reload", headers=ADMIN)
    assert answer.status_code == 409 and "fraud.lgb.txt: missing" in answer.json()["message"]
    assert client.get("/readyz").json()["model_version"] == "v1"


def test_a_service_does_not_start_on_a_model_failing_the_canary(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "broken")
    _break_policy(broken)
    settings = Settings(model_dir=broken, data_dir=tmp_path / "data", api_keys=KEYS)
    with pytest.raises(ModelRefused, match="canary sample"):
        build_engine(settings)
