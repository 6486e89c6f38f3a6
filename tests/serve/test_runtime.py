"""What a starting service says it serves: the model and its backends, URLs without credentials."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from serve.config import load_settings
from serve.runtime import startup_lines

ENGINE = SimpleNamespace(model_version="20261124-221503-bbbbbb")


def test_embedded_backends_name_their_files(tmp_path):
    settings = load_settings(model_dir=tmp_path / "model", data_dir=tmp_path / "data")
    assert startup_lines(settings, ENGINE) == [
        f"model: 20261124-221503-bbbbbb from {tmp_path / 'model'}",
        f"feature state: embedded, snapshots in {tmp_path / 'data' / 'state.pkl'}",
        f"decision log: SQLite at {tmp_path / 'data' / 'decisions.sqlite'}",
    ]


def test_shared_backends_are_named_without_their_credentials():
    settings = load_settings(model_dir=Path("m"), redis_url="redis://:s3cret@cache.internal:6380/2",
                             database_url="postgresql://risk:pa55word@db.internal:5432/risk",
                             shadow_model_dir=Path("challenger"))
    lines = "\n".join(startup_lines(settings, ENGINE))
    assert "feature state: Redis at redis://cache.internal:6380/2" in lines
    assert "decision log: PostgreSQL at postgresql://db.internal:5432/risk" in lines
    assert "shadow model: challenger" in lines
    assert "s3cret" not in lines and "pa55word" not in lines and "risk:" not in lines


def test_a_webhook_url_is_named_without_its_credentials(tmp_path):
    settings = load_settings(model_dir=tmp_path, webhook_url="https://hook:t0ken@hooks.example.com/risk",
                             webhook_secret="whsec-123456")
    lines = "\n".join(startup_lines(settings, ENGINE))
    assert "webhooks: review events to https://hooks.example.com/risk" in lines
    assert "t0ken" not in lines and "whsec" not in lines
