"""Settings: read from RISK_* variables in one place; a bad value is one clear error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from risk.errors import DataError, InvalidInput
from serve.config import load_settings, registry_dir


def test_flags_win_over_the_environment_and_none_means_not_given(monkeypatch, tmp_path):
    monkeypatch.setenv("RISK_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("RISK_REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = load_settings(data_dir=tmp_path / "from-flag", redis_url=None)
    assert settings.data_dir == tmp_path / "from-flag" and settings.redis_url == "redis://127.0.0.1:6379/3"


def test_a_short_api_key_is_one_error_naming_the_variable_not_the_key(monkeypatch):
    monkeypatch.setenv("RISK_API_KEYS", json.dumps({"short": "checkout"}))
    with pytest.raises(InvalidInput) as caught:
        load_settings()
    assert caught.value.message == "RISK_API_KEYS: API keys must be at least 8 characters (1 shorter)"


def test_api_keys_that_are_not_json_are_one_error(monkeypatch):
    monkeypatch.setenv("RISK_API_KEYS", "checkout-key-1")
    with pytest.raises(InvalidInput, match="api_keys"):
        load_settings()


def test_an_unknown_role_is_refused(monkeypatch):
    monkeypatch.setenv("RISK_API_KEYS", json.dumps({"long-enough-key": "root"}))
    with pytest.raises(InvalidInput, match="RISK_API_KEYS: Input should be 'checkout', 'analyst' or 'admin'"):
        load_settings()


@pytest.mark.parametrize("content, words", [
    ({"short": "admin"}, "at least 8 characters"),
    ({"long-enough-key": "root"}, "must map each key to a role"),
    (["long-enough-key"], "must map each key to a role"),
])
def test_the_keys_file_is_checked_as_the_variable_is(tmp_path, content, words):
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(content))
    settings = load_settings(api_keys={"checkout-key-1": "checkout"}, api_keys_file=keys_file)
    with pytest.raises(DataError, match=words):
        settings.all_api_keys()


def test_keys_from_the_variable_and_the_file_are_merged(tmp_path):
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"admin-key-0001": "admin"}))
    settings = load_settings(api_keys={"checkout-key-1": "checkout"}, api_keys_file=keys_file)
    assert settings.all_api_keys() == {"checkout-key-1": "checkout", "admin-key-0001": "admin"}


def test_the_registry_is_the_flag_else_risk_registry_else_registry(monkeypatch, tmp_path):
    monkeypatch.setenv("RISK_REGISTRY", str(tmp_path))
    assert registry_dir(Path("given")) == Path("given")
    assert registry_dir(None) == tmp_path
    monkeypatch.setenv("RISK_REGISTRY", "")
    assert registry_dir(None) == Path("registry")
