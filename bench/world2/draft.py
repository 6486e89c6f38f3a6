"""Orders as the generator builds them: row numbers into the entity tables, plus the hidden truth."""

from __future__ import annotations

from typing import Any

import numpy as np

from .tables import Table

PATTERN_CODES = ("genuine", "account_takeover", "stolen_cards", "card_testing", "ring")
WALLETS = np.array(["", "apple_pay", "google_pay"])


def new_draft() -> Table:
    """One row per order. -1 means none (no post, device, address, override); ttb is seconds from view to buy.

    `email` overrides the account's email domain (an account taken over gets the crew's);
    `p_fraud` and `p_regret` are the exact chances of the order's fate given everything the
    generator knows, filled for genuine orders once their sequence is known.
    """
    return Table("t", "account", "seller", "post", "device", "ip", "card", "address", "gift", "app", "ttb",
                 "quantity", "amount", "wallet", "email", "pattern", "p_fraud", "p_regret")


def add_orders(draft: Table, rows: list[dict[str, Any]]) -> None:
    """Append orders given one dict each (the fraud campaigns build theirs one by one)."""
    if rows:
        draft.add(len(rows), **{c: np.array([r[c] for r in rows]) for c in rows[0]})
