"""A model directory's metadata in words: the policy sentence, a summary, and what differs between two.

One place, so `risk train`, its report, `risk models show` and `risk models diff` say the
same things the same way. Works on metadata alone (no model is loaded), and on models
trained before a field was recorded (the line is left out, never an error).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from risk.money import format_money
from risk.policy import Costs, Policy, percent, policy_in_words


def policy_words(metadata: dict[str, Any]) -> str:
    """ "decline if fraud >= 45%; review if ...: about 28 reviews a day, expected cost 45.04 USD per order vs ..." """
    policy = Policy(**metadata["policy"])
    expected = metadata.get("expected", {})
    currency = expected.get("currency") or metadata.get("costs", {}).get("currency", "USD")
    n_valid = max(int(metadata.get("training", {}).get("n_valid", 1)), 1)
    per_order = expected.get("cost_per_order", expected.get("cost", math.nan) / n_valid)
    approve_all = expected.get("cost_approve_all_per_order", expected.get("cost_approve_all", math.nan) / n_valid)
    return policy_in_words(policy, float(expected.get("reviews_per_day", math.nan)), per_order, approve_all, currency)


def costs_words(costs: Costs) -> str:
    """The cost settings with their currency: "chargeback fee 15.00 USD, review 3.00 USD, ..."."""
    money = {name: format_money(getattr(costs, name), costs.currency)
             for name in ("chargeback_fee", "review_cost", "refund_cost")}
    return (f"chargeback fee {money['chargeback_fee']}, review {money['review_cost']}, refund handling "
            f"{money['refund_cost']}, declined genuine order loses {costs.margin_rate:.0%} of its amount, a review "
            f"prevents {costs.review_prevents_regret:.0%} of regret, capacity {costs.review_capacity_per_day:,.0f} "
            "reviews a day")


def model_lines(metadata: dict[str, Any]) -> list[str]:
    """One line per risk: trees, calibrator, validation metrics, positives, hyperparameters."""
    lines = []
    facts = metadata.get("models", {})
    for risk, metrics in metadata.get("metrics", {}).items():
        fact = facts.get(risk, {})
        params = fact.get("params", {})
        settings = ", ".join(f"{k} {params[k]}" for k in ("num_leaves", "learning_rate", "min_child_samples",
                                                           "n_estimators", "seed") if k in params)
        parts = [f"{risk:<7}"]
        if fact:
            parts.append(f"{fact['trees']} trees, {fact['calibrator']} calibration,")
        parts.append(f"validation AUC {_num(metrics.get('roc_auc'))} AP {_num(metrics.get('average_precision'))} "
                     f"Brier {_num(metrics.get('brier'), 5)}, {metrics.get('positives', '?')} positives of "
                     f"{metrics.get('n', '?')}")
        if settings:
            parts.append(f"({settings})")
        lines.append(" ".join(p for p in parts if p))
    spread = metadata.get("seed_spread")
    if spread:
        lines.append(f"seed spread: {spread}")
    return lines


def summary(metadata: dict[str, Any], registry_version: str | None = None) -> str:
    """What a person needs to decide whether to trust a model, in a dozen lines."""
    training = metadata.get("training", {})
    code = metadata.get("code") or {}
    version = metadata.get("version", "?")
    lines = [f"model {version}" + (f" (trained as {metadata['trained_version']})"
                                   if metadata.get("trained_version") else "")]
    if registry_version and registry_version != version:
        lines[0] += f", filed in the registry as {registry_version}"
    built = f" by risk-engine {code.get('package')} (commit {str(code.get('commit'))[:12]})" if code else ""
    lines.append(f"trained {_when(metadata.get('created_at'))}{built}")
    lines.append(f"as of {_when(training.get('as_of'))}; learned from orders {_when(training.get('from'))} to "
                 f"{_when(training.get('valid_to'))} ({training.get('n_train', '?')} training, "
                 f"{training.get('n_valid', '?')} validation from {_when(training.get('valid_from'))}), "
                 f"maturity {training.get('maturity_days', '?')} days")
    lines.append(f"features: {len(metadata.get('feature_names', []))}, schema hash {metadata.get('schema_hash')}; "
                 f"data fingerprint {metadata.get('data_fingerprint')}")
    lines.extend(f"  {line}" for line in model_lines(metadata))
    if "policy" in metadata:
        lines.append(f"policy: {policy_words(metadata)}")
    if "costs" in metadata:
        lines.append(f"costs: {costs_words(Costs(**metadata['costs']))}")
    money = metadata.get("money")
    if money:
        rates = money["rates"]
        lines.append(f"money: amounts converted to {money['reporting_currency']} with rates {rates['source']} "
                     f"({rates['date']})")
    warnings = metadata.get("diagnostics", {}).get("warnings", [])
    lines.extend([f"warning: {w}" for w in warnings] or ["warnings: none"])
    canary = metadata.get("canary")
    if canary:
        rates_text = ", ".join(f"{k} {v:.2%}" for k, v in canary["rates"].items())
        lines.append(f"canary: {canary['rows']:,} training rows, decided at training: {rates_text}")
    return "\n".join(lines)


DIFF_SECTIONS = ("version", "training", "schema_hash", "code", "policy", "costs", "expected", "metrics", "models",
                 "money", "library_versions")


def diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Lines `key: A -> B` for every recorded setting that differs (params, policy, metrics, schema...)."""
    flat_a, flat_b = _flatten({k: a.get(k) for k in DIFF_SECTIONS}), _flatten({k: b.get(k) for k in DIFF_SECTIONS})
    lines = [_change(key, flat_a.get(key), flat_b.get(key))
             for key in sorted(set(flat_a) | set(flat_b)) if flat_a.get(key) != flat_b.get(key)]
    gone = [f for f in a.get("feature_names", []) if f not in set(b.get("feature_names", []))]
    new = [f for f in b.get("feature_names", []) if f not in set(a.get("feature_names", []))]
    if gone or new:
        lines.append(f"features: {len(gone)} only in A ({', '.join(gone[:5])}), {len(new)} only in B "
                     f"({', '.join(new[:5])})")
    if "policy" in a and "policy" in b and any(line.startswith(("policy.", "expected.")) for line in lines):
        lines.append(f"policy A: {policy_words(a)}")
        lines.append(f"policy B: {policy_words(b)}")
    return lines


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def _change(key: str, a: Any, b: Any) -> str:
    """`key: a -> b`, with every digit where the short forms would look the same (1 -> 1.000000001)."""
    shown_a, shown_b = _show(a, key), _show(b, key)
    if shown_a == shown_b:
        shown_a, shown_b = repr(a), repr(b)
    return f"{key}: {shown_a} -> {shown_b}"


def _show(value: Any, key: str = "") -> str:
    if key.startswith("policy.") and isinstance(value, int | float):  # thresholds read like the policy sentence
        return percent(value, 6)
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value)


def _num(value: Any, places: int = 4) -> str:
    return f"{value:.{places}f}" if isinstance(value, int | float) and math.isfinite(value) else "n/a"


def _when(value: Any) -> str:
    """An ISO time as "2026-02-15 00:00 UTC" (the text as given if it is not one)."""
    if not isinstance(value, str):
        return "?"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{(moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC):%Y-%m-%d %H:%M} UTC"
