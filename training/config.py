"""Training settings from a `--config` JSON file, checked in full before any data is read.

A typo used to surface as a traceback after minutes of feature work; here every unknown or
invalid setting is one line naming the setting and the valid ones, at once. The file:

    {"fraud": {LightGBM settings of models.risk_model.RiskModel},
     "regret": {the same},
     "costs": {risk.policy.Costs fields: chargeback_fee, ..., currency}}
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.risk_model import RiskModel
from risk.contract import CURRENCY_CODES
from risk.errors import InvalidInput
from risk.policy import Costs

# the bounds of each number setting: (lowest, highest, lowest excluded)
_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "num_leaves": (2, 131072, False), "learning_rate": (0, 1, True), "n_estimators": (1, 100000, False),
    "min_child_samples": (1, 1e9, False), "subsample": (0, 1, True), "colsample_bytree": (0, 1, True),
    "reg_lambda": (0, 1e9, False), "early_stopping_rounds": (1, 100000, False), "pos_weight": (0, 1e9, True),
    "num_threads": (1, 1024, False), "seed": (0, 2**31 - 1, False),
    "chargeback_fee": (0, 1e12, False), "margin_rate": (0, 1, False), "review_cost": (0, 1e12, False),
    "refund_cost": (0, 1e12, False), "review_prevents_regret": (0, 1, False),
    "review_capacity_per_day": (0, 1e9, False),
}
_INTEGERS = {"num_leaves", "n_estimators", "min_child_samples", "early_stopping_rounds", "num_threads", "seed"}
_METRICS = ("average_precision", "auc", "binary_logloss")
_MONOTONE_METHODS = ("basic", "intermediate", "advanced")


def model_settings() -> list[str]:
    """The settings a `fraud` or `regret` section may hold: RiskModel's keyword arguments."""
    return [name for name in inspect.signature(RiskModel.__init__).parameters if name != "self"]


def read_config(path: Path | None) -> dict[str, Any]:
    """The checked config of `path` (empty without one); any problem is one InvalidInput line."""
    if path is None:
        return {}
    try:
        config = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InvalidInput(f"--config {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--config {path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    check_config(config, f"--config {path}")
    return config


def check_config(config: Any, source: str = "config") -> None:
    """Every section, setting and value, or one InvalidInput naming the first problem and the valid choices."""
    if not isinstance(config, dict):
        raise InvalidInput(f"{source}: expected a JSON object with sections {', '.join(SECTIONS)}")
    unknown = [name for name in config if name not in SECTIONS]
    if unknown:
        raise InvalidInput(f"{source}: unknown section {unknown[0]!r}; valid sections: {', '.join(SECTIONS)}")
    for section, settings in config.items():
        valid = SECTIONS[section]()
        if not isinstance(settings, dict):
            raise InvalidInput(f"{source}: section {section!r} must be an object of settings: {', '.join(valid)}")
        for name, value in settings.items():
            if name not in valid:
                raise InvalidInput(f"{source}: unknown setting {section}.{name}; valid: {', '.join(valid)}")
            problem = _value_problem(name, value)
            if problem:
                raise InvalidInput(f"{source}: {section}.{name} = {json.dumps(value)}: {problem}")


def _value_problem(name: str, value: Any) -> str | None:
    if name == "metric":
        return None if value in _METRICS else f"must be one of {', '.join(_METRICS)}"
    if name == "monotone_method":
        return None if value in _MONOTONE_METHODS else f"must be one of {', '.join(_MONOTONE_METHODS)}"
    if name == "currency":
        return None if value in CURRENCY_CODES else "must be an ISO 4217 currency code, e.g. USD"
    if name == "pos_weight" and value is None:
        return None
    if name not in _BOUNDS:  # a setting without declared bounds (a newer RiskModel argument): LightGBM checks it
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "must be a number"
    if name in _INTEGERS and value != int(value):
        return "must be a whole number"
    low, high, open_low = _BOUNDS[name]
    if value < low or (open_low and value == low) or value > high:
        return f"must be {'above' if open_low else 'at least'} {low:g} and at most {high:g}"
    return None


SECTIONS: dict[str, Callable[[], list[str]]] = {"fraud": model_settings, "regret": model_settings,
                                                "costs": Costs.names}
