"""The model registry: listing, promotion history, rollback, adding models, and corrupt files as clear errors."""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from models.registry import Registry, read_metadata
from risk.errors import DataError, InvalidInput, NotFound


@pytest.fixture(autouse=True)
def accept_fake_models(monkeypatch):
    """These fake model directories hold metadata only: the canary (tests/models/test_registry_checks.py) is
    replaced by one that accepts every model, so these tests check the registry's bookkeeping alone."""
    from models.canary import CanaryResult

    monkeypatch.setattr("models.registry._canary", lambda path: CanaryResult(version=Path(path).name))


def make_model(parent: Path, name: str, created_at: str | None = "2026-11-24T22:15:03+00:00",
               **overrides: Any) -> Path:
    """A fake model directory `parent/name` with a metadata.json like `risk train` writes; None drops a key."""
    metadata: dict[str, Any] = {
        "version": name,
        "created_at": created_at,
        "training": {"from": "2026-01-01T00:00:00+00:00", "as_of": "2026-03-01T00:00:00+00:00",
                     "maturity_days": 60.0, "n_train": 1000, "n_valid": 200},
        "data_fingerprint": "ab12cd" * 4,
        "feature_names": ["amount", "post_age_seconds"],
        "schema_hash": "f00d",
        "library_versions": {"lightgbm": "4.5.0"},
        "metrics": {"fraud": {"roc_auc": 0.95, "average_precision": 0.41},
                    "regret": {"roc_auc": 0.70, "average_precision": 0.15}},
        "policy": {"fraud_decline": 0.9},
        "costs": {"review": 300},
    }
    metadata.update(overrides)
    metadata = {key: value for key, value in metadata.items() if value is not None}
    directory = parent / name
    directory.mkdir(parents=True)
    (directory / "metadata.json").write_text(json.dumps(metadata))
    (directory / "fraud.txt").write_text("model bytes")
    return directory


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    root = tmp_path / "registry"
    make_model(root, "v-b", created_at="2026-11-02T00:00:00+00:00")
    make_model(root, "v-a", created_at="2026-11-03T00:00:00+00:00")
    make_model(root, "v-c", created_at="2026-11-01T00:00:00+00:00")
    return Registry(root)


def state(registry: Registry) -> dict[str, Any]:
    return json.loads((registry.root / "registry.json").read_text())


def test_registry_root_must_exist(tmp_path):
    with pytest.raises(NotFound, match="does not exist"):
        Registry(tmp_path / "nowhere")


def test_registry_root_that_is_a_file_is_not_found(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(NotFound, match="not a directory"):
        Registry(tmp_path / "file")


def test_versions_are_sorted_by_creation_time_not_by_name(registry):
    assert [info.version for info in registry.versions()] == ["v-c", "v-b", "v-a"]


def test_versions_compare_times_with_different_offsets_and_none_first(tmp_path):
    make_model(tmp_path, "late", created_at="2026-11-01T10:00:00+00:00")
    make_model(tmp_path, "early", created_at="2026-11-01T11:00:00+02:00")  # 09:00 UTC
    make_model(tmp_path, "unknown", created_at=None)
    assert [info.version for info in Registry(tmp_path).versions()] == ["unknown", "early", "late"]


def test_version_info_carries_times_metrics_and_promoted_flag(registry):
    registry.promote("v-b")
    info = {info.version: info for info in registry.versions()}
    assert info["v-b"].promoted and not info["v-a"].promoted
    assert info["v-b"].created_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert info["v-b"].as_of == datetime(2026, 3, 1, tzinfo=UTC)
    assert (info["v-b"].fraud_auc, info["v-b"].fraud_ap) == (0.95, 0.41)
    assert (info["v-b"].regret_auc, info["v-b"].regret_ap) == (0.70, 0.15)
    assert info["v-b"].path == registry.root / "v-b"


def test_missing_optional_metadata_gives_none_not_an_error(tmp_path):
    make_model(tmp_path, "bare", created_at=None, training=None, metrics={"fraud": {"roc_auc": 0.9}})
    (info,) = Registry(tmp_path).versions()
    assert (info.created_at, info.as_of, info.fraud_ap, info.regret_auc) == (None, None, None, None)
    assert info.fraud_auc == 0.9


def test_folders_without_metadata_hidden_folders_and_files_are_not_models(registry):
    (registry.root / "notes").mkdir()
    make_model(registry.root, ".v-d.abc.tmp")  # an `add` interrupted half-way
    (registry.root / "README").write_text("")
    assert {info.version for info in registry.versions()} == {"v-a", "v-b", "v-c"}


def test_show_returns_the_metadata(registry):
    metadata = registry.show("v-a")
    assert metadata["version"] == "v-a" and metadata["costs"] == {"review": 300}


def test_unknown_version_error_lists_the_available_versions(registry):
    with pytest.raises(NotFound, match=r"no model version 'v-z'.*available: v-c, v-b, v-a"):
        registry.show("v-z")


def test_unknown_version_error_lists_at_most_ten(tmp_path):
    for day in range(1, 13):
        make_model(tmp_path, f"202611{day:02d}-000000-abcdef")
    with pytest.raises(NotFound) as caught:
        Registry(tmp_path).show("nope")
    assert "20261112-000000-abcdef" in caught.value.message and "20261102-000000-abcdef" not in caught.value.message
    assert caught.value.message.endswith("and 2 more")


def test_unknown_version_in_an_empty_registry_says_it_is_empty(tmp_path):
    with pytest.raises(NotFound, match="holds no models"):
        Registry(tmp_path).promote("v-a")


@pytest.mark.parametrize("version", ["../registry/v-a", "", ".", "..", "v-a/"])
def test_path_like_versions_are_unknown_and_never_leave_the_registry(registry, version):
    with pytest.raises(NotFound):
        registry.show(version)


def test_a_new_registry_has_nothing_promoted(registry):
    assert registry.promoted() is None and registry.promoted_path() is None
    assert not (registry.root / "registry.json").exists()


def test_promote_makes_a_version_live_and_records_it(registry):
    registry.promote("v-a")
    assert registry.promoted() == "v-a" and registry.promoted_path() == registry.root / "v-a"
    assert state(registry) == {"promoted": "v-a", "history": ["v-a"]}


def test_promoting_the_promoted_version_again_is_a_no_op(registry):
    registry.promote("v-a")
    registry.promote("v-b")
    registry.promote("v-b")
    assert state(registry) == {"promoted": "v-b", "history": ["v-a", "v-b"]}


def test_promoting_an_unknown_version_changes_nothing(registry):
    registry.promote("v-a")
    with pytest.raises(NotFound):
        registry.promote("v-z")
    assert state(registry) == {"promoted": "v-a", "history": ["v-a"]}


def test_promoting_a_model_with_corrupt_metadata_is_refused(registry):
    (registry.root / "v-a" / "metadata.json").write_text("{")
    with pytest.raises(DataError, match="v-a/metadata.json"):
        registry.promote("v-a")
    assert registry.promoted() is None


def test_rollback_repromotes_the_previous_version(registry):
    registry.promote("v-a")
    registry.promote("v-b")
    assert registry.rollback() == "v-a"
    assert state(registry) == {"promoted": "v-a", "history": ["v-a"]}


def test_rollback_walks_back_through_history(registry):
    for version in ("v-a", "v-b", "v-a", "v-c"):
        registry.promote(version)
    assert [registry.rollback(), registry.rollback(), registry.rollback()] == ["v-a", "v-b", "v-a"]
    with pytest.raises(InvalidInput, match="nothing to roll back to"):
        registry.rollback()


@pytest.mark.parametrize("promotions", [[], ["v-a"]])
def test_rollback_with_nothing_before_is_invalid_and_changes_nothing(registry, promotions):
    for version in promotions:
        registry.promote(version)
    with pytest.raises(InvalidInput, match="nothing to roll back to"):
        registry.rollback()
    assert registry.promoted() == (promotions[-1] if promotions else None)


def test_rollback_to_a_deleted_version_is_refused(registry):
    registry.promote("v-a")
    registry.promote("v-b")
    shutil.rmtree(registry.root / "v-a")
    with pytest.raises(NotFound, match="cannot roll back to v-a"):
        registry.rollback()
    assert registry.promoted() == "v-b"


def test_promoted_path_of_a_deleted_model_is_not_found(registry):
    registry.promote("v-a")
    shutil.rmtree(registry.root / "v-a")
    with pytest.raises(NotFound, match="promoted model v-a is missing"):
        registry.promoted_path()


@pytest.mark.parametrize(
    "content",
    [
        '{"promoted": "v-a", "hist',
        "[1, 2]",
        '{"promoted": "v-a", "history": "v-a"}',
        '{"promoted": "v-b", "history": ["v-a"]}',
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_corrupt_registry_json_is_a_data_error_naming_the_file(registry, content):
    (registry.root / "registry.json").write_text(content, encoding="latin-1")
    for call in (registry.promoted, registry.versions, lambda: registry.promote("v-a"), registry.rollback):
        with pytest.raises(DataError, match="registry.json"):
            call()


def test_corrupt_metadata_is_a_data_error_naming_the_file(registry):
    (registry.root / "v-b" / "metadata.json").write_text("not json")
    for call in (registry.versions, lambda: registry.show("v-b")):
        with pytest.raises(DataError, match=r"v-b/metadata.json: not valid JSON"):
            call()


def test_unparseable_created_at_is_a_data_error_naming_the_file(tmp_path):
    make_model(tmp_path, "v-a", created_at="yesterday")
    with pytest.raises(DataError, match=r"v-a/metadata.json: created_at 'yesterday'"):
        Registry(tmp_path).versions()


def test_read_metadata_of_a_folder_without_it_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not a model directory"):
        read_metadata(tmp_path)


def test_read_metadata_that_is_not_an_object_is_a_data_error(tmp_path):
    (tmp_path / "metadata.json").write_text("[]")
    with pytest.raises(DataError, match="expected a JSON object"):
        read_metadata(tmp_path)


def test_add_copies_a_model_under_its_version(registry, tmp_path):
    source = make_model(tmp_path / "out", "v-new")
    assert registry.add(source) == "v-new"
    assert (registry.root / "v-new" / "fraud.txt").read_text() == "model bytes"
    assert registry.show("v-new") == read_metadata(source)
    assert source.exists()  # a copy, not a move


def test_add_under_an_explicit_version(registry, tmp_path):
    source = make_model(tmp_path / "out", "v-new", version=None)
    assert registry.add(source, "v-renamed") == "v-renamed"
    assert (registry.root / "v-renamed" / "metadata.json").exists()


def test_add_refuses_to_overwrite_an_existing_version(registry, tmp_path):
    source = make_model(tmp_path / "out", "v-a", created_at="2027-01-01T00:00:00+00:00")
    with pytest.raises(InvalidInput, match="v-a is already in registry"):
        registry.add(source)
    assert registry.show("v-a")["created_at"] == "2026-11-03T00:00:00+00:00"


@pytest.mark.parametrize("version", [None, "../escape", ".hidden"])
def test_add_without_a_usable_version_is_invalid(registry, tmp_path, version):
    source = make_model(tmp_path / "out", "v-new", version=None)
    with pytest.raises(InvalidInput, match="no usable version"):
        registry.add(source, version)


def test_a_failed_add_leaves_no_partial_model(registry, tmp_path, monkeypatch):
    source = make_model(tmp_path / "out", "v-new")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", disk_full)
    with pytest.raises(DataError, match="No space left"):
        registry.add(source)
    assert sorted(path.name for path in registry.root.iterdir()) == [".registry.lock", "v-a", "v-b", "v-c"]


def test_registry_json_is_written_atomically_leaving_no_temporary_file(registry):
    registry.promote("v-a")
    registry.promote("v-b")
    registry.rollback()
    assert not list(registry.root.glob("*.tmp")) and not list(registry.root.glob(".*.tmp"))


def test_a_crash_while_writing_keeps_the_previous_registry_json(registry, monkeypatch):
    registry.promote("v-a")

    def crash(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        registry.promote("v-b")
    monkeypatch.undo()
    assert state(registry) == {"promoted": "v-a", "history": ["v-a"]}
    assert not list(registry.root.glob(".*.tmp"))


def test_concurrent_promotions_lose_none(tmp_path):
    versions = [f"v-{i}" for i in range(12)]
    for version in versions:
        make_model(tmp_path, version)
    registry = Registry(tmp_path)
    threads = [threading.Thread(target=registry.promote, args=(version,)) for version in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(state(registry)["history"]) == sorted(versions)
