"""The canary: is a loaded model fit to serve? One function the registry and every service reload call.

A model directory can be complete on disk and still wrong: a trees file gone (the
calibrator alone then declined 2,418 of 2,418 orders), another feature schema, a policy
edited by hand, another engine version. `check_canary(bundle)` runs, without data:

1. the code version rule of `models.provenance` (another major version refuses);
2. the contract's example order, scored through the online features on an empty state:
   both scores must be probabilities and the decision one of the three;
3. the canary sample stored at training (`canary.npz`): its rows are scored again, every
   score must be a probability (not NaN), and the share of each decision must stay within
   `RATE_TOLERANCE` (absolute) of the shares recorded at training. The same model
   reproduces them exactly; a tolerance of 2 points leaves room for a LightGBM upgrade that
   moves a few scores by rounding, and none for a model that declines or reviews a different
   part of the traffic.

Loading itself (`models.bundle.load_bundle`) already refuses a missing model file, a
corrupt one and another feature schema; `check_model_dir` adds those as problems.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from features.online import OnlineFeatures
from features.state import EmbeddedState
from models.bundle import ModelBundle, load_bundle
from models.provenance import compare_code
from models.scorer import Scorer
from risk.contract import DECISIONS, Order
from risk.errors import RiskError
from risk.policy import decision_rates

RATE_TOLERANCE = 0.02
"""Largest absolute change of a decision's share on the canary sample (0.02 = 2 percentage points)."""


@dataclass
class CanaryResult:
    """What the canary found: `ok` unless a problem refuses the model; warnings never do."""

    version: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def reason(self) -> str:
        """The problems in one line (for a CLI error or an HTTP answer)."""
        return "; ".join(self.problems)


def check_model_dir(directory: Path) -> CanaryResult:
    """Load a model directory and run the canary; a model that does not load is one problem naming why."""
    try:
        bundle = load_bundle(Path(directory))
    except RiskError as exc:
        return CanaryResult(version=Path(directory).name, problems=[exc.message])
    return check_canary(bundle)


def check_canary(bundle: ModelBundle) -> CanaryResult:
    """Run the canary on a loaded bundle (see the module's docstring for what is checked)."""
    result = CanaryResult(version=bundle.version)
    refusal, warning = compare_code(bundle.metadata.get("code"))
    if refusal:
        result.problems.append(refusal)
    if warning:
        result.warnings.append(warning)
    try:
        _score_example(bundle, result)
        _rescore_sample(bundle, result)
    except Exception as exc:  # a model that cannot even score is refused, whatever broke inside it
        result.problems.append(f"scoring failed: {type(exc).__name__}: {exc}")
    return result


def example_order() -> Order:
    """The data contract's example order (a copy shipped with the package)."""
    text = resources.files("models").joinpath("data/example_order.json").read_text(encoding="utf-8")
    return Order.model_validate(json.loads(text))


def _score_example(bundle: ModelBundle, result: CanaryResult) -> None:
    order = example_order()
    features, _ = OnlineFeatures(EmbeddedState()).compute(order)
    decision = Scorer(bundle).decide(order.order_id, np.asarray(features, dtype=np.float64))
    scores = {"fraud": decision.fraud_score, "regret": decision.regret_score}
    result.details["example"] = {"decision": decision.decision, **scores}
    bad = [f"{risk} {value!r}" for risk, value in scores.items() if not (math.isfinite(value) and 0 <= value <= 1)]
    if bad or decision.decision not in DECISIONS:
        result.problems.append(f"the contract's example order scored {', '.join(bad) or decision.decision}: "
                               "not a probability or a decision")


def _rescore_sample(bundle: ModelBundle, result: CanaryResult) -> None:
    recorded = bundle.metadata.get("canary")
    if bundle.canary is None or not isinstance(recorded, dict):
        result.warnings.append("no canary sample recorded at training: decision rates not checked")
        return
    sample = bundle.canary
    fraud, regret = bundle.scores(sample.rows)
    for risk, scores in (("fraud", fraud), ("regret", regret)):
        bad = ~((scores >= 0) & (scores <= 1))  # NaN fails both comparisons
        if bad.any():
            result.problems.append(f"{risk} scores of {int(bad.sum()):,} of the {len(scores):,} canary rows are not "
                                   f"probabilities (e.g. {scores[bad][0]!r})")
    now = decision_rates(bundle.policy.decide_many(fraud, regret))
    then = {name: float(recorded["rates"][name]) for name in now}
    drift = {name: now[name] - then[name] for name in now}
    result.details["sample"] = {
        "rows": len(sample.rows), "rates_now": now, "rates_at_training": then,
        "max_score_change": float(max(np.abs(fraud - sample.fraud).max(initial=0),
                                      np.abs(regret - sample.regret).max(initial=0))),
    }
    far = [f"{name} {then[name]:.1%} at training, {now[name]:.1%} now" for name in now
           if abs(drift[name]) > RATE_TOLERANCE]
    if far:
        result.problems.append(f"decisions on the canary sample of {len(sample.rows):,} training rows moved beyond "
                               f"{RATE_TOLERANCE:.0%}: {'; '.join(far)}")
