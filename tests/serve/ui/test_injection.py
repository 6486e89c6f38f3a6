"""Every order field is attacker-controlled: markup in any of them is shown as text on every page."""

from __future__ import annotations

from markupsafe import escape

from tests.serve.ui.conftest import log_in, score_all, scored_orders

# An element that would exist in the DOM if injected, and scripts that would run.
PAYLOAD = '<b id="injected">x</b><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
EVIL_ID = 'ord_<i id="injected">1</i>'
INJECTED_FIELDS = {
    "seller.account_id": "s" + PAYLOAD, "buyer.account_id": "b" + PAYLOAD, "buyer.email_domain": "e" + PAYLOAD,
    "post.post_id": "p" + PAYLOAD, "post.category": "c" + PAYLOAD, "payment.wallet": "w" + PAYLOAD,
    "payment.card_fingerprint": "k" + PAYLOAD, "session.device_id": "d" + PAYLOAD,
    "shipping.address_hash": "a" + PAYLOAD,
}


def injected_orders() -> list[dict]:
    """Two orders carrying the payload in every text field (they share card and device: linked)."""
    orders = scored_orders(2, prefix="ord_evil", **INJECTED_FIELDS)
    orders[1]["order_id"] = EVIL_ID
    return orders


def test_markup_in_order_fields_is_escaped_on_every_page(ui_client) -> None:
    score_all(ui_client, injected_orders())
    log_in(ui_client, "root")

    pages = {
        "queue": ui_client.get("/ui/queue").text,
        "queue filtered": ui_client.get("/ui/queue", params={"seller": "s" + PAYLOAD}).text,
        "order": ui_client.get("/ui/orders/ord_evil_000").text,
        "evil id": ui_client.get("/ui/orders/" + EVIL_ID.replace("/", "%2F")).text,
        "overview": ui_client.get("/ui/overview?window=24h").text,
    }

    for name, text in pages.items():
        assert 'id="injected"' not in text and "<script>window" not in text and "onerror=\"window" not in text, name
    assert str(escape("s" + PAYLOAD)) in pages["queue"]  # shown, as text
    assert "&lt;b id=&#34;injected&#34;&gt;" in pages["order"]  # Jinja's escaping of the quotes
    assert "ord_&lt;i id=&#34;injected&#34;&gt;1&lt;/i&gt;" in pages["evil id"]


# Rule texts, list values, reasons and descriptions are typed by people and may quote order fields: markup too.
EVIL_RULE = f"review if seller_account_id == '{PAYLOAD}'"
EVIL_REFUSED = f"review if <b id=\"injected\">{PAYLOAD}"


def injected_rules_and_lists(store) -> None:
    """A rule, a list and an item carrying the payload in every text the store keeps."""
    from serve.rules_store.records import NewItem

    store.create_list("evil", "buyer", author="root", description="l" + PAYLOAD, why="w" + PAYLOAD)
    store.add_items("evil", [NewItem("b" + PAYLOAD, "r" + PAYLOAD)], author="root", why="w" + PAYLOAD)
    store.create_rule("evil_rule", EVIL_RULE, author="root", description="d" + PAYLOAD, why="w" + PAYLOAD)
    store.edit_rule("evil_rule", author="root", text=EVIL_RULE + " or buyer_account_id in @evil", why="y" + PAYLOAD)


def test_markup_in_rule_texts_list_values_and_reasons_is_escaped_on_the_rules_and_lists_pages(ui_client) -> None:
    from tests.serve.ui.conftest import csrf_of

    injected_rules_and_lists(ui_client.app.state.rules.store)
    log_in(ui_client, "root")
    token = csrf_of(ui_client.get("/ui/rules").text)

    pages = {
        "rules": ui_client.get("/ui/rules").text,
        "rule": ui_client.get("/ui/rules/evil_rule").text,
        "lists": ui_client.get("/ui/lists").text,
        "list": ui_client.get("/ui/lists/evil?removed=true").text,
        "list search": ui_client.get("/ui/lists/evil", params={"q": PAYLOAD}).text,
        "backtest form": ui_client.get("/ui/backtest?rule_id=evil_rule").text,
        "refused rule": ui_client.post("/ui/rules/create", data={"csrf_token": token, "rule_id": "x",
                                                                 "text": EVIL_REFUSED, "why": PAYLOAD}).text,
        "refused item": ui_client.post("/ui/lists/evil/add", data={"csrf_token": token, "value": "b" + PAYLOAD,
                                                                   "reason": PAYLOAD, "expires_at": PAYLOAD}).text,
        "refused backtest": ui_client.post("/ui/backtest", data={"csrf_token": token, "dataset": "x",
                                                                 "start": PAYLOAD, "text": EVIL_REFUSED}).text,
    }

    for name, text in pages.items():
        assert 'id="injected"' not in text and "<script>window" not in text and "onerror=\"window" not in text, name
    assert str(escape(EVIL_RULE)) in pages["rule"] and str(escape("d" + PAYLOAD)) in pages["rule"]
    assert str(escape("y" + PAYLOAD)) in pages["rule"]  # the audit trail's why
    assert str(escape("b" + PAYLOAD)) in pages["list"] and str(escape("r" + PAYLOAD)) in pages["list"]
    assert str(escape("l" + PAYLOAD)) in pages["lists"]
    assert 'id="rule-problem"' in pages["refused rule"] and str(escape(EVIL_REFUSED)) in pages["refused rule"]
