"""Shared fixtures; the builders themselves live in tests/builders.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import EXAMPLES


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
