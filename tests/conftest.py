"""Shared fixtures; the builders themselves live in tests/builders.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import EXAMPLES, train_model


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A small trained model directory, trained once per session (about 2 s); copy it before changing it."""
    return train_model(tmp_path_factory.mktemp("model"), seed=3)
