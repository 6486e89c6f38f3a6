"""`risk models`: list, show, promote, rollback, add, and the --registry default."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from cli.models import register
from risk.errors import DataError, InvalidInput, NotFound


@pytest.fixture(autouse=True)
def accept_fake_models(monkeypatch):
    """These fake model directories hold metadata only: the canary (tests/models/test_registry_checks.py) is
    replaced by one that accepts every model, so these tests check the registry's bookkeeping alone."""
    from models.canary import CanaryResult

    monkeypatch.setattr("models.registry._canary", lambda path: CanaryResult(version=Path(path).name))


def make_model(parent: Path, version: str, created_at: str, fraud_auc: float | None = 0.95) -> Path:
    """A fake model directory `parent/version` with a metadata.json like `risk train` writes."""
    metadata: dict[str, Any] = {
        "version": version,
        "created_at": created_at,
        "training": {"as_of": "2026-03-01T00:00:00+00:00", "n_train": 1000, "n_valid": 200},
        "metrics": {"fraud": {"roc_auc": fraud_auc, "average_precision": 0.41},
                    "regret": {"roc_auc": 0.7, "average_precision": 0.15}},
        "policy": {},
        "costs": {},
    }
    directory = parent / version
    directory.mkdir(parents=True)
    (directory / "metadata.json").write_text(json.dumps(metadata))
    return directory


def risk_models(*argv: str | Path) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["models", *map(str, argv)])
    args.run(args)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make_model(tmp_path / "registry", "20261124-221503-bbbbbb", "2026-11-24T22:15:03+00:00")
    make_model(tmp_path / "registry", "20261120-080000-aaaaaa", "2026-11-20T08:00:00+00:00", fraud_auc=None)
    return tmp_path / "registry"


def stdout_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_list_prints_a_table_oldest_first_with_the_promoted_one_starred(root, capsys):
    risk_models("promote", "20261124-221503-bbbbbb", "--registry", root)
    capsys.readouterr()
    risk_models("list", "--registry", root)
    header, older, newer = stdout_lines(capsys)
    assert header.split()[:2] == ["version", "created"] and "regret AP" in header
    assert older.split() == ["20261120-080000-aaaaaa", "2026-11-20", "08:00", "2026-03-01", "00:00",
                             "-", "0.4100", "0.7000", "0.1500"]
    assert newer.startswith("* 20261124-221503-bbbbbb") and "0.9500" in newer


def test_list_of_an_empty_registry_says_so(tmp_path, capsys):
    risk_models("list", "--registry", tmp_path)
    assert stdout_lines(capsys) == [f"no models in {tmp_path}"]


def test_registry_defaults_to_the_environment_variable(root, capsys, monkeypatch):
    monkeypatch.setenv("RISK_REGISTRY", str(root))
    risk_models("list")
    assert len(stdout_lines(capsys)) == 3


def test_registry_defaults_to_registry_in_the_working_folder(root, capsys, monkeypatch):
    monkeypatch.delenv("RISK_REGISTRY", raising=False)
    monkeypatch.chdir(root.parent)
    risk_models("list")
    assert len(stdout_lines(capsys)) == 3


def test_show_json_prints_the_metadata_as_pretty_json(root, capsys):
    risk_models("show", "20261120-080000-aaaaaa", "--json", "--registry", root)
    out = capsys.readouterr().out
    assert json.loads(out)["version"] == "20261120-080000-aaaaaa"
    assert '\n  "version"' in out


def test_promote_then_rollback(root, capsys):
    risk_models("promote", "20261120-080000-aaaaaa", "--registry", root)
    risk_models("promote", "20261124-221503-bbbbbb", "--registry", root)
    risk_models("promote", "20261124-221503-bbbbbb", "--registry", root)
    risk_models("rollback", "--registry", root)
    assert stdout_lines(capsys) == [
        "promoted 20261120-080000-aaaaaa (was none)",
        "promoted 20261124-221503-bbbbbb (was 20261120-080000-aaaaaa)",
        "20261124-221503-bbbbbb was already promoted",
        "rolled back to 20261120-080000-aaaaaa (was 20261124-221503-bbbbbb)",
    ]
    state = json.loads((root / "registry.json").read_text())
    assert state == {"promoted": "20261120-080000-aaaaaa", "history": ["20261120-080000-aaaaaa"]}


def test_add_copies_into_a_new_registry_and_refuses_to_overwrite(tmp_path, capsys):
    source = make_model(tmp_path / "out", "20261201-000000-cccccc", "2026-12-01T00:00:00+00:00")
    root = tmp_path / "fresh"
    risk_models("add", source, "--registry", root)
    assert stdout_lines(capsys) == [f"added 20261201-000000-cccccc to {root}; not serving: the promoted model is "
                                    "still none (run `risk models promote 20261201-000000-cccccc` to serve it)"]
    assert (root / "20261201-000000-cccccc" / "metadata.json").exists()
    with pytest.raises(InvalidInput, match="already in registry"):
        risk_models("add", source, "--registry", root)


def test_add_under_another_version(tmp_path, capsys):
    source = make_model(tmp_path / "out", "20261201-000000-cccccc", "2026-12-01T00:00:00+00:00")
    risk_models("add", source, "--version", "hotfix-1", "--registry", tmp_path / "registry")
    assert stdout_lines(capsys) == [f"added hotfix-1 to {tmp_path / 'registry'}; not serving: the promoted model is "
                                    "still none (run `risk models promote hotfix-1` to serve it)"]
    copied = json.loads((tmp_path / "registry" / "hotfix-1" / "metadata.json").read_text())
    assert (copied["version"], copied["trained_version"]) == ("hotfix-1", "20261201-000000-cccccc")


def test_add_promote_serves_the_new_version_and_says_so(root, tmp_path, capsys):
    risk_models("promote", "20261120-080000-aaaaaa", "--registry", root)
    source = make_model(tmp_path / "out", "20261201-000000-cccccc", "2026-12-01T00:00:00+00:00")
    capsys.readouterr()
    risk_models("add", source, "--version", "hotfix-2", "--promote", "--registry", root)
    assert "promoted it (was 20261120-080000-aaaaaa)" in capsys.readouterr().out
    assert json.loads((root / "registry.json").read_text())["promoted"] == "hotfix-2"


def test_show_prints_a_human_summary(root, capsys):
    risk_models("show", "20261120-080000-aaaaaa", "--registry", root)
    out = capsys.readouterr().out
    assert out.startswith("model 20261120-080000-aaaaaa\n")
    assert "as of 2026-03-01 00:00 UTC" in out


def test_diff_names_each_differing_setting(root, capsys):
    risk_models("diff", "20261120-080000-aaaaaa", "20261124-221503-bbbbbb", "--registry", root)
    out = capsys.readouterr().out
    assert "version: 20261120-080000-aaaaaa -> 20261124-221503-bbbbbb" in out
    assert "metrics.fraud.roc_auc: - -> 0.95" in out
    assert "training.as_of" not in out  # the same in both


@pytest.mark.parametrize(
    "argv, error, words",
    [
        (["show", "nope"], NotFound, "available: 20261124-221503-bbbbbb, 20261120-080000-aaaaaa"),
        (["promote", "nope"], NotFound, "no model version 'nope'"),
        (["rollback"], InvalidInput, "nothing to roll back to"),
        (["add", "/no/such/model"], DataError, "not a model directory"),
    ],
)
def test_bad_input_raises_a_risk_error(root, argv, error, words):
    with pytest.raises(error, match=words):
        risk_models(*argv, "--registry", root)


def test_a_missing_registry_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="does not exist"):
        risk_models("list", "--registry", tmp_path / "nowhere")


def test_corrupt_registry_json_is_a_data_error(root):
    (root / "registry.json").write_text("{oops")
    with pytest.raises(DataError, match="registry.json: not valid JSON"):
        risk_models("list", "--registry", root)


def test_an_action_is_required(capsys):
    with pytest.raises(SystemExit) as caught:
        risk_models()
    assert caught.value.code == 2 and "ACTION" in capsys.readouterr().err
