"""The registry refuses broken models on add, promote and rollback: the canary on real trained models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.bundle import load_bundle
from models.canary import RATE_TOLERANCE, check_canary, check_model_dir
from models.registry import Registry
from risk.errors import ModelRefused


def copy_model(model_dir: Path, target: Path, **metadata_changes) -> Path:
    shutil.copytree(model_dir, target)
    if metadata_changes:
        path = target / "metadata.json"
        metadata = json.loads(path.read_text())
        for key, value in metadata_changes.items():
            metadata[key] = value(metadata) if callable(value) else value
        path.write_text(json.dumps(metadata))
    return target


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    (tmp_path / "registry").mkdir()
    return Registry(tmp_path / "registry")


def test_a_trained_model_passes_the_canary_with_its_rates_reproduced(model_dir):
    result = check_model_dir(model_dir)
    assert result.ok, result.problems
    sample = result.details["sample"]
    assert sample["rows"] > 100 and sample["rates_now"] == sample["rates_at_training"]
    assert sample["max_score_change"] == 0.0
    assert result.details["example"]["decision"] in ("approve", "review", "decline")


def test_add_refuses_a_model_without_its_fraud_trees_and_files_nothing(model_dir, registry, tmp_path):
    broken = copy_model(model_dir, tmp_path / "broken")
    (broken / "fraud.lgb.txt").unlink()
    with pytest.raises(ModelRefused, match="fraud.lgb.txt: missing"):
        registry.add(broken, "v-broken")
    assert not (registry.root / "v-broken").exists()


def test_add_refuses_a_model_without_its_fraud_model_file(model_dir, registry, tmp_path):
    broken = copy_model(model_dir, tmp_path / "broken")
    (broken / "fraud.json").unlink()
    with pytest.raises(ModelRefused, match="the fraud model is not in"):
        registry.add(broken, "v-broken")


def test_add_refuses_a_model_of_another_feature_schema(model_dir, registry, tmp_path):
    other = copy_model(model_dir, tmp_path / "other", schema_hash="0123456789abcdef",
                       feature_names=lambda m: m["feature_names"][:-1] + ["a_feature_this_code_lacks"])
    with pytest.raises(ModelRefused, match="feature schema 0123456789abcdef does not match"):
        registry.add(other, "v-other")


def test_add_refuses_a_model_whose_sample_decisions_moved(model_dir, registry, tmp_path):
    # a policy edited by hand: the models are intact, but it now declines most of the traffic
    edited = copy_model(model_dir, tmp_path / "edited",
                        policy=lambda m: dict(m["policy"], decline_fraud=0.0))  # every order declined
    with pytest.raises(ModelRefused, match="decisions on the canary sample .* moved beyond 2%: approve"):
        registry.add(edited, "v-edited")


def test_a_rate_change_within_the_tolerance_passes(model_dir):
    bundle = load_bundle(model_dir)
    recorded = bundle.metadata["canary"]["rates"]
    shifted = {"approve": recorded["approve"] - RATE_TOLERANCE / 2, "review": recorded["review"] + RATE_TOLERANCE / 2,
               "decline": recorded["decline"]}
    bundle.metadata = dict(bundle.metadata, canary=dict(bundle.metadata["canary"], rates=shifted))
    assert check_canary(bundle).ok
    shifted["review"] = recorded["review"] + RATE_TOLERANCE * 1.5
    assert "review" in check_canary(bundle).reason()


def test_a_missing_canary_sample_named_in_the_metadata_is_refused(model_dir, registry, tmp_path):
    broken = copy_model(model_dir, tmp_path / "broken")
    (broken / "canary.npz").unlink()
    with pytest.raises(ModelRefused, match="canary.npz: missing"):
        registry.add(broken, "v-broken")


def test_another_major_code_version_is_refused_and_another_commit_warns(model_dir, tmp_path):
    major = copy_model(model_dir, tmp_path / "major", code={"package": "7.0.0", "commit": "abc"})
    assert "another major version" in check_model_dir(major).reason()
    commit = copy_model(model_dir, tmp_path / "commit", code=lambda m: dict(m["code"], commit="0" * 40))
    result = check_model_dir(commit)
    assert result.ok and any("commit 000000000000" in w for w in result.warnings)


def test_promote_refuses_a_model_broken_after_it_was_added(model_dir, registry):
    registry.add(model_dir, "v-good")
    registry.promote("v-good")
    registry.add(model_dir, "v-later")
    (registry.root / "v-later" / "regret.lgb.txt").write_text("not a model")
    with pytest.raises(ModelRefused, match="regret.lgb.txt: not a LightGBM model"):
        registry.promote("v-later")
    assert registry.promoted() == "v-good"


def test_add_files_the_registry_version_into_the_copy(model_dir, registry):
    registry.add(model_dir, "hotfix-1")
    metadata = json.loads((registry.root / "hotfix-1" / "metadata.json").read_text())
    trained = json.loads((model_dir / "metadata.json").read_text())["version"]
    assert (metadata["version"], metadata["trained_version"]) == ("hotfix-1", trained)
    assert load_bundle(registry.root / "hotfix-1").version == "hotfix-1"
    assert registry.promoted() is None  # adding never serves


def test_a_model_scoring_nan_is_refused_by_the_example_order(model_dir, registry, tmp_path):
    broken = copy_model(model_dir, tmp_path / "nan")
    fraud = json.loads((broken / "fraud.json").read_text())
    fraud["calibrator"] = {"kind": "platt", "a": float("nan"), "b": 0.0}  # every fraud score NaN
    (broken / "fraud.json").write_text(json.dumps(fraud))
    with pytest.raises(ModelRefused, match="fraud scores of 2,000 of the 2,000 canary rows are not probabilities"):
        registry.add(broken, "v-nan")
