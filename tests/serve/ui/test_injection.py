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
