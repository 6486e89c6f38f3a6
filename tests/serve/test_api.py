"""The scoring API as the checkout, analysts and operators use it."""

from __future__ import annotations

import json
import threading

import pytest

from tests.builders import make_order
from tests.serve.conftest import ADMIN, ANALYST, CHECKOUT, make_client


def test_scoring_returns_a_contract_decision_with_reasons(client):
    response = client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["order_id"] == "ord_8f2c1a"
    assert decision["decision"] in ("approve", "review", "decline")
    assert 0 <= decision["fraud_score"] <= 1 and 0 <= decision["regret_score"] <= 1
    assert decision["reasons"] and all(r["code"] and r["message"] for r in decision["reasons"])
    assert decision["model_version"] and decision["elapsed_ms"] > 0 and decision["degraded"] is False


def test_flagged_orders_are_explained_by_their_top_factors(client):
    flagged = None
    for i in range(12):  # a card-testing burst: many cards on one device within minutes
        order = make_order(order_id=f"burst-{i}", created_at=f"2026-11-24T10:15:{i:02d}Z",
                           **{"payment.card_fingerprint": f"card-{i}", "session.device_id": "dev-burst"})
        decision = client.post("/v1/orders/score", json=order, headers=CHECKOUT).json()
        if decision["decision"] != "approve":
            flagged = decision
    assert flagged is not None, "a burst of 12 cards on one device should be flagged"
    factors = [r for r in flagged["reasons"] if r.get("feature")]
    assert factors and factors[0]["contribution"] > 0
    assert all(r["code"].startswith(("FRAUD:", "REGRET:")) for r in factors)


def test_same_order_twice_returns_the_stored_decision_and_counts_once(client):
    first = client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT)
    again = client.post("/v1/orders/score", json=make_order(**{"extra_field": 1}), headers=CHECKOUT)
    assert again.status_code == 200 and again.headers.get("idempotent-replay") == "true"
    assert again.json() == first.json()
    later = client.post("/v1/orders/score", json=make_order(order_id="next", created_at="2026-11-24T10:20:00Z"),
                        headers=CHECKOUT)
    assert later.status_code == 200
    engine = client.app.state.service.engine
    (sums,), _, _ = engine.state.fetch([("orders:card:card_fp_33aa", 10**18, False)], [])
    assert sums[0] == 2  # the example order once, then "next"; the replay changed nothing


def test_same_order_id_with_another_body_is_refused_with_409(client):
    client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT)
    response = client.post("/v1/orders/score", json=make_order(amount=5000), headers=CHECKOUT)
    assert response.status_code == 409 and "different body" in response.json()["message"]


def test_outcomes_one_or_a_batch_are_stored_once(client):
    client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT)
    one = {"order_id": "ord_8f2c1a", "kind": "fraud_chargeback", "reported_at": "2026-12-19T08:00:00Z"}
    assert client.post("/v1/outcomes", json=one, headers=CHECKOUT).json() == {"received": 1, "stored": 1}
    batch = {"outcomes": [one, {**one, "kind": "refund", "source": "buyer"}]}
    assert client.post("/v1/outcomes", json=batch, headers=CHECKOUT).json() == {"received": 2, "stored": 1}
    later = make_order(order_id="after", created_at="2026-12-20T08:00:00Z")
    features = client.post("/v1/orders/score", json=later, headers=CHECKOUT)
    assert features.status_code == 200


def test_bad_outcome_names_the_field(client):
    response = client.post("/v1/outcomes", json={"order_id": "x", "kind": "chargeback", "reported_at": "now"},
                           headers=CHECKOUT)
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["problems"]}
    assert any("kind" in f for f in fields) and any("reported_at" in f for f in fields)


@pytest.mark.parametrize("headers, status", [({}, 401), ({"X-API-Key": "nope-nope-nope"}, 401), (ANALYST, 403)])
def test_scoring_needs_a_checkout_or_admin_key(client, headers, status):
    assert client.post("/v1/orders/score", json=make_order(), headers=headers).status_code == status


def test_roles_checkout_cannot_reload_or_read_decisions(client):
    assert client.post("/v1/admin/reload", headers=CHECKOUT).status_code == 403
    client.post("/v1/orders/score", json=make_order(), headers=ADMIN)
    assert client.get("/v1/decisions/ord_8f2c1a", headers=CHECKOUT).status_code == 403
    assert client.get("/v1/decisions/ord_8f2c1a", headers=ANALYST).status_code == 200
    assert client.get("/v1/decisions/unknown", headers=ANALYST).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        (make_order(created_at="2026-11-24T10:15:02"), "created_at"),
        (make_order(amount="lots"), "amount"),
        (make_order(amount=0), "amount"),
        (make_order(**{"buyer.country": "USA"}), "buyer.country"),
        (make_order(payment=...), "payment"),
        (make_order(**{"session.channel": "fax"}), "session.channel"),
    ],
)
def test_malformed_orders_get_422_naming_the_field(client, body, field):
    response = client.post("/v1/orders/score", json=body, headers=CHECKOUT)
    assert response.status_code == 422
    assert field in {p["field"] for p in response.json()["problems"]}, response.json()


def test_bad_json_and_huge_bodies_are_4xx(client):
    json_headers = {**CHECKOUT, "content-type": "application/json"}
    bad = client.post("/v1/orders/score", content=b"{not json", headers=json_headers)
    assert bad.status_code == 422
    assert bad.json()["problems"] == [{"field": "(body)", "reason": "not valid JSON: Expecting property name "
                                                                      "enclosed in double quotes (character 1)"}]
    huge = json.dumps(make_order(padding="x" * 200_000))
    response = client.post("/v1/orders/score", content=huge, headers={**CHECKOUT, "content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["problems"] == [{"field": "(body)", "reason": "request body over 65536 bytes"}]


def test_health_readiness_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["decision_log"] is True
    client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT)
    text = client.get("/metrics").text
    assert "risk_decisions_total" in text and "risk_score_seconds_bucket" in text and "risk_model_info" in text


def test_degraded_mode_when_the_state_is_unreachable(model_dir, tmp_path):
    from features.state.redis_state import RedisState

    unreachable = RedisState(url="redis://127.0.0.1:1/0", timeout_s=0.05)
    with make_client(model_dir, tmp_path, state=unreachable) as client:
        response = client.post("/v1/orders/score", json=make_order(), headers=CHECKOUT)
        assert response.status_code == 200, response.text
        decision = response.json()
        assert decision["degraded"] is True
        assert decision["decision"] in ("review", "decline")  # the fallback never lowers severity
        assert decision["reasons"][0]["code"] == "DEGRADED_HISTORY"
        assert decision["elapsed_ms"] < 1000
        assert client.post("/v1/outcomes", json={"order_id": "ord_8f2c1a", "kind": "refund",
                                                 "reported_at": "2026-12-01T00:00:00Z"},
                           headers=CHECKOUT).status_code == 200


def test_model_reload_under_concurrent_requests_fails_no_request(model_dir, other_model_dir, tmp_path):
    import shutil

    live = tmp_path / "live_model"
    shutil.copytree(model_dir, live)
    with make_client(live, tmp_path) as client:
        before = client.app.state.service.engine.model_version
        statuses, stop = [], threading.Event()

        def hammer(worker: int) -> None:
            i = 0
            while not stop.is_set():
                order = make_order(order_id=f"w{worker}-{i}", created_at="2026-11-24T10:15:02Z")
                statuses.append(client.post("/v1/orders/score", json=order, headers=CHECKOUT).status_code)
                i += 1

        threads = [threading.Thread(target=hammer, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        shutil.rmtree(live)
        shutil.copytree(other_model_dir, live)
        reload = client.post("/v1/admin/reload", headers=ADMIN)
        for _ in range(20):
            client.post("/v1/orders/score", json=make_order(order_id=f"after-{_}"), headers=CHECKOUT)
        stop.set()
        for thread in threads:
            thread.join()
        assert reload.status_code == 200 and reload.json()["model_version"] != before
        assert statuses and set(statuses) == {200}
        assert client.app.state.service.engine.model_version == reload.json()["model_version"]


def test_openapi_documents_the_errors(client):
    schema = client.get("/openapi.json").json()
    score = schema["paths"]["/v1/orders/score"]["post"]
    assert {"400", "401", "403", "409", "413", "422"} <= set(score["responses"])
    malformed = score["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "problems" in schema["components"]["schemas"][malformed]["required"]


def test_openapi_declares_the_api_key_schemes_and_the_routes_needing_a_key_use_them(client):
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                 "description": schemes["ApiKey"]["description"]}
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    secured = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method, operation in
               item.items() if operation.get("security") == [{"ApiKey": []}, {"Bearer": []}]}
    assert {"POST /v1/orders/score", "POST /v1/outcomes", "GET /v1/decisions/{order_id}",
            "POST /v1/admin/reload", "GET /v1/reviews", "POST /v1/reviews/{order_id}/decision"} <= secured
    api = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item
           if path.startswith("/v1/")}
    assert secured == api  # every API route needs a key; health, readiness and metrics do not
    rules = {op for op in secured if op.split()[1].startswith(("/v1/rules", "/v1/lists"))}
    assert "POST /v1/rules" in rules and "POST /v1/lists/{name}/items" in rules


def test_metrics_are_declared_as_the_text_they_are(client):
    declared = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(declared) == ["text/plain"]
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_an_undeclared_method_gets_405_with_allow(client):
    response = client.get("/v1/orders/score", headers=CHECKOUT)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"] == "http_error"


def test_a_body_that_is_not_utf8_gets_400_with_problems(client):
    response = client.post("/v1/orders/score", content=b"\x80{}", headers={**CHECKOUT,
                                                                           "content-type": "application/json"})
    assert response.status_code == 400
    (problem,) = response.json()["problems"]
    assert problem["field"] == "(body)" and "UnicodeDecodeError" in problem["reason"]


def test_a_restarted_service_loses_no_history(model_dir, tmp_path):
    """Orders scored after the last snapshot come back from the decision log on restart."""
    from fastapi.testclient import TestClient

    from serve.config import Settings
    from serve.main import create_app
    from tests.serve.conftest import KEYS

    settings = Settings(model_dir=model_dir, data_dir=tmp_path, api_keys=KEYS, snapshot_interval_s=3600)
    with TestClient(create_app(settings)) as first:
        for i in range(3):
            order = make_order(order_id=f"r{i}", created_at=f"2026-11-24T10:0{i}:00Z")
            assert first.post("/v1/orders/score", json=order, headers=CHECKOUT).status_code == 200
        first.post("/v1/outcomes", json={"order_id": "r0", "kind": "confirmed_fraud",
                                         "reported_at": "2026-11-24T10:05:00Z"}, headers=CHECKOUT)
    (tmp_path / "state.pkl").unlink()  # as if the process died before any snapshot
    with TestClient(create_app(settings)) as second:
        order = make_order(order_id="r9", created_at="2026-11-24T10:30:00Z")
        decision = second.post("/v1/orders/score", json=order, headers=CHECKOUT)
        assert decision.status_code == 200
        state = second.app.state.service.engine.state
        (orders, labels), _, _ = state.fetch([("orders:card:card_fp_33aa", 10**18, False),
                                              ("labels:card:card_fp_33aa", 10**18, True)], [])
        assert orders[0] == 4 and labels[0] == 1  # three replayed orders + r9, and the fraud report once


def test_an_order_with_a_null_quantity_is_scored_like_one_without(client):
    response = client.post("/v1/orders/score", json=make_order(order_id="q-null", quantity=None), headers=CHECKOUT)
    assert response.status_code == 200, response.text


def test_times_at_the_calendars_first_minute_are_stored_not_a_500(client):
    early = "0001-01-01T00:00:00+00:01"  # valid RFC 3339; one minute before year 1 in UTC
    outcome = client.post("/v1/outcomes", json={"order_id": "o", "kind": "refund", "reported_at": early},
                          headers=CHECKOUT)
    assert outcome.status_code == 200, outcome.text
    order = client.post("/v1/orders/score", json=make_order(order_id="early", created_at=early), headers=CHECKOUT)
    assert order.status_code == 200, order.text
