"""`risk evaluate`: summary on stdout, metrics.json and report.html on disk, one-line errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cli.main
from cli.evaluate import parse_time, register
from risk.datasets import write_orders, write_outcomes
from risk.errors import DataError, InvalidInput
from training.simulator import run_simulation


def run_evaluate(*argv: str) -> None:
    """Parse and run `evaluate` with a parser of our own, independent of cli.main's registry."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["evaluate", *argv])
    args.run(args)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A simulated world, predictions that know the truth, and random baseline predictions."""
    folder = tmp_path_factory.mktemp("evaluate")
    simulation = run_simulation(3000, 20, 17)
    write_orders(simulation.orders, folder / "orders.parquet")
    write_outcomes(simulation.outcomes, folder / "outcomes.csv")
    rng = np.random.default_rng(3)
    truth = simulation.truth
    fraud = np.clip(0.005 + 0.6 * truth["is_fraud"].to_numpy() * rng.random(3000), 0, 1)
    regret = np.clip(0.03 + 0.3 * truth["is_regret"].to_numpy() * rng.random(3000), 0, 1)
    predictions = pd.DataFrame({"order_id": simulation.orders["order_id"], "fraud_score": fraud,
                                "regret_score": regret, "decision": np.where(fraud > 0.3, "decline", "approve")})
    predictions.to_parquet(folder / "model.parquet", index=False)
    predictions.assign(fraud_score=rng.random(3000), decision="approve").to_csv(folder / "rules.csv", index=False)
    return folder


def inputs(data: Path, predictions: str = "model.parquet") -> list[str]:
    return ["--predictions", str(data / predictions), "--orders", str(data / "orders.parquet"),
            "--outcomes", str(data / "outcomes.csv"), "--quiet"]


def test_writes_metrics_and_report_beside_the_predictions_and_prints_the_summary(data, capsys) -> None:
    run_evaluate(*inputs(data))
    out = data / "model_evaluation"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fraud"]["roc_auc"] > 0.9 and "baseline" not in metrics
    assert '<img src="data:image/png;base64,' in (out / "report.html").read_text()
    printed = capsys.readouterr()
    assert "fraud ROC AUC" in printed.out and printed.err == ""


def test_baseline_is_evaluated_at_the_same_moment_and_compared(data, tmp_path, capsys) -> None:
    run_evaluate(*inputs(data), "--baseline", str(data / "rules.csv"), "--out", str(tmp_path / "cmp"),
                 "--as-of", "2026-03-10T00:00:00+01:00", "--maturity-days", "30")
    metrics = json.loads((tmp_path / "cmp" / "metrics.json").read_text())
    assert metrics["data"]["as_of"] == metrics["baseline"]["data"]["as_of"] == "2026-03-09T23:00:00+00:00"
    assert metrics["data"]["maturity_days"] == 30
    assert metrics["baseline"]["fraud"]["roc_auc"] < metrics["fraud"]["roc_auc"]
    assert 'id="baseline"' in (tmp_path / "cmp" / "report.html").read_text()
    assert "baseline" in capsys.readouterr().out.splitlines()[1]


def test_a_report_that_fails_half_way_leaves_the_previous_report_whole(data, tmp_path, monkeypatch) -> None:
    out = tmp_path / "evaluation"
    out.mkdir()
    (out / "report.html").write_text("<html>the previous report</html>")
    write_text = Path.write_text

    def full_disk(path: Path, text: str, *args, **kwargs) -> int:
        if "report" not in path.name:
            return write_text(path, text, *args, **kwargs)
        write_text(path, text[: len(text) // 2], *args, **kwargs)  # half of the page reaches the disk
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="disk full"):
        run_evaluate(*inputs(data), "--out", str(out))
    assert (out / "report.html").read_text() == "<html>the previous report</html>"
    assert json.loads((out / "metrics.json").read_text())["fraud"]["roc_auc"] > 0.9  # written whole before it
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html"]  # no temporary file left


def test_progress_goes_to_stderr(data, tmp_path, capsys) -> None:
    argv = [a for a in inputs(data) if a != "--quiet"]
    run_evaluate(*argv, "--out", str(tmp_path / "p"))
    err = capsys.readouterr().err
    assert "labelled" in err and "report.html" in err


@pytest.mark.parametrize("as_of", ["2026-03-10T00:00:00", "yesterday", "2026-03-10", "1767225600",
                                   "2026-02-30T00:00:00Z"])
def test_a_bad_as_of_is_invalid_input_in_one_line(data, as_of) -> None:
    with pytest.raises(InvalidInput, match="--as-of") as caught:
        run_evaluate(*inputs(data), "--as-of", as_of)
    assert "\n" not in caught.value.message


def test_parse_time_accepts_rfc3339_with_a_timezone() -> None:
    assert parse_time("2026-03-10T01:00:00+01:00", "--as-of") == pd.Timestamp("2026-03-10T00:00:00Z")
    assert parse_time("2026-03-10T00:00:00.5Z", "--as-of").tzinfo is not None


def test_missing_inputs_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="give --predictions, --orders and --outcomes"):
        run_evaluate("--orders", "orders.parquet")


def test_a_negative_maturity_is_invalid_input(data) -> None:
    with pytest.raises(InvalidInput, match="--maturity-days must be 0 or more"):
        run_evaluate(*inputs(data), "--maturity-days", "-1")


def test_a_missing_predictions_file_is_a_data_error(data) -> None:
    with pytest.raises(DataError, match="absent.csv: no such file"):
        run_evaluate(*inputs(data, "absent.csv"))


def test_predictions_of_unknown_orders_are_a_data_error(data, tmp_path) -> None:
    stranger = pd.DataFrame({"order_id": ["nobody"], "fraud_score": [0.1], "regret_score": [0.1],
                             "decision": ["approve"]})
    stranger.to_csv(tmp_path / "stranger.csv", index=False)
    with pytest.raises(DataError, match="1 order_id\\(s\\) not in the orders table, e.g. 'nobody'"):
        run_evaluate(*inputs(data, str(tmp_path / "stranger.csv")))


def test_through_the_risk_command_bad_input_exits_2_with_one_error_line(data, monkeypatch, capsys) -> None:
    from cli import evaluate

    if evaluate not in cli.main.COMMANDS:  # until the command is registered there
        monkeypatch.setattr(cli.main, "COMMANDS", (*cli.main.COMMANDS, evaluate))
    assert cli.main.main(["evaluate", *inputs(data), "--as-of", "soon"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("risk: error: --as-of 'soon'")


def model_with_costs(folder: Path, **costs) -> Path:
    """A model directory's metadata (all `evaluate --model` reads) with the given costs and a policy."""
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {"version": "m-costs", "costs": costs, "training": {"n_valid": 100},
                "policy": {"decline_fraud": 0.3, "review_fraud": 1.000001, "review_regret": 1.000001},
                "expected": {"cost": 4504.0 * 100, "cost_approve_all": 6002.0 * 100, "reviews_per_day": 28.0}}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def test_the_model_costs_and_capacity_price_the_decisions_unless_overridden(data, tmp_path, capsys) -> None:
    model = model_with_costs(tmp_path / "model", review_capacity_per_day=0, chargeback_fee=0.0)
    run_evaluate(*inputs(data), "--model", str(model), "--out", str(tmp_path / "a"))
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["costs"]["review_capacity_per_day"] == 0 and metrics["costs"]["chargeback_fee"] == 0
    assert metrics["policy"]["review_capacity_per_day"] == 0
    out = capsys.readouterr().out
    assert "policy: decline if fraud >= 30%; never review: about 28 reviews a day, expected cost 45.04 USD" in out
    (tmp_path / "over.json").write_text('{"review_capacity_per_day": 7}')
    run_evaluate(*inputs(data), "--model", str(model), "--costs", str(tmp_path / "over.json"),
                 "--out", str(tmp_path / "b"))
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert metrics["costs"]["review_capacity_per_day"] == 7 and metrics["costs"]["chargeback_fee"] == 0


def test_the_model_noted_beside_predictions_by_risk_score_is_used(data, tmp_path, capsys) -> None:
    import shutil

    shutil.copy(data / "model.parquet", tmp_path / "preds.parquet")
    note = {"version": "m-noted", "costs": {"review_capacity_per_day": 3, "currency": "EUR"}}
    (tmp_path / "preds.parquet.model.json").write_text(json.dumps(note))
    run_evaluate("--predictions", str(tmp_path / "preds.parquet"), "--orders", str(data / "orders.parquet"),
                 "--outcomes", str(data / "outcomes.csv"))
    metrics = json.loads((tmp_path / "preds_evaluation" / "metrics.json").read_text())
    assert metrics["costs"]["review_capacity_per_day"] == 3 and metrics["money"]["reporting_currency"] == "EUR"
    printed = capsys.readouterr()
    assert "costs: model m-noted; in EUR, review capacity 3 a day" in printed.err
    assert "cost per order (EUR)" in printed.out


def test_an_unknown_cost_setting_is_one_line_naming_the_valid_ones(data, tmp_path) -> None:
    (tmp_path / "bad.json").write_text('{"review_capcity": 7}')
    with pytest.raises(InvalidInput, match="unknown setting costs.review_capcity; valid: chargeback_fee, "):
        run_evaluate(*inputs(data), "--costs", str(tmp_path / "bad.json"))
