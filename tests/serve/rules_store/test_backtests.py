"""Backtests from the store: lists as they were at each order's moment, figures checked by hand, CLI and API alike.

The built history: six orders of one card over two days; the card is put on the block
list between the third and the fourth order. Today the card is listed, but only orders
4-6 were made while it was: a backtest reading today's lists would hit all six.
Outcomes: orders 1 and 4 fraud, order 5 a refund (regret), the others none: unknown,
as the data ends three days later, well inside the label maturity window.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from models.bundle import load_bundle
from risk.contract import Order, flatten
from risk.datasets import read_orders, read_outcomes, write_orders, write_outcomes
from serve.rules_store.database import SQLiteDatabase
from serve.rules_store.records import NewItem
from serve.rules_store.store import RulesStore
from tests.builders import make_order
from tests.serve.conftest import ANALYST, CHECKOUT, make_client
from tests.serve.rules_store.conftest import Clock
from training.score import score_period

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MOMENTS = [T + timedelta(hours=h) for h in (0, 5, 10, 26, 30, 34)]  # orders 1-6; the item is added at T + 20 h
AMOUNTS = [1000, 2000, 3000, 4000, 5000, 6000]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_small_dataset(tmp_path / "datasets" / "small")


def write_small_dataset(folder: Path) -> Path:
    """The six orders of card fp_x and their outcomes, as a data set directory (the web app's tests use it too)."""
    folder.mkdir(parents=True)
    rows = [flatten(Order.model_validate(make_order(
        order_id=f"o{n}", created_at=moment.isoformat(), amount=amount, **{"payment.card_fingerprint": "fp_x"})))
        for n, (moment, amount) in enumerate(zip(MOMENTS, AMOUNTS, strict=True), start=1)]
    write_orders(pd.DataFrame(rows), folder / "orders.csv")
    reported = (T + timedelta(days=3)).isoformat()
    write_outcomes(pd.DataFrame([
        {"order_id": "o1", "kind": "confirmed_fraud", "reported_at": reported, "source": "analyst"},
        {"order_id": "o4", "kind": "fraud_chargeback", "reported_at": reported, "source": "processor"},
        {"order_id": "o5", "kind": "refund", "reported_at": reported, "source": "seller"},
    ]), folder / "outcomes.csv")
    return folder


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """The decision database: a block list whose card was added mid-period, and one live review rule."""
    clock = Clock(T - timedelta(days=1))
    store = RulesStore(SQLiteDatabase(tmp_path / "decisions.sqlite"), clock=clock)
    store.create_list("stolen", "card_fingerprint", author="ann")
    store.create_rule("live_big", "review if amount > 5500", author="ann")
    clock.now = T + timedelta(hours=20)
    store.add_items("stolen", [NewItem("fp_x", "reported stolen")], author="ann")
    store.db.close()
    return tmp_path


def _model_decisions(model_dir: Path, dataset: Path) -> dict[str, str]:
    scored = score_period(load_bundle(model_dir), read_orders(dataset / "orders.csv"),
                          read_outcomes(dataset / "outcomes.csv"), pd.Timestamp(T), None, lambda _: None)
    return dict(zip(scored["order_id"], scored["decision"], strict=True))


def _check_hand_figures(report: dict, model: dict[str, str]) -> None:
    assert report["orders"] == 6 and report["hits"] == 3 and report["hits_by_rule"] == {"candidate": 3}
    assert report["hits_by_day"] == [{"day": "2026-03-01", "orders": 3, "hits": 0},
                                     {"day": "2026-03-02", "orders": 3, "hits": 3}]
    assert report["by_outcome"]["fraud"] == {"count": 1, "amount": {"USD": 4000.0}}
    assert report["by_outcome"]["regret"] == {"count": 1, "amount": {"USD": 5000.0}}
    assert report["by_outcome"]["unknown"] == {"count": 1, "amount": {"USD": 6000.0}}
    assert report["by_outcome"]["genuine"]["count"] == 0
    assert report["precision"] == 0.5  # o4 fraud, o5 regret among the hits whose outcome is known
    assert report["fraud_recall"] == 0.5  # o1 (before the listing) escapes, o4 is caught
    # live: the model's decision, or review for o6 (amount 6000) unless the model declines it
    live = {oid: ("review" if oid == "o6" and model[oid] == "approve" else model[oid]) for oid in model}
    expected = Counter(f"{live[oid]}->decline" for oid in ("o4", "o5", "o6") if live[oid] != "decline")
    assert report["overrides"]["pairs"] == dict(expected)
    assert report["overrides"]["changed"] == report["overrides"]["stricter"] == sum(expected.values())
    assert report["live_rules"] == {"live_big": 1}


def test_the_cli_backtest_replays_lists_as_they_were_with_figures_checked_by_hand(model_dir, dataset, history,
                                                                                 capsys):
    out = history / "report.json"
    code = main(["rules", "backtest", "--rule", "decline if payment_card_fingerprint in @stolen",
                 "--orders", str(dataset / "orders.csv"), "--outcomes", str(dataset / "outcomes.csv"),
                 "--model", str(model_dir), "--from", T.isoformat(), "--data-dir", str(history), "--out", str(out),
                 "--quiet"])

    assert code == 0, capsys.readouterr().err
    assert "hits" in capsys.readouterr().out
    _check_hand_figures(json.loads(out.read_text()), _model_decisions(model_dir, dataset))


def test_the_api_backtest_gives_the_same_report_over_a_configured_data_set(model_dir, dataset, history):
    rule = {"rule": "decline if payment_card_fingerprint in @stolen", "dataset": "small", "from": T.isoformat()}
    with make_client(model_dir, history, backtest_data_dir=history / "datasets") as client:
        response = client.post("/v1/rules/backtest", json=rule, headers=ANALYST)
        outside = client.post("/v1/rules/backtest", json={**rule, "dataset": ".."}, headers=ANALYST)
        unknown = client.post("/v1/rules/backtest", json={**rule, "dataset": "nope"}, headers=ANALYST)
        bad_rule = client.post("/v1/rules/backtest", json={**rule, "rule": "decline if amout > 1"}, headers=ANALYST)
        two = {**rule, "rules": [{"rule_id": "a", "text": "review if amount > 1"}]}
        both = client.post("/v1/rules/backtest", json=two, headers=ANALYST)
        checkout = client.post("/v1/rules/backtest", json=rule, headers=CHECKOUT)
        odd_time = client.post("/v1/rules/backtest", json={**rule, "from": "2026-01-01T00:00:00+0100"}, headers=ANALYST)

    assert response.status_code == 200, response.text
    _check_hand_figures(response.json(), _model_decisions(model_dir, dataset))
    assert outside.status_code == 422 and unknown.status_code == 404
    assert bad_rule.status_code == 422 and bad_rule.json()["column"] == 12
    assert both.status_code == 422 and checkout.status_code == 403
    assert odd_time.status_code == 422 and odd_time.json()["problems"][0]["field"] == "from", odd_time.text


def test_a_candidate_set_from_a_file_stands_alone_and_every_rule_is_under_test(model_dir, dataset, history, capsys):
    rules = history / "rules.txt"
    rules.write_text("# candidate set\nblock: decline if payment_card_fingerprint in @stolen\n"
                     "big: review if amount > 2500\n")

    code = main(["rules", "backtest", "--rules", str(rules), "--orders", str(dataset / "orders.csv"),
                 "--model", str(model_dir), "--from", T.isoformat(), "--data-dir", str(history), "--json", "--quiet"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["hits_by_rule"] == {"block": 3, "big": 4}
    assert report["by_outcome"]["unknown"]["count"] == 4  # no outcomes given: everything is recent and unknown


def test_backtest_errors_are_one_line(model_dir, dataset, history, capsys):
    base = ["rules", "backtest", "--orders", str(dataset / "orders.csv"), "--model", str(model_dir),
            "--data-dir", str(history), "--quiet"]

    for extra, expected in ((["--rule", "decline if amout > 1", "--from", T.isoformat()], "line 1, column 12"),
                            (["--rule", "review if amount > 1", "--from", "yesterday"], "RFC 3339"),
                            (["--rule", "review if amount > 1", "--from", "2030-01-01T00:00:00Z"], "no orders")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("risk: error:") and expected in err[0], err
