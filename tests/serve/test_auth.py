"""Who may do what: one key parser and one roles table, for the routes and the fast path alike."""

from __future__ import annotations

import pytest

from serve.auth import PERMISSIONS, Forbidden, KeyRing, Unauthorized, key_from

RING = KeyRing({"checkout-key-1": "checkout", "analyst-key-1": "analyst", "admin-key-0001": "admin"})


@pytest.mark.parametrize("api_key, authorization, key", [
    ("k-12345678", None, "k-12345678"),
    (None, "Bearer k-12345678", "k-12345678"),
    (None, "bearer   k-12345678 ", "k-12345678"),
    ("k-from-header", "Bearer k-other", "k-from-header"),
    ("", "Bearer k-12345678", "k-12345678"),
    (None, "Basic dXNlcjpwYXNz", None),
    (None, "Bearer ", None),
    (None, None, None),
])
def test_the_key_comes_from_x_api_key_else_a_bearer_token(api_key, authorization, key):
    assert key_from(api_key, authorization) == key


def test_admin_may_do_everything_and_each_other_role_its_own_part():
    assert all("admin" in roles for roles in PERMISSIONS.values())
    assert [action for action, roles in PERMISSIONS.items() if "checkout" in roles] == ["score_orders",
                                                                                      "send_outcomes"]
    assert [action for action, roles in PERMISSIONS.items() if "analyst" in roles] == [
        "read_decisions", "read_reviews", "decide_reviews", "read_webhooks", "read_rules", "manage_rules"]


def test_a_key_is_named_in_audit_trails_by_its_configured_name_else_role_and_hash_never_itself():
    ring = KeyRing({"analyst-key-1": "analyst", "analyst-key-2": "analyst"}, names={"analyst-key-1": "ann"})

    assert ring.name_of("analyst-key-1") == "ann"
    assert ring.name_of("analyst-key-2").startswith("analyst:") and "key-2" not in ring.name_of("analyst-key-2")


def test_an_unknown_key_is_unauthorized_and_a_wrong_role_forbidden():
    with pytest.raises(Unauthorized):
        RING.check("score_orders", "nope-nope-nope")
    with pytest.raises(Unauthorized):
        RING.check("score_orders", None)
    with pytest.raises(Forbidden, match="needs admin or checkout"):
        RING.check("score_orders", "analyst-key-1")
    assert RING.check("read_decisions", "admin-key-0001") == "admin"


def test_allows_answers_the_same_question_as_check():
    for action in PERMISSIONS:
        for key in ("checkout-key-1", "analyst-key-1", "admin-key-0001", "unknown-key", None):
            try:
                RING.check(action, key)
                checked = True
            except (Unauthorized, Forbidden):
                checked = False
            assert RING.allows(action, key) == checked, (action, key)
