"""Logging in and out, session cookies, CSRF on every form, roles, throttling, security headers."""

from __future__ import annotations

import stat

from fastapi.testclient import TestClient

from serve.config import Settings
from serve.ui.session import session_secret
from serve.ui.users import UserStore
from tests.serve.ui.conftest import CHECKOUT_KEY, PASSWORD, add_users, build_app, csrf_of, log_in


def test_pages_send_a_visitor_without_a_session_to_the_login_page(ui_client) -> None:
    answer = ui_client.get("/ui/queue?sort=amount", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=/ui/queue%3Fsort%3Damount"


def test_a_checkout_api_key_opens_no_page(ui_client) -> None:
    answer = ui_client.get("/ui/queue", headers={"X-API-Key": CHECKOUT_KEY}, follow_redirects=False)

    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login")


def test_login_sets_an_httponly_samesite_session_cookie_scoped_to_the_web_app(ui_client) -> None:
    answer = log_in(ui_client, "alice")

    assert answer.status_code == 303 and answer.headers["location"] == "/ui/queue"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/ui" in cookie and "secure" not in cookie


def test_secure_cookies_are_sent_over_https_only_when_configured(review_model_dir, tmp_path) -> None:
    app = build_app(review_model_dir, tmp_path, ui_secure_cookies=True)
    add_users(app, ("alice", "analyst"))
    with TestClient(app, base_url="https://testserver") as client:
        answer = log_in(client, "alice")

    assert "; secure" in answer.headers["set-cookie"].lower()


def test_a_wrong_password_or_unknown_name_is_refused_alike(ui_client) -> None:
    wrong = log_in(ui_client, "alice", "not the password")
    unknown = log_in(ui_client, "nobody", PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert "wrong name or password" in wrong.text and "wrong name or password" in unknown.text


def test_repeated_failures_make_the_next_login_wait_even_with_the_right_password(ui_client) -> None:
    for _ in range(5):
        assert log_in(ui_client, "alice", "not the password").status_code == 401

    answer = log_in(ui_client, "alice", PASSWORD)

    assert answer.status_code == 429 and "too many failed logins" in answer.text


def test_a_form_posted_without_the_csrf_token_is_refused(ui_client) -> None:
    log_in(ui_client, "alice")

    missing = ui_client.post("/ui/logout", data={}, follow_redirects=False)
    forged = ui_client.post("/ui/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    login_without = ui_client.post("/ui/login", data={"username": "alice", "password": PASSWORD},
                                   follow_redirects=False)

    assert missing.status_code == forged.status_code == login_without.status_code == 403
    assert "did not come from this site" in missing.text
    assert ui_client.get("/ui/users", follow_redirects=False).status_code == 403  # still logged in, as analyst


def test_the_csrf_token_changes_at_login(ui_client) -> None:
    before = csrf_of(ui_client.get("/ui/login").text)
    log_in(ui_client, "root")

    after = csrf_of(ui_client.get("/ui/users").text)

    assert before != after


def test_logout_ends_the_session(ui_client) -> None:
    log_in(ui_client, "root")
    token = csrf_of(ui_client.get("/ui/users").text)

    answer = ui_client.post("/ui/logout", data={"csrf_token": token}, follow_redirects=False)

    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
    assert ui_client.get("/ui/users", follow_redirects=False).status_code == 303


def test_disabling_an_account_ends_its_open_sessions(ui_client) -> None:
    log_in(ui_client, "root")
    assert ui_client.get("/ui/users").status_code == 200

    UserStore(ui_client.app.state.service.engine.decisions).disable("root")

    assert ui_client.get("/ui/users", follow_redirects=False).status_code == 303


def test_only_admins_manage_accounts_from_the_web_app(ui_client) -> None:
    log_in(ui_client, "root")
    token = csrf_of(ui_client.get("/ui/users").text)

    added = ui_client.post("/ui/users/add", data={"csrf_token": token, "name": "carol", "password": PASSWORD,
                                                  "role": "analyst"})
    disabled = ui_client.post("/ui/users/disable", data={"csrf_token": token, "name": "bob"})

    assert added.status_code == disabled.status_code == 200
    assert "carol" in added.text and "user bob disabled" in disabled.text


def test_login_never_redirects_to_another_site(ui_client) -> None:
    page = ui_client.get("/ui/login")
    answer = ui_client.post("/ui/login", data={"username": "alice", "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text), "next": "//evil.example/ui/x"},
                            follow_redirects=False)

    assert answer.headers["location"] == "/ui/queue"


def test_pages_carry_a_content_security_policy_without_inline_script(ui_client) -> None:
    answer = ui_client.get("/ui/login")

    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
    assert "<script>" not in answer.text  # only <script src=...>


def test_the_session_secret_is_generated_once_into_the_data_dir_readable_by_its_owner_only(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)

    first, second = session_secret(settings), session_secret(settings)

    assert first == second and len(first) >= 48
    assert stat.S_IMODE((tmp_path / "ui_secret").stat().st_mode) == 0o600
    assert session_secret(Settings(data_dir=tmp_path, ui_secret="x" * 32)) == "x" * 32
