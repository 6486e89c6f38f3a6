"""The backtest page: the API's backtest run from a form (a typed rule or a stored one, a period), its figures and
its hits-per-day chart; refused rules shown inline; the service's bounds (orders replayed, one at a time) shown as
messages, for the API alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.serve.rules_store.conftest import Clock
from tests.serve.rules_store.test_backtests import T, write_small_dataset
from tests.serve.ui.conftest import ADMIN_KEY, add_users, build_app, csrf_of, log_in

STOLEN = "decline if payment_card_fingerprint in @stolen"


@pytest.fixture
def backtest_client(review_model_dir, tmp_path):
    """The six orders of card fp_x as data set `small`; fp_x put on @stolen between orders 3 and 4 (T + 20 h);
    a live rule `live_big`; alice logged in."""
    write_small_dataset(tmp_path / "datasets" / "small")
    app = build_app(review_model_dir, tmp_path, backtest_data_dir=tmp_path / "datasets")
    add_users(app, ("alice", "analyst"))
    store = app.state.rules.store
    from serve.rules_store.records import NewItem

    real, store.clock = store.clock, Clock(T - timedelta(days=1))
    store.create_list("stolen", "card_fingerprint", author="ann")
    store.create_rule("live_big", "review if amount > 5500", author="ann")
    store.clock.now = T + timedelta(hours=20)
    store.add_items("stolen", [NewItem("fp_x", "reported stolen")], author="ann")
    store.clock = real
    with TestClient(app, raise_server_exceptions=False) as client:
        log_in(client, "alice")
        yield client


def run(client, **fields: str):
    token = csrf_of(client.get("/ui/backtest").text)
    return client.post("/ui/backtest", data={"csrf_token": token, "dataset": "small", "start": T.isoformat(),
                                             **fields})


def test_a_typed_rule_shows_the_apis_figures_and_a_chart_of_hits_per_day(backtest_client) -> None:
    page = run(backtest_client, text=STOLEN).text

    result = page[page.index('id="result"'):]
    assert '<b id="hits">3</b>' in result and "6 orders replayed" in result  # lists as they were: not 6 hits
    assert result.count("<b>50%</b>") == 2  # precision and fraud recall, as the API's report (0.5, 0.5)
    assert 'aria-label="orders and hits per day"' in result and "2026-03-01" in result and "2026-03-02" in result
    assert "<td>fraud</td><td class=\"num\">1</td><td class=\"num\">40.00 USD</td>" in result
    assert "live_big v1" in result and "@stolen v2" in result
    # the review model's policy reviews every order: the block list's three hits turn review into decline
    assert '<b id="changed">3</b>' in result and "<td>review-&gt;decline</td><td class=\"num\">3</td>" in result


def test_a_stored_rule_chosen_without_text_is_tried_with_its_latest_text(backtest_client) -> None:
    backtest_client.app.state.rules.store.create_rule("block", STOLEN, author="bob", mode="test")
    prefilled = backtest_client.get("/ui/backtest?rule_id=block").text
    assert f">{STOLEN}</textarea>" in prefilled and '<option value="block" selected>' in prefilled

    page = run(backtest_client, rule_id="block").text

    assert '<b id="hits">3</b>' in page and "<tr><td>block</td><td class=\"num\">3</td></tr>" in page


def test_a_rule_that_does_not_compile_is_shown_beside_its_text(backtest_client) -> None:
    answer = run(backtest_client, text="decline if amout > 1")

    assert answer.status_code == 422 and 'id="rule-problem"' in answer.text and "column 12" in answer.text
    assert 'id="result"' not in answer.text


def test_the_services_bounds_refuse_at_once_with_a_message_on_the_page_and_in_the_api(backtest_client) -> None:
    rules = backtest_client.app.state.rules
    rules.max_orders = 5
    too_many = run(backtest_client, text=STOLEN)
    api = backtest_client.post("/v1/rules/backtest", headers={"X-API-Key": ADMIN_KEY},
                               json={"rule": STOLEN, "dataset": "small", "from": T.isoformat()})
    rules.max_orders = 1000
    with rules._backtesting:  # another backtest running in this process
        busy = run(backtest_client, text=STOLEN)

    assert too_many.status_code == 422 and "holds 6 orders" in too_many.text
    assert "RISK_BACKTEST_MAX_ORDERS" in too_many.text
    assert api.status_code == 422 and "RISK_BACKTEST_MAX_ORDERS" in api.text
    assert busy.status_code == 429 and "another backtest is running" in busy.text
    assert run(backtest_client, text=STOLEN).status_code == 200


def test_an_unknown_data_set_or_a_bad_period_is_a_message_not_an_error_page(backtest_client) -> None:
    unknown = run(backtest_client, text=STOLEN, dataset="nope")
    empty = run(backtest_client, text=STOLEN, start="2030-01-01T00:00:00Z")
    garbled = run(backtest_client, text=STOLEN, start="yesterday")

    assert unknown.status_code == 404 and "no data set" in unknown.text and 'class="refused"' in unknown.text
    assert empty.status_code == 422 and "no orders created" in empty.text
    assert garbled.status_code == 422 and "from: not an RFC 3339 time" in garbled.text
