"""`risk train` label-delay options: the mode reaches the model directory, with the delays it estimated."""

from __future__ import annotations

import json

from cli.main import main


def test_train_records_its_label_delay_mode_and_the_reporting_delays(tmp_path):
    data, model = tmp_path / "data", tmp_path / "model"
    assert main(["simulate", "--orders", "20000", "--days", "40", "--seed", "4", "--world", "fixed",
                 "--out", str(data), "--quiet"]) == 0
    assert main(["train", "--orders", str(data / "orders.parquet"), "--outcomes", str(data / "outcomes.parquet"),
                 "--as-of", "2026-02-05T00:00:00Z", "--valid-days", "7", "--out", str(model), "--quiet"]) == 0
    training = json.loads((model / "metadata.json").read_text())["training"]
    assert training["label_delay"] == "correct" and training["monotone_features"] > 0
    refund = training["reporting_delays"]["regret"]["kinds"]["refund"]
    assert 3 < refund["median_days"] < 12  # the fixed world's refunds: uniform over 1-14 days
    assert main(["train", "--orders", str(data / "orders.parquet"), "--outcomes", str(data / "outcomes.parquet"),
                 "--as-of", "2026-02-05T00:00:00Z", "--label-delay", "mature", "--maturity-days", "10",
                 "--no-monotone", "--valid-days", "7", "--out", str(tmp_path / "mature"), "--quiet"]) == 0
    training = json.loads((tmp_path / "mature" / "metadata.json").read_text())["training"]
    assert training["label_delay"] == "mature" and training["monotone_features"] == 0
    assert training["reporting_delays"] == {}
