"""The rules pages: list, create (a refused rule shown inline), edit on a base version (a stale edit explained),
disable/enable, test mode, history and restore, approval by a second admin; every form needs its CSRF token."""

from __future__ import annotations

import re

import pytest

from tests.serve.ui.conftest import add_users, build_app, csrf_of, log_in

STOLEN = "decline if payment_card_fingerprint in @stolen"


@pytest.fixture
def rules_client(ui_client):
    """alice (analyst) logged in; a card list `stolen` exists."""
    ui_client.app.state.rules.store.create_list("stolen", "card_fingerprint", author="root")
    log_in(ui_client, "alice")
    return ui_client


def create(client, rule_id: str, text: str, **fields: str):
    token = csrf_of(client.get("/ui/rules").text)
    return client.post("/ui/rules/create", data={"csrf_token": token, "rule_id": rule_id, "text": text, **fields})


def rule_ids(html: str) -> list[str]:
    return re.findall(r'data-rule="([^"]+)"', html)


def test_a_rule_created_from_the_page_is_stored_in_effect_and_listed(rules_client) -> None:
    answer = create(rules_client, "block_stolen", STOLEN, mode="live", description="stolen cards", why="ticket 4711")

    assert answer.status_code == 200 and "rule block_stolen created (in effect)" in answer.text
    stored = rules_client.app.state.rules.store.rule("block_stolen")
    assert (stored.head.author, stored.head.why, stored.live.version) == ("alice", "ticket 4711", 1)
    assert [spec.rule_id for spec in rules_client.app.state.rules.watcher.store.live()[1]] == ["block_stolen"]
    listing = rules_client.get("/ui/rules").text
    assert rule_ids(listing) == ["block_stolen"]
    row = listing[listing.index('data-rule="block_stolen"'):]
    assert "decline" in row and "live" in row and "in effect" in row and "alice" in row


def test_a_refused_rule_shows_the_checkers_line_column_reason_and_suggestion_beside_the_text(rules_client) -> None:
    answer = create(rules_client, "typo", "review if amout > 5000")

    assert answer.status_code == 422 and "<html" in answer.text
    problem = answer.text[answer.text.index('id="rule-problem"'):]
    assert "Line 1, column 11" in problem and "unknown attribute &#39;amout&#39;" in problem
    assert "Suggestion: did you mean &#39;amount&#39;?" in problem
    assert "review if amout &gt; 5000\n          ^" in problem  # the caret under column 11
    assert ">review if amout &gt; 5000</textarea>" in answer.text  # what was typed, kept
    assert rule_ids(answer.text) == []


def test_an_edit_on_the_latest_version_saves_a_new_version_with_its_audit_row(rules_client) -> None:
    create(rules_client, "big", "review if amount > 5000")
    token = csrf_of(rules_client.get("/ui/rules/big").text)

    answer = rules_client.post("/ui/rules/big/edit", data={"csrf_token": token, "base_version": "1",
                                                          "text": "review if amount > 9000", "mode": "test",
                                                          "description": "", "why": "too many reviews"})

    assert "rule big: version 2 saved" in answer.text
    audit = answer.text[answer.text.index('id="audit"'):]
    assert "too many reviews" in audit and "review if amount &gt; 5000" in audit and "test" in audit
    head = rules_client.app.state.rules.store.rule("big").head
    assert (head.version, head.state.text, head.state.mode) == (2, "review if amount > 9000", "test")


def test_a_stale_edit_is_not_saved_and_says_who_changed_the_rule_keeping_the_text(rules_client) -> None:
    create(rules_client, "big", "review if amount > 5000")
    token = csrf_of(rules_client.get("/ui/rules/big").text)
    rules_client.app.state.rules.store.edit_rule("big", author="bob", text="review if amount > 7000")

    answer = rules_client.post("/ui/rules/big/edit", data={"csrf_token": token, "base_version": "1",
                                                          "text": "review if amount > 9000", "mode": "live"})

    assert answer.status_code == 409 and 'class="refused stale"' in answer.text
    assert "bob changed this rule" in answer.text and "now at version 2" in answer.text
    assert ">review if amount &gt; 9000</textarea>" in answer.text  # ours, kept to save again
    assert 'name="base_version" value="2"' in answer.text
    assert rules_client.app.state.rules.store.rule("big").head.state.text == "review if amount > 7000"


def test_disable_enable_and_restore_make_versions_and_a_stale_button_is_explained(rules_client) -> None:
    create(rules_client, "big", "review if amount > 5000")
    token = csrf_of(rules_client.get("/ui/rules/big").text)
    rules_client.post("/ui/rules/big/enabled", data={"csrf_token": token, "base_version": "1", "enabled": "false",
                                                    "why": "false positives"})
    store = rules_client.app.state.rules.store
    assert not store.rule("big").head.state.enabled and store.live()[1] == []

    answer = rules_client.post("/ui/rules/big/restore", data={"csrf_token": token, "base_version": "2",
                                                             "version": "1"})
    assert "version 1 restored, version 3 (in effect)" in answer.text
    stale = rules_client.post("/ui/rules/big/enabled", data={"csrf_token": token, "base_version": "1",
                                                            "enabled": "false"})
    assert stale.status_code == 200 and "Not saved: rule &#39;big&#39; is at version 3, not 1" in stale.text
    assert store.rule("big").head.state.enabled
    versions = stale.text[stale.text.index('id="versions"'):stale.text.index('id="audit"')]
    assert versions.count('action="/ui/rules/big/restore"') == 2  # every version but the latest


def test_rule_forms_without_the_csrf_token_are_refused_and_change_nothing(rules_client) -> None:
    create(rules_client, "big", "review if amount > 5000")

    refused = [rules_client.post("/ui/rules/create", data={"rule_id": "x", "text": "review if amount > 1"}),
               rules_client.post("/ui/rules/big/edit", data={"base_version": "1", "text": "review if amount > 1"}),
               rules_client.post("/ui/rules/big/enabled", data={"base_version": "1", "enabled": "false",
                                                               "csrf_token": "forged"})]

    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert len(rules_client.app.state.rules.store.rule_history("big")) == 1
    assert rule_ids(rules_client.get("/ui/rules").text) == ["big"]


def test_with_approval_required_a_decline_rule_waits_and_only_another_admin_may_approve_it(review_model_dir,
                                                                                          tmp_path) -> None:
    from fastapi.testclient import TestClient

    app = build_app(review_model_dir, tmp_path, rules_require_approval=True)
    add_users(app, ("alice", "analyst"), ("root", "admin"))
    app.state.rules.store.create_list("stolen", "card_fingerprint", author="root")
    with TestClient(app, raise_server_exceptions=False) as client:
        log_in(client, "alice")
        created = create(client, "block", STOLEN)
        assert "awaiting approval (not in effect)" in created.text
        assert "Waits for an admin's approval" in created.text and "/approve" not in created.text
        token = csrf_of(created.text)
        by_analyst = client.post("/ui/rules/block/approve", data={"csrf_token": token, "base_version": "1"})
        assert by_analyst.status_code == 403

        client.cookies.clear()
        log_in(client, "root")
        page = client.get("/ui/rules/block").text
        assert 'action="/ui/rules/block/approve"' in page
        approved = client.post("/ui/rules/block/approve", data={"csrf_token": csrf_of(page), "base_version": "1",
                                                               "why": "checked the list"})
        assert "rule block: approved, version 2 (in effect)" in approved.text
        assert [spec.rule_id for spec in app.state.rules.store.live()[1]] == ["block"]


def test_an_unknown_rule_is_a_404_page(rules_client) -> None:
    answer = rules_client.get("/ui/rules/no_such_rule")

    assert answer.status_code == 404 and "<html" in answer.text and "no rule" in answer.text
