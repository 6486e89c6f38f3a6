"""The list of every feature, in the order models see them, with its description."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from features.history import HISTORY_FEATURES
from features.row import ROW_FEATURES


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    family: str
    description: str
    categorical: bool


FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in ROW_FEATURES) + tuple(f.name for f in HISTORY_FEATURES)
CATEGORICAL: tuple[str, ...] = tuple(f.name for f in ROW_FEATURES if f.categorical)
FRAUD_DIRECTIONS: dict[str, int] = {f.name: f.direction for f in HISTORY_FEATURES if f.direction}
"""Features whose effect on fraud risk has a known direction (+1 / -1), read off their definitions:
the fraud model's monotone constraints."""


def describe() -> list[FeatureInfo]:
    """Every feature with a description a person can read (`risk features --list`)."""
    infos = [FeatureInfo(f.name, "order", f.description, f.categorical) for f in ROW_FEATURES]
    infos += [FeatureInfo(f.name, "history", f.description, False) for f in HISTORY_FEATURES]
    return infos


def _check_unique() -> None:
    seen: set[str] = set()
    repeated = [name for name in FEATURE_NAMES if name in seen or seen.add(name)]  # type: ignore[func-returns-value]
    if repeated:
        raise RuntimeError(f"feature names defined twice: {repeated}")


_check_unique()


SCHEMA_VERSION = 2  # 2: label rates no longer smoothed towards a prior
"""Bump when a feature keeps its name but changes meaning: models trained before must not load."""


def schema_hash() -> str:
    """A fingerprint of the feature schema (names, order, kinds, semantics version) that models record."""
    payload = json.dumps({"version": SCHEMA_VERSION, "features": FEATURE_NAMES, "categorical": CATEGORICAL})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
