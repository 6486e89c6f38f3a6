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
from risk.files import replace_directory
from risk.policy import Costs, Policy

METADATA = "metadata.json"
CANARY = "canary.npz"


@dataclass(frozen=True)
class CanarySample:
    """A few hundred training-time feature rows and the scores the models gave them at training.

    Stored in the model directory so that a registry or a service can check, with no data
    at hand, that the model it loaded still decides as it did when it was trained
    (`models.canary.check_canary`).
    """

    rows: np.ndarray  # float32, catalog order
    fraud: np.ndarray
    regret: np.ndarray

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez_compressed(handle, rows=self.rows, fraud=self.fraud, regret=self.regret)

    @classmethod
    def load(cls, path: Path) -> CanarySample:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(rows=data["rows"], fraud=data["fraud"], regret=data["regret"])
        except FileNotFoundError:
            raise DataError(f"{path}: missing: the model's metadata names a canary sample") from None
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a canary sample ({exc})") from None


class SchemaMismatch(DataError):
    """The model was trained on another feature schema than this code computes."""


@dataclass
class ModelBundle:
    fraud: RiskModel
    regret: RiskModel
    policy: Policy
    costs: Costs
    metadata: dict[str, Any]
    canary: CanarySample | None = None  # training-time rows for the registry's and the service's canary

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    def scores(self, X: np.ndarray, num_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated fraud and regret probabilities for feature rows in catalog order."""
        return self.fraud.predict_proba(X, num_threads), self.regret.predict_proba(X, num_threads)

    def save(self, directory: Path) -> None:
        """Write the model directory whole (`risk.files.replace_directory`): a failed or interrupted save
        leaves the previous one as it was, never a mix of both."""
        replace_directory(directory, self.write_files)

    def write_files(self, directory: Path) -> None:
        """The model files into `directory` as it is (`save` gives it a fresh one and swaps it in)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.fraud.save(directory, "fraud")
        self.regret.save(directory, "regret")
        if self.canary is not None:
            self.canary.save(directory / CANARY)
        (directory / METADATA).write_text(json.dumps(self.full_metadata(), indent=2, default=str))

    def full_metadata(self) -> dict[str, Any]:
        """The metadata as metadata.json holds it: with the policy and the costs."""
        return dict(self.metadata, policy=self.policy.to_dict(), costs=self.costs.to_dict())


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
    try:
        policy, costs = Policy(**metadata["policy"]), Costs(**metadata["costs"])
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: no usable policy and costs ({exc})") from None
    return ModelBundle(
        fraud=RiskModel.load(directory, "fraud"),
        regret=RiskModel.load(directory, "regret"),
        policy=policy,
        costs=costs,
        metadata=metadata,
        canary=CanarySample.load(directory / CANARY) if "canary" in metadata else None,
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
