"""Rules and lists through the API: analysts change them, the next order is decided by them, the log says which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import make_order
from tests.serve.conftest import ADMIN, ANALYST, CHECKOUT, make_client


@pytest.fixture
def named_client(model_dir, tmp_path):
    names = {"analyst-key-1": "ann", "admin-key-0001": "root"}
    with make_client(model_dir, tmp_path, api_key_names=names) as test_client:
        yield test_client


def _now_order(order_id: str, at: datetime | None = None, **overrides) -> dict:
    moment = at or datetime.now(UTC) + timedelta(seconds=1)
    return make_order(order_id=order_id, created_at=moment.isoformat().replace("+00:00", "Z"), **overrides)


def _score(client, order: dict) -> dict:
    response = client.post("/v1/orders/score", json=order, headers=CHECKOUT)
    assert response.status_code == 200, response.text
    return response.json()


def _rule(client, rule_id: str, text: str, headers=ANALYST, **fields):
    return client.post("/v1/rules", json={"rule_id": rule_id, "text": text, **fields}, headers=headers)


def test_a_rule_an_analyst_creates_decides_the_next_order_and_the_log_names_its_version(named_client):
    created = _rule(named_client, "big", "decline if amount > 4000", why="wave of big orders")
    assert created.status_code == 201, created.text
    assert created.json()["author"] == "ann" and created.json()["live_version"] == 1

    decision = _score(named_client, _now_order("o1"))

    assert decision["decision"] == "decline"
    assert decision["rules"][0]["rule_id"] == "big" and decision["rules"][0]["description"].startswith("decided")
    assert decision["reasons"][0]["code"] == "RULE:big"
    service = named_client.app.state.service
    log = service.engine.decisions
    [(epoch,)] = log._run("t", lambda c: c.execute("SELECT rules_epoch FROM decisions WHERE order_id='o1'").fetchall())
    versions = named_client.app.state.rules.store.versions_at(epoch)
    assert versions.rules == {"big": 1}


def test_test_mode_rules_are_reported_and_logged_but_never_act(named_client):
    for rule_id, action in (("t_approve", "approve"), ("t_decline", "decline")):
        assert _rule(named_client, rule_id, f"{action} if amount > 0", mode="test").status_code == 201

    decision = _score(named_client, _now_order("o1"))

    policy = named_client.app.state.service.engine.scorer.bundle.policy
    assert decision["decision"] == policy.decide(decision["fraud_score"], decision["regret_score"])
    assert {m["rule_id"]: m["description"].startswith("test mode:") for m in decision["rules"]} == {
        "t_approve": True, "t_decline": True}
    assert not any(r["code"].startswith("RULE:") for r in decision["reasons"])
    logged = named_client.get("/v1/decisions/o1", headers=ANALYST).json()
    assert [m["rule_id"] for m in logged["rules"]] == ["t_approve", "t_decline"]


def test_a_list_item_counts_until_the_microsecond_it_expires(named_client):
    expires = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=500)
    assert named_client.post("/v1/lists", json={"name": "stolen", "kind": "card_fingerprint"},
                             headers=ANALYST).status_code == 201
    added = named_client.post("/v1/lists/stolen/items", headers=ANALYST, json={"items": [
        {"value": "card_fp_33aa", "reason": "reported stolen", "expires_at": expires.isoformat()}]})
    assert added.status_code == 200, added.text
    assert _rule(named_client, "block", "decline if payment_card_fingerprint in @stolen").status_code == 201

    before = _score(named_client, _now_order("o_before", expires - timedelta(microseconds=1)))
    at = _score(named_client, _now_order("o_at", expires))

    assert before["decision"] == "decline" and {m["rule_id"] for m in before["rules"]} == {"block", "@stolen"}
    assert "reported stolen" in next(m for m in before["rules"] if m["rule_id"] == "@stolen")["description"]
    assert at["rules"] == []
    shown = named_client.get("/v1/lists/stolen", headers=ANALYST).json()
    assert shown["items"][0]["expires_at"].startswith(expires.isoformat()[:26])


def test_a_list_shows_each_item_with_who_added_it_its_span_and_versions(named_client):
    assert named_client.post("/v1/lists", json={"name": "stolen", "kind": "card_fingerprint"},
                             headers=ANALYST).status_code == 201
    for value in ("card_fp_1", "card_fp_2"):
        assert named_client.post("/v1/lists/stolen/items", headers=ANALYST,
                                 json={"items": [{"value": value, "reason": "reported stolen"}]}).status_code == 200
    assert named_client.post("/v1/lists/stolen/items/remove", headers=ANALYST,
                             json={"values": ["card_fp_1"]}).status_code == 200

    shown = named_client.get("/v1/lists/stolen?include_removed=true", headers=ANALYST).json()

    removed, kept = shown["items"]
    assert set(removed) == {"value", "reason", "author", "added_at", "expires_at", "removed_at", "added_version",
                            "removed_version"}
    assert (removed["value"], removed["reason"], removed["expires_at"]) == ("card_fp_1", "reported stolen", None)
    assert (removed["added_version"], removed["removed_version"], kept["added_version"]) == (2, 4, 3)
    assert removed["removed_at"] is not None and kept["removed_at"] is None and kept["removed_version"] is None
    assert datetime.fromisoformat(removed["added_at"]) <= datetime.fromisoformat(removed["removed_at"])
    assert shown["list"]["version"] == 4 and shown["list"]["items"] == 1


def test_a_list_item_expiry_that_is_not_rfc_3339_gets_422_naming_it(named_client):
    assert named_client.post("/v1/lists", json={"name": "odd_expiry", "kind": "card_fingerprint"},
                             headers=ANALYST).status_code == 201
    for text in ("2030-01-01T00:00:00+0100", "2030-01-01T00:00Z", "1893456000"):
        response = named_client.post("/v1/lists/odd_expiry/items", headers=ANALYST,
                                     json={"items": [{"value": "card_fp_1", "expires_at": text}]})
        assert response.status_code == 422, (text, response.text)
        (problem,) = response.json()["problems"]
        assert problem["field"] == "items.0.expires_at" and "RFC 3339" in problem["reason"], problem


def test_checkout_keys_may_not_read_or_change_rules_and_lists(named_client):
    for method, path, body in (("get", "/v1/rules", None), ("post", "/v1/rules", {"rule_id": "x", "text": "x"}),
                               ("get", "/v1/lists", None), ("post", "/v1/lists", {"name": "x", "kind": "device"}),
                               ("post", "/v1/rules/backtest", {})):
        response = named_client.request(method, path, json=body, headers=CHECKOUT)
        assert response.status_code == 403, (path, response.text)
        assert named_client.request(method, path, json=body).status_code == 401


def test_a_rule_that_does_not_compile_gets_422_with_its_line_and_column(named_client):
    response = _rule(named_client, "typo", "decline if amout > 5")

    body = response.json()
    assert response.status_code == 422
    assert (body["line"], body["column"], body["position"]) == (1, 12, 11)
    assert "amout" in body["reason"] and body["problems"][0]["field"] == "text"
    assert named_client.get("/v1/rules", headers=ANALYST).json() == {"rules": []}


def test_an_edit_based_on_a_stale_version_gets_409_and_unknown_names_404(named_client):
    _rule(named_client, "big", "decline if amount > 4000")
    assert named_client.patch("/v1/rules/big", json={"text": "decline if amount > 5000", "base_version": 1},
                              headers=ANALYST).status_code == 200
    stale = named_client.patch("/v1/rules/big", json={"text": "decline if amount > 6000", "base_version": 1},
                               headers=ANALYST)

    assert stale.status_code == 409 and "version 2" in stale.json()["message"]
    assert named_client.get("/v1/rules/nope", headers=ANALYST).status_code == 404
    assert named_client.get("/v1/lists/nope", headers=ANALYST).status_code == 404
    assert named_client.post("/v1/lists/nope/items", json={"items": [{"value": "a"}]},
                             headers=ANALYST).status_code == 404


def test_history_and_restore_through_the_api(named_client):
    _rule(named_client, "big", "decline if amount > 4000")
    named_client.post("/v1/rules/big/disable", json={"why": "quiet day"}, headers=ADMIN)
    restored = named_client.post("/v1/rules/big/restore", json={"version": 1}, headers=ANALYST)

    history = named_client.get("/v1/rules/big/history", headers=ANALYST).json()

    assert restored.status_code == 200 and restored.json()["version"] == 3 and restored.json()["enabled"]
    assert [(v["change"], v["author"]) for v in history["versions"]] == [
        ("create", "ann"), ("disable", "root"), ("restore", "ann")]
    assert history["audit"][1]["why"] == "quiet day" and history["audit"][1]["before"]["enabled"] is True


def test_with_approval_a_decline_rule_acts_only_once_a_second_person_approved(model_dir, tmp_path):
    names = {"analyst-key-1": "ann", "admin-key-0001": "root"}
    with make_client(model_dir, tmp_path, api_key_names=names, rules_require_approval=True) as client:
        created = _rule(client, "big", "decline if amount > 4000")
        assert created.json()["pending"] and created.json()["live_version"] is None
        assert _score(client, _now_order("o1"))["rules"] == []
        assert client.post("/v1/rules/big/approve", json={}, headers=ANALYST).status_code == 403  # not an admin

        approved = client.post("/v1/rules/big/approve", json={"why": "looked at the backtest"}, headers=ADMIN)

        assert approved.status_code == 200 and approved.json()["author"] == "root"
        assert _score(client, _now_order("o2"))["decision"] == "decline"
        own = _rule(client, "own", "decline if amount > 1", headers=ADMIN)
        assert own.json()["pending"]
        assert client.post("/v1/rules/own/approve", json={}, headers=ADMIN).status_code == 403  # its own author


def test_confirmed_fraud_from_an_analyst_blocks_the_card_and_device_as_author_auto(model_dir, tmp_path):
    lists = {"card_fingerprint": "blocked_cards", "device": "blocked_devices"}
    with make_client(model_dir, tmp_path, auto_block_lists=lists) as client:
        _score(client, _now_order("o1"))
        _score(client, _now_order("o2", **{"payment.card_fingerprint": "fp_buyer_said", "session.device_id": "d2"}))
        reported = datetime.now(UTC).isoformat()
        outcomes = [{"order_id": "o1", "kind": "confirmed_fraud", "reported_at": reported, "source": "analyst"},
                    {"order_id": "o2", "kind": "confirmed_fraud", "reported_at": reported, "source": "buyer"},
                    {"order_id": "o1", "kind": "fraud_chargeback", "reported_at": reported, "source": "processor"}]
        assert client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=CHECKOUT).status_code == 200

        cards = client.get("/v1/lists/blocked_cards", headers=ANALYST).json()
        devices = client.get("/v1/lists/blocked_devices", headers=ANALYST).json()
        history = client.get("/v1/lists/blocked_cards/history", headers=ANALYST).json()["audit"]

    assert [(i["value"], i["author"]) for i in cards["items"]] == [("card_fp_33aa", "auto")]
    assert [i["value"] for i in devices["items"]] == ["dev_9a01"]
    assert "confirmed_fraud reported by analyst for order o1" in cards["items"][0]["reason"]
    assert [(e["change"], e["author"]) for e in history] == [("create", "auto"), ("auto", "auto")]


def test_without_the_setting_outcomes_block_nothing(named_client):
    _score(named_client, _now_order("o1"))
    outcome = {"order_id": "o1", "kind": "confirmed_fraud", "reported_at": datetime.now(UTC).isoformat(),
               "source": "analyst"}
    assert named_client.post("/v1/outcomes", json=outcome, headers=CHECKOUT).status_code == 200
    assert named_client.get("/v1/lists", headers=ANALYST).json() == {"lists": []}
