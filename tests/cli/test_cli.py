"""The `risk` command: help, simulate, features, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from cli.main import main
from risk.datasets import read_orders, read_outcomes


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=300)


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("simulate", "features", "demo"):
        assert command in result.stdout


def test_simulate_writes_contract_tables_with_progress(tmp_path):
    result = run_cli("simulate", "--orders", "3000", "--days", "10", "--seed", "3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "writing 3,000 orders" in result.stderr
    orders = read_orders(tmp_path / "orders.parquet")
    outcomes = read_outcomes(tmp_path / "outcomes.parquet")
    assert len(orders) == 3000 and len(outcomes) > 0


def test_simulate_csv_format_round_trips(tmp_path):
    assert main(["simulate", "--orders", "500", "--days", "5", "--out", str(tmp_path), "--format", "csv",
                 "--quiet"]) == 0
    assert len(read_orders(tmp_path / "orders.csv")) == 500


@pytest.mark.parametrize(
    "args, words",
    [
        (["simulate", "--orders", "0"], "--orders must be at least 1"),
        (["features", "--orders", "/no/such/orders.parquet", "--out", "x.parquet"], "no such file"),
        (["features"], "give --orders and --out"),
        (["features", "--orders", "o.csv", "--out", "features.txt"], "use a .parquet or .csv"),
    ],
)
def test_bad_input_gives_one_line_error_and_exit_2(args, words, tmp_path):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("[")]  # not progress
    assert len(lines) == 1 and lines[0].startswith("risk: error:") and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_features_list_describes_every_feature():
    result = run_cli("features", "--list")
    assert result.returncode == 0
    assert "order_count_by_card_1h" in result.stdout
    assert "Distinct cards seen with this device" in result.stdout


def test_features_writes_one_row_per_order(examples, tmp_path):
    out = tmp_path / "features.parquet"
    code = main(["features", "--orders", str(examples / "orders.csv"),
                 "--outcomes", str(examples / "outcomes.csv"), "--out", str(out), "--quiet"])
    assert code == 0
    features = pd.read_parquet(out)
    assert list(features["order_id"]) == ["ord_8f2c1a", "ord_8f2c1b", "ord_8f2c1c"]
    assert features.loc[1, "order_count_by_seller_1h"] == 1


def test_export_without_a_log_is_a_clear_error(tmp_path):
    result = run_cli("export", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no decision log" in result.stderr


def test_export_writes_the_log_as_contract_tables(tmp_path, examples):
    import json

    from serve.decision_log import SQLiteDecisionLog

    order = json.loads((examples / "order.json").read_text())
    with SQLiteDecisionLog(tmp_path / "decisions.sqlite") as log:
        log.record(order["order_id"], "h", pd.Timestamp(order["created_at"]).to_pydatetime(), order, None,
                   {"decision": "approve"}, "m1")
        log.record_outcomes([json.loads((examples / "outcome.json").read_text())])
    assert main(["export", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert list(read_orders(tmp_path / "out" / "orders.parquet")["order_id"]) == ["ord_8f2c1a"]
    assert len(read_outcomes(tmp_path / "out" / "outcomes.parquet")) == 1
