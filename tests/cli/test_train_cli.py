"""`risk train`: settings checked before any data is read, the policy in words, warnings on stderr."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from cli.main import main
from cli.train import register, summary
from models.bundle import load_bundle
from risk.errors import InvalidInput

NO_DATA = "/no/such/orders.parquet"  # a config error must win over this: no data is read before the checks


def run_train(*argv: str) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "--orders", NO_DATA, "--outcomes", NO_DATA,
                              "--as-of", "2026-02-15T00:00:00Z", "--out", "unused", "--quiet", *argv])
    args.run(args)


def config_file(tmp_path: Path, config: object) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


@pytest.mark.parametrize("config, words", [
    ({"fraud": {"num_leavs": 15}}, "unknown setting fraud.num_leavs; valid: num_leaves, learning_rate, "),
    ({"costs": {"review_capcity_per_day": 5}}, "unknown setting costs.review_capcity_per_day; valid: chargeback_fee"),
    ({"fruad": {}}, "unknown section 'fruad'; valid sections: fraud, regret, costs"),
    ({"fraud": {"learning_rate": -0.1}}, "fraud.learning_rate = -0.1: must be above 0"),
    ({"regret": {"num_leaves": "31"}}, 'regret.num_leaves = "31": must be a number'),
    ({"regret": {"n_estimators": 10.5}}, "regret.n_estimators = 10.5: must be a whole number"),
    ({"fraud": {"metric": "f1"}}, "fraud.metric = \"f1\": must be one of average_precision"),
    ({"fraud": {"monotone_method": "strict"}}, "fraud.monotone_method = \"strict\": must be one of basic"),
    ({"costs": {"currency": "usd"}}, "costs.currency = \"usd\": must be an ISO 4217 currency code"),
    ({"costs": {"review_prevents_regret": 1.5}}, "must be at least 0 and at most 1"),
    ([1, 2], "expected a JSON object with sections fraud, regret, costs"),
])
def test_a_bad_setting_is_one_line_before_any_data_is_read(tmp_path, config, words):
    with pytest.raises(InvalidInput) as caught:
        run_train("--config", config_file(tmp_path, config))
    assert words in caught.value.message and "\n" not in caught.value.message
    assert NO_DATA not in caught.value.message


def test_without_a_config_problem_the_missing_data_is_what_fails(tmp_path):
    with pytest.raises(Exception, match="no such"):
        run_train("--config", config_file(tmp_path, {"fraud": {"num_leaves": 15}}))


def test_rates_without_the_costs_currency_fail_before_any_data(tmp_path):
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps({"date": "2026-01-01", "base": "EUR", "rates": {"EUR": 1.0}}))
    with pytest.raises(InvalidInput, match="no rate for the reporting currency USD"):
        run_train("--rates", str(rates))


def test_the_summary_states_trees_settings_and_the_policy_in_words(model_dir):
    text = summary(load_bundle(model_dir))
    lines = text.splitlines()
    assert lines[0].startswith("model ")
    assert lines[1].startswith("fraud ") and " trees, " in lines[1] and "num_leaves 31" in lines[1]
    policy = next(line for line in lines if line.startswith("policy: "))
    assert "reviews a day, expected cost " in policy and " USD per order vs " in policy


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


def test_a_model_directory_whose_report_fails_half_way_leaves_the_previous_model_whole(model_dir, tmp_path,
                                                                                      monkeypatch):
    """`risk train --out DIR` over an earlier model: the new files and report are swapped in whole or not at all."""
    import shutil

    import cli.train
    from training.train import TrainConfig, TrainResult

    out = tmp_path / "model"
    shutil.copytree(model_dir, out)
    (out / "report.html").write_text("<html>the previous model's report</html>")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bundle = load_bundle(model_dir)
    bundle.metadata["version"] = "a-newer-model"

    def half_a_report(result, orders, outcomes, config, path: Path) -> None:
        path.write_text("<html>half")
        raise OSError("disk full")

    monkeypatch.setattr(cli.train, "write_training_report", half_a_report)
    with pytest.raises(OSError, match="disk full"):
        cli.train.write_model_directory(out, TrainResult(bundle, None), None, None, TrainConfig(as_of=None))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directory left beside it
