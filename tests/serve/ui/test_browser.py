"""The web app in a real browser (Playwright driving Debian's chromium) against a real uvicorn server.

Log in, work the queue end to end, follow linked orders, keyboard shortcuts, a form
without its CSRF token, injected markup shown as text, /docs without internet; create a
rule (after a refused one), run a backtest and see its chart, add a list item. Each page
leaves a screenshot in tests/artifacts/. The browser may reach 127.0.0.1 only.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.serve.rules_store.conftest import Clock
from tests.serve.rules_store.test_backtests import T, write_small_dataset
from tests.serve.ui.conftest import (
    add_users,
    browser_log_in,
    build_app,
    score_all,
    scored_orders,
    screenshot,
    start_server,
    stop_server,
)
from tests.serve.ui.test_injection import EVIL_ID, PAYLOAD, injected_orders, injected_rules_and_lists

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(review_model_dir, tmp_path_factory, browser):
    """One server for the module: 12 orders in review (a ring of four sharing a card and device) and two
    carrying markup in every field; analysts alice and bob, admin root; backtest data set `small` (six orders of
    card fp_x, put on @stolen mid-period)."""
    import httpx

    from serve.rules_store.records import NewItem

    folder = tmp_path_factory.mktemp("ui_live")
    write_small_dataset(folder / "datasets" / "small")
    app = build_app(review_model_dir, folder, backtest_data_dir=folder / "datasets")
    add_users(app, ("alice", "analyst"), ("bob", "analyst"), ("root", "admin"))
    store = app.state.rules.store
    real, store.clock = store.clock, Clock(T - timedelta(days=1))
    store.create_list("stolen", "card_fingerprint", author="ann", description="reported stolen cards")
    store.clock.now = T + timedelta(hours=20)
    store.add_items("stolen", [NewItem("fp_x", "reported stolen")], author="ann")
    store.clock = real
    server = start_server(app)
    with httpx.Client(base_url=server.url) as client:  # scored through the API, as the checkout would
        score_all(client, scored_orders(12))
        score_all(client, injected_orders())
    yield server
    stop_server(server)


def rows(tab) -> list[str]:
    return tab.locator("tr[data-order]").evaluate_all("rows => rows.map(r => r.dataset.order)")


def test_an_analyst_logs_in_claims_decides_and_sees_the_queue_change(live, page) -> None:
    browser_log_in(page, live.url, "alice")
    before = rows(page)
    screenshot(page, "queue")
    first = before[0]

    page.click(f"tr[data-order='{first}'] a")
    page.wait_for_url(f"**/ui/orders/{first}")
    assert page.locator(".claim").inner_text().startswith("You hold this review")
    screenshot(page, "order")
    page.fill("textarea[name=note]", "card testing from one device")
    page.click("button[name=verdict][value=decline]")

    page.wait_for_selector(".notice")
    assert f"{first}: declined" in page.locator(".notice").inner_text()
    assert "confirmed_fraud" in page.locator("ol.timeline").inner_text()
    assert "card testing from one device" in page.locator(".analyst-decision, ol.timeline").all_inner_texts()[-1]
    page.goto(f"{live.url}/ui/queue")
    after = rows(page)
    assert first not in after and len(after) == len(before) - 1
    assert page.blocked == []


def test_another_analyst_sees_who_holds_a_claimed_review(live, page, browser) -> None:
    browser_log_in(page, live.url, "alice")
    target = rows(page)[1]
    page.goto(f"{live.url}/ui/orders/{target}")
    other = browser.new_context().new_page()
    try:
        browser_log_in(other, live.url, "bob")
        other.goto(f"{live.url}/ui/orders/{target}")
        assert other.locator(".held-by").inner_text() == "alice"
        assert other.locator("button[name=verdict]").count() == 0
        screenshot(other, "order_held_by_other")
    finally:
        other.context.close()


def test_keyboard_moves_through_the_queue_and_decides(live, page) -> None:
    browser_log_in(page, live.url, "bob")
    ids = rows(page)
    for key in "jjjkj":  # rows 0, 1, 2, 1, 2 (row 1 is held by alice, from the test before)
        page.keyboard.press(key)
    target = ids[2]
    assert page.locator("tr.selected").get_attribute("data-order") == target

    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/orders/{target}")
    page.wait_for_load_state("load")
    page.keyboard.press("a")
    page.wait_for_selector(".notice")
    assert f"{target}: approved" in page.locator(".notice").inner_text()
    page.wait_for_load_state("load")  # the shortcuts' script is deferred: present once the page has loaded

    page.keyboard.press("j")  # the next order of the queue view it came from
    page.wait_for_url(re.compile(r".*/ui/orders/(?!" + re.escape(target) + r"$).+"))
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "note"


def test_an_order_page_shows_its_linked_orders_and_leads_to_them(live, page) -> None:
    browser_log_in(page, live.url, "root")
    page.goto(f"{live.url}/ui/orders/ord_ui_009")
    linked = page.locator("#linked")
    assert linked.locator("svg circle").count() >= 5  # the order, card and device, three other orders
    assert sorted(linked.locator("tbody a").all_inner_texts()) == ["ord_ui_000", "ord_ui_003", "ord_ui_006"]
    screenshot(page, "order_linked")

    linked.locator("tbody a", has_text="ord_ui_006").click()
    page.wait_for_url("**/ui/orders/ord_ui_006")
    assert "ord_ui_009" in page.locator("#linked tbody").inner_text()


def test_a_form_without_its_csrf_token_is_refused(live, page) -> None:
    browser_log_in(page, live.url, "alice")
    target = rows(page)[-1]
    page.goto(f"{live.url}/ui/orders/{target}")

    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.click("button[name=verdict][value=approve]")

    assert page.locator("h1").inner_text() == "403"
    screenshot(page, "csrf_refused")
    direct = page.request.post(f"{live.url}/ui/decide", form={"order_id": target, "verdict": "approve"})
    assert direct.status == 403
    page.goto(f"{live.url}/ui/queue")
    assert target in rows(page)


def test_markup_in_order_fields_shows_as_text_and_never_runs(live, page) -> None:
    browser_log_in(page, live.url, "root")
    for path in ("/ui/queue", "/ui/orders/ord_evil_000", "/ui/orders/" + EVIL_ID.replace("/", "%2F"),
                 "/ui/queue?seller=" + "s" + PAYLOAD):
        page.goto(live.url + path)
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("#injected").count() == 0, path
        assert page.locator("script:not([src])").count() == 0, path
    page.goto(f"{live.url}/ui/orders/ord_evil_000")
    assert "s" + PAYLOAD in page.locator("main").inner_text()  # the seller id, shown as the text it is
    screenshot(page, "order_injected_markup")


def test_overview_and_users_pages_render_their_charts(live, page) -> None:
    browser_log_in(page, live.url, "root")
    page.goto(f"{live.url}/ui/overview?window=24h")
    assert page.locator("svg.chart").count() >= 4
    screenshot(page, "overview")
    page.goto(f"{live.url}/ui/users")
    assert page.locator("td", has_text="alice").count() == 1
    screenshot(page, "users")
    page.goto(f"{live.url}/ui/login")
    screenshot(page, "login")


def test_docs_render_without_internet(live, page) -> None:
    page.goto(f"{live.url}/docs")

    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() >= 4
    assert "risk-engine" in page.locator(".swagger-ui .info").inner_text()
    assert page.blocked == []
    screenshot(page, "docs")


def test_an_analyst_creates_a_rule_from_the_page_after_a_refused_one_and_sees_it_listed(live, page) -> None:
    browser_log_in(page, live.url, "alice")
    page.click("header nav a:text-is('Rules')")
    page.wait_for_url("**/ui/rules")
    page.fill("input[name=rule_id]", "big_gift_cards")
    page.fill("textarea[name=text]", 'review if amout > 50000 and post_category == "gift_card"')
    page.select_option("select[name=mode]", "test")
    page.click("button:text-is('Create rule')")

    problem = page.locator("#rule-problem")
    assert "Line 1, column 11" in problem.inner_text() and "did you mean 'amount'?" in problem.inner_text()
    screenshot(page, "rule_refused")
    page.fill("textarea[name=text]", 'review if amount > 50000 and post_category == "gift_card"')
    page.click("button:text-is('Create rule')")

    page.wait_for_url("**/ui/rules/big_gift_cards")
    assert "created (in effect)" in page.locator(".notice").inner_text()
    screenshot(page, "rule")
    page.click("a:text-is('← rules')")
    row = page.locator("tr[data-rule=big_gift_cards]")
    assert "test" in row.inner_text() and "alice" in row.inner_text()
    screenshot(page, "rules")
    page.keyboard.press("j")  # the keyboard opens a rule like an order of the queue
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/rules/*")
    assert page.blocked == []


def test_a_backtest_from_the_page_shows_its_figures_and_chart(live, page) -> None:
    browser_log_in(page, live.url, "bob")
    page.click("header nav a:text-is('Backtest')")
    page.fill("textarea[name=text]", "decline if payment_card_fingerprint in @stolen")
    page.select_option("select[name=dataset]", "small")
    page.fill("input[name=start]", T.isoformat())
    page.click("button:text-is('Run backtest')")

    result = page.locator("#result")
    result.wait_for()
    assert page.locator("#hits").inner_text() == "3"  # lists as they were at each order's moment
    assert result.locator("svg.chart").count() == 2
    assert result.locator("svg.chart[aria-label='orders and hits per day'] polyline").count() == 2
    screenshot(page, "backtest")


def test_an_item_added_from_the_lists_page_is_listed_with_its_reason(live, page) -> None:
    browser_log_in(page, live.url, "alice")
    page.click("header nav a:text-is('Lists')")
    assert page.locator("tr[data-list=stolen] td.num").first.inner_text() == "1"
    screenshot(page, "lists")
    page.click("a:text-is('@stolen')")
    page.fill("#add input[name=value]", "fp_new_one")
    page.fill("#add input[name=reason]", "chargeback 2026-11-30")
    page.click("#add button[type=submit]")

    page.wait_for_selector(".notice")
    assert "fp_new_one added" in page.locator(".notice").inner_text()
    assert "chargeback 2026-11-30" in page.locator("tr[data-value=fp_new_one]").inner_text()
    screenshot(page, "list")

    too_big = b"value,reason\n" + b"fp_bulk_0000001,x\n" * 5000  # 90,000 bytes: over the default 64 KiB body limit
    page.set_input_files("input[name=csv_file]", {"name": "big.csv", "mimeType": "text/csv", "buffer": too_big})
    page.click("#import button[type=submit]")
    assert "at most" in page.eval_on_selector("input[name=csv_file]", "e => e.validationMessage")
    assert page.locator("tr[data-value=fp_bulk_0000001]").count() == 0 and page.url.endswith("/ui/lists/stolen")


def test_markup_in_rules_and_lists_shows_as_text_and_never_runs(live, page) -> None:
    injected_rules_and_lists(live.app.state.rules.store)
    browser_log_in(page, live.url, "root")
    for path in ("/ui/rules", "/ui/rules/evil_rule", "/ui/lists", "/ui/lists/evil", "/ui/backtest?rule_id=evil_rule"):
        page.goto(live.url + path)
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("#injected").count() == 0, path
        assert page.locator("script:not([src])").count() == 0, path
    page.goto(f"{live.url}/ui/lists/evil")
    assert "b" + PAYLOAD in page.locator("table.items").inner_text()  # the value, shown as the text it is
    screenshot(page, "list_injected_markup")
