"""Fixtures of the web app's tests: an app whose policy sends orders to review, accounts, a live server, a browser.

The browser tests drive Debian's chromium (/usr/bin/chromium) through Playwright; they skip
with a message when it is missing, and fail instead when RISK_REQUIRE_SERVICES is set (CI,
whose .ci/run installs it). One server per module, one browser per session.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from features.state import EmbeddedState
from models.bundle import load_bundle
from risk.policy import Policy
from serve.config import Settings
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.main import create_app
from tests.builders import make_order

CHROMIUM = Path(os.environ.get("RISK_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots (gitignored)
CHECKOUT_KEY = "checkout-key-ui-1"
ADMIN_KEY = "admin-key-ui-0001"
KEYS = {CHECKOUT_KEY: "checkout", ADMIN_KEY: "admin"}
PASSWORD = "correct horse battery"
SECRET = "s" * 40  # RISK_UI_SECRET of the test apps (the generated-file path has its own test)


@pytest.fixture(scope="session")
def review_model_dir(model_dir, tmp_path_factory) -> Path:
    """The session's small model with a policy that sends every order below 99.9% fraud to review."""
    bundle = load_bundle(model_dir)
    bundle = dataclasses.replace(bundle, policy=Policy(decline_fraud=0.999, review_fraud=0.0, review_regret=1.0))
    path = tmp_path_factory.mktemp("review_model")
    bundle.save(path)
    return path


def build_app(model_dir: Path, data_dir: Path, **settings: Any) -> Any:
    config = Settings(model_dir=model_dir, data_dir=data_dir, api_keys=KEYS, ui_secret=SECRET, **settings)
    engine = ScoringEngine(load_bundle(model_dir), EmbeddedState(), SQLiteDecisionLog(data_dir / "decisions.sqlite"),
                           fallback=config.fallback_decision)
    return create_app(config, engine)


def add_users(app: Any, *names_roles: tuple[str, str]) -> None:
    users = app.state.service.engine.decisions
    from serve.ui.users import UserStore

    store = UserStore(users)
    for name, role in names_roles:
        store.add(name, role, PASSWORD)


def scored_orders(count: int, *, prefix: str = "ord_ui", **overrides: Any) -> list[dict[str, Any]]:
    """`count` orders a minute apart, each with its own entities except that every third shares a card and a
    device (linked orders)."""
    orders = []
    for i in range(count):
        fields = {"order_id": f"{prefix}_{i:03d}", "created_at": f"2026-11-24T{10 + i // 60:02d}:{i % 60:02d}:02Z",
                  "amount": 1000 + 137 * i, "payment.card_fingerprint": f"card_{i}", "session.device_id": f"dev_{i}",
                  "buyer.account_id": f"buyer_{i}", "seller.account_id": f"seller_{i}", "session.ip": f"198.51.100.{i}",
                  "shipping.address_hash": f"addr_{i}"}
        if i % 3 == 0:
            fields.update({"payment.card_fingerprint": "card_ring", "session.device_id": "dev_ring"})
        fields.update(overrides)
        orders.append(make_order(**fields))
    return orders


def score_all(client: Any, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = []
    for order in orders:
        answer = client.post("/v1/orders/score", json=order, headers={"X-API-Key": CHECKOUT_KEY})
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    return answers


@pytest.fixture
def ui_client(review_model_dir, tmp_path) -> Iterator[TestClient]:
    """A TestClient of an app with users alice (analyst), bob (analyst) and root (admin)."""
    app = build_app(review_model_dir, tmp_path)
    add_users(app, ("alice", "analyst"), ("bob", "analyst"), ("root", "admin"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def csrf_of(page_html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/ui/login")
    return client.post("/ui/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text),
                                          "next": "/ui/queue"}, follow_redirects=False)


# ---- live server and browser ------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Any
    server: Any
    thread: threading.Thread


def start_server(app: Any) -> LiveServer:
    """uvicorn serving `app` on a free port of 127.0.0.1, in a thread, until `stop_server`."""
    import uvicorn

    from cli.serve import listen, url_of

    listener = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="ui-test-server")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return LiveServer(url_of(listener), app, server, thread)


def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=15)


def _chromium_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"chromium not found at {CHROMIUM} (apt-get install chromium, or set RISK_TEST_CHROMIUM)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _chromium_missing()
    if missing:
        if os.environ.get("RISK_REQUIRE_SERVICES"):
            pytest.fail(f"browser tests need chromium: {missing}, and RISK_REQUIRE_SERVICES is set")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """A fresh browser context (no cookies) that may only reach 127.0.0.1: anything else is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        from urllib.parse import urlsplit

        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "about:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    tab.blocked = blocked  # type: ignore[attr-defined]
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def screenshot(tab: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


def browser_log_in(tab: Any, url: str, name: str, password: str = PASSWORD) -> None:
    tab.goto(f"{url}/ui/login")
    tab.fill("input[name=username]", name)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/ui/queue**")
