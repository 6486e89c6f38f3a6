"""A file written through risk/files.py is the old one or the new one, never half of either."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from risk.files import replace_directory, write_atomically, write_text_atomically


def test_writing_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "registry.json"
    target.write_text("old")

    write_text_atomically(target, "new ✓")

    assert target.read_text(encoding="utf-8") == "new ✓"
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]


def test_a_writer_that_fails_half_way_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "orders.parquet"
    target.write_bytes(b"old")

    def fail_half_way(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, fail_half_way)

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["orders.parquet"]


def test_a_failed_rename_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.pkl"
    target.write_bytes(b"old")

    def refuse(source: str, destination: str) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="read-only"):
        write_atomically(target, lambda path: path.write_bytes(b"new"))

    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.pkl"]


def test_the_writer_gets_a_hidden_file_beside_the_target_with_its_suffix(tmp_path: Path) -> None:
    seen: list[Path] = []

    def write(path: Path) -> None:
        seen.append(path)
        path.write_text("a,b\n")

    write_atomically(tmp_path / "outcomes.csv", write)

    assert seen[0].parent == tmp_path and seen[0].name.startswith(".outcomes.") and seen[0].suffix == ".csv"
    assert (tmp_path / "outcomes.csv").read_text() == "a,b\n"


def test_a_file_that_did_not_exist_is_created(tmp_path: Path) -> None:
    write_text_atomically(tmp_path / "new.json", "{}")

    assert (tmp_path / "new.json").read_text() == "{}"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_directory_is_replaced_whole_with_nothing_left_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "model"
    (target / "old_only").mkdir(parents=True)
    (target / "metadata.json").write_text("old")
    (target / "old_only" / "x").write_text("old")

    def write(directory: Path) -> None:
        (directory / "metadata.json").write_text("new")
        (directory / "report.html").write_text("new report")

    replace_directory(target, write)

    assert _tree(target) == {"metadata.json": b"new", "report.html": b"new report"}
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_directory_writer_that_fails_half_way_leaves_the_old_directory_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "fraud.json").write_text("old fraud")
    (target / "metadata.json").write_text("old metadata")
    before = _tree(target)

    def fail_half_way(directory: Path) -> None:
        (directory / "fraud.json").write_text("new fraud")
        (directory / "metadata.json").write_text('{"half')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        replace_directory(target, fail_half_way)

    assert _tree(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_new_directory_is_created_and_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    replace_directory(tmp_path / "deep" / "model", lambda d: (d / "a").write_text("a"))
    assert (tmp_path / "deep" / "model" / "a").read_text() == "a"
    (tmp_path / "file").write_text("keep")
    with pytest.raises(NotADirectoryError):
        replace_directory(tmp_path / "file", lambda d: None)
    assert (tmp_path / "file").read_text() == "keep"
