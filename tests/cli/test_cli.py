"""The `risk` command: help, simulate, features, serve, demo, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import cli.serve
from cli.main import main
from risk.datasets import read_orders, read_outcomes
from tests.builders import train_model

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=300,
                          env=None if env is None else {**os.environ, **env})


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("[")]  # not progress
    assert len(lines) == 1 and lines[0].startswith("risk: error:"), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    return train_model(tmp_path_factory.mktemp("model"), seed=3)


@pytest.fixture
def taken_port():
    """A port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


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
    assert words in one_error_line(result.stderr)


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


def test_serve_with_a_short_api_key_is_a_one_line_error(tmp_path):
    result = run_cli("serve", "--model", str(tmp_path), env={"RISK_API_KEYS": json.dumps({"short": "checkout"})})
    assert result.returncode == 2
    assert one_error_line(result.stderr) == ("risk: error: RISK_API_KEYS: API keys must be at least 8 characters "
                                             "(1 shorter)")


def test_serve_on_a_port_in_use_is_a_one_line_error_before_loading_the_model(taken_port, tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "no-model"), "--port", str(taken_port)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"cannot listen on 127.0.0.1:{taken_port}" in line and "--port" in line


def test_serve_says_where_it_listens_which_model_and_which_backends(small_model, tmp_path):
    env = {**os.environ, "RISK_API_KEYS": json.dumps({"checkout-key-1": "checkout"})}
    command = [sys.executable, "-m", "cli.main", "serve", "--model", str(small_model), "--port", "0",
               "--data-dir", str(tmp_path / "data")]
    service = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert service.stdout is not None
        lines = [service.stdout.readline() for _ in range(4)]
        url = lines[0].split()[4]
        assert httpx.get(f"{url}/healthz", timeout=30).json() == {"status": "ok"}  # it listens where it says
        service.send_signal(signal.SIGINT)  # Ctrl-C: how the service is stopped
        assert service.wait(timeout=30) == 0
    finally:
        service.kill()
        service.communicate()
    assert lines[0].startswith("risk serve: listening on http://127.0.0.1:") and "/docs" in lines[0]
    version = json.loads((small_model / "metadata.json").read_text())["version"]
    assert lines[1].strip() == f"model: {version} from {small_model}"
    assert lines[2].strip() == f"feature state: embedded, snapshots in {tmp_path / 'data' / 'state.pkl'}"
    assert lines[3].strip() == f"decision log: SQLite at {tmp_path / 'data' / 'decisions.sqlite'}"


def test_demo_with_its_port_taken_fails_in_one_line_before_any_work(taken_port, tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--port", str(taken_port), "--orders", "1000"]) == 2
    assert f"cannot listen on 127.0.0.1:{taken_port}" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []  # nothing simulated, nothing trained


def test_a_second_demo_scores_the_example_afresh_instead_of_replaying_the_first(small_model, tmp_path,
                                                                                 monkeypatch):
    answers = []

    def score_the_example(app, listener) -> None:  # instead of uvicorn: what the printed curl command does
        listener.close()
        key = next(iter(json.loads((tmp_path / "api_keys.json").read_text())))
        with TestClient(app) as client:
            answers.append(client.post("/v1/orders/score", content=(tmp_path / "order.json").read_bytes(),
                                       headers={"X-API-Key": key, "Content-Type": "application/json"}))

    monkeypatch.setattr("cli.demo.build_model", lambda folder, n_orders: small_model)
    monkeypatch.setattr(cli.serve, "run_server", score_the_example)
    for _ in range(2):
        assert main(["demo", "--out", str(tmp_path), "--port", "0"]) == 0
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.headers.get("idempotent-replay") for answer in answers] == [None, None]


def test_the_demo_folder_is_ignored_by_git():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["demo/service/decisions.sqlite", "demo/api_keys.json", "demo/order.json"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == paths
