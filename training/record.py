"""What a model directory records beyond the models: facts per model and the canary sample.

Recorded at training so that reports, `risk models show` and the canary (`models.canary`)
need no data: the settings and trees of each model, and a few hundred training-time
feature rows with the scores and decisions they got.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.bundle import CanarySample
from models.risk_model import RiskModel
from risk.policy import Policy, decision_rates

CANARY_ROWS = 2000


def canary_sample(X: np.ndarray, fraud: np.ndarray, regret: np.ndarray, seed: int) -> CanarySample:
    """Up to CANARY_ROWS rows (of the validation slice) and their scores, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(X), size=min(CANARY_ROWS, len(X)), replace=False))
    return CanarySample(rows=np.ascontiguousarray(X[pick]), fraud=fraud[pick].astype("float64"),
                        regret=regret[pick].astype("float64"))


def canary_record(sample: CanarySample, policy: Policy) -> dict[str, Any]:
    """The metadata of the sample: its size and the share of each decision the policy gave it."""
    return {"file": "canary.npz", "rows": len(sample.rows),
            "rates": decision_rates(policy.decide_many(sample.fraud, sample.regret))}


def model_facts(model: RiskModel, y: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    """Hyperparameters, trees, calibrator and positives per slice of one risk's model."""
    return {"params": model.get_params(), "trees": model.trees, "calibrator": model.calibrator_.kind,
            "pos_weight": model.pos_weight_, "positives_train": int(y[~valid].sum()),
            "positives_valid": int(y[valid].sum())}
