"""`models show` and `models diff` texts, from a trained model's metadata."""

from __future__ import annotations

import json

from models.describe import diff, summary


def test_summary_names_version_training_schema_trees_policy_and_canary(model_dir):
    metadata = json.loads((model_dir / "metadata.json").read_text())
    text = summary(metadata)
    assert text.splitlines()[0] == f"model {metadata['version']}"
    assert f"schema hash {metadata['schema_hash']}" in text
    assert "as of 2026-02-15 00:00 UTC" in text and "by risk-engine 0.1.0" in text
    assert f"fraud   {metadata['models']['fraud']['trees']} trees" in text
    assert "policy: " in text and " USD per order" in text
    assert "costs: chargeback fee 15.00 USD, review 3.00 USD" in text
    assert "canary: " in text


def test_diff_names_changed_params_policy_and_features(model_dir):
    a = json.loads((model_dir / "metadata.json").read_text())
    b = json.loads(json.dumps(a))
    b["models"]["fraud"]["params"]["num_leaves"] = 15
    b["policy"]["decline_fraud"] = 0.5
    b["feature_names"] = a["feature_names"][1:] + ["new_feature"]
    lines = diff(a, b)
    assert "models.fraud.params.num_leaves: 31 -> 15" in lines
    assert any(line.startswith("policy.decline_fraud: ") and line.endswith("-> 50%") for line in lines)
    assert any(line.startswith("features: 1 only in A") and "new_feature" in line for line in lines)
    assert lines[-2].startswith("policy A: decline if fraud >= ")
    assert lines[-1].startswith("policy B: decline if fraud >= 50%")
    assert diff(a, a) == []


def test_a_near_zero_threshold_in_a_diff_reads_as_a_percentage_not_scientific(model_dir):
    a = json.loads((model_dir / "metadata.json").read_text())
    b = json.loads(json.dumps(a))
    a["policy"]["review_fraud"], b["policy"]["review_fraud"] = 9.5e-08, 0.031
    lines = diff(a, b)
    assert "policy.review_fraud: 0.0000095% -> 3.1%" in lines
    assert "e-0" not in "\n".join(lines)
    assert "review if fraud >= 0.0000095% (near zero: any fraud signal)" in lines[-2]
