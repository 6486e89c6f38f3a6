"""A model directory: the fraud and regret models, the decision policy and the metadata.

Self-contained: everything needed to score is inside, and loading checks that the
features the models were trained on are the features this code computes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from features.catalog import FEATURE_NAMES, schema_hash
from models.risk_model import RiskModel
from risk.errors import DataError, NotFound
from risk.policy import Costs, Policy

METADATA = "metadata.json"


class SchemaMismatch(DataError):
    """The model was trained on another feature schema than this code computes."""


@dataclass
class ModelBundle:
    fraud: RiskModel
    regret: RiskModel
    policy: Policy
    costs: Costs
    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    def scores(self, X: np.ndarray, num_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated fraud and regret probabilities for feature rows in catalog order."""
        return self.fraud.predict_proba(X, num_threads), self.regret.predict_proba(X, num_threads)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.fraud.save(directory, "fraud")
        self.regret.save(directory, "regret")
        metadata = dict(self.metadata, policy=self.policy.to_dict(), costs=self.costs.to_dict())
        (directory / METADATA).write_text(json.dumps(metadata, indent=2, default=str))


def load_bundle(directory: Path) -> ModelBundle:
    """Load a model directory; a missing one or a schema mismatch is a clear error."""
    directory = Path(directory)
    path = directory / METADATA
    if not path.exists():
        raise NotFound(f"{directory}: not a model directory (no {METADATA})")
    try:
        metadata = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    check_schema(metadata, directory)
    return ModelBundle(
        fraud=RiskModel.load(directory, "fraud"),
        regret=RiskModel.load(directory, "regret"),
        policy=Policy(**metadata["policy"]),
        costs=Costs(**metadata["costs"]),
        metadata=metadata,
    )


def check_schema(metadata: dict[str, Any], directory: Path) -> None:
    """Refuse a model whose feature schema is not the one this code computes, saying what differs."""
    if metadata.get("schema_hash") == schema_hash() and metadata.get("feature_names") == list(FEATURE_NAMES):
        return
    theirs, ours = list(metadata.get("feature_names", [])), list(FEATURE_NAMES)
    missing = [f for f in theirs if f not in ours]
    extra = [f for f in ours if f not in theirs]
    detail = []
    if missing:
        detail.append(f"features gone from this code: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if extra:
        detail.append(f"features new in this code: {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}")
    if not detail:
        detail.append("same names but another order or schema version")
    raise SchemaMismatch(
        f"{directory}: model feature schema {metadata.get('schema_hash')} does not match this code's "
        f"{schema_hash()} ({'; '.join(detail)}); retrain the model with this version"
    )
