"""A file written through risk/files.py is the old one or the new one, never half of either."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from risk.files import write_atomically, write_text_atomically


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
