"""A model directory is saved whole: an interrupted save leaves the previous model as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.bundle import load_bundle
from models.risk_model import RiskModel


def test_a_save_that_fails_half_way_leaves_the_previous_model_directory_as_it_was(model_dir, tmp_path, monkeypatch):
    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bundle = load_bundle(model_dir)
    bundle.metadata["version"] = "a-newer-model"
    save = RiskModel.save

    def regret_fails(self: RiskModel, directory: Path, name: str) -> None:
        save(self, directory, name)  # the fraud model is written, then the regret model's write breaks
        if name == "regret":
            raise OSError("disk full")

    monkeypatch.setattr(RiskModel, "save", regret_fails)
    with pytest.raises(OSError, match="disk full"):
        bundle.save(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    monkeypatch.undo()
    bundle.save(out)
    assert load_bundle(out).version == "a-newer-model"
