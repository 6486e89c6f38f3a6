"""The storage key layout of an order's history: entities, pairs, log names and key strings.

Online writes and reads, batch's rebuild of the same logs and the state backends'
callers all name a log or a key through this module, so the layout is written once
(a backend stores whatever key strings it is given). A key string is a head naming
what is kept plus the entity's key: online builds each head once, then only appends
the order's key to it on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

ENTITY_COLUMNS: dict[str, str] = {
    "card": "payment_card_fingerprint",
    "buyer": "buyer_account_id",
    "device": "session_device_id",
    "ip": "session_ip",
    "seller": "seller_account_id",
    "address": "shipping_address_hash",
}
PAIRS: dict[str, tuple[str, str]] = {
    "buyer_seller": ("buyer", "seller"),
    "buyer_device": ("buyer", "device"),
    "buyer_card": ("buyer", "card"),
    "buyer_address": ("buyer", "address"),
}
PAIR_SEPARATOR = "|"
LOG_COLUMNS = ("order_id", "created_at", "amount", "session_post_viewed_at")
"""The order columns the logs are written from (besides entity keys): what a partition of orders must carry."""

ORDERS_LOG = "orders"  # weights: (1, amount)
LABELS_LOG = "labels"  # weights: (fraud, regret)
LOG_AMOUNTS_LOG = "log_amounts"  # weights: (log amount, its square) in ops.LOG_AMOUNT_UNITS; buyers only
HABITS_LOG = "habits"  # weights: (has a view time, log seconds from view to buy in LOG_AMOUNT_UNITS); buyers


def pairs_log(other: str) -> str:
    """Set log of the `other` keys seen with an entity (for distinct counts)."""
    return f"pairs_{other}"


def log_head(log: str, entity: str) -> str:
    """Head of the key of an entity's events in `log` (sums of weights, or a set log's members)."""
    return f"{log}:{entity}:"


def seen_head(entity: str) -> str:
    """Head of the key holding (first, last) time an entity was seen."""
    return f"seen:{entity}:"


def reported_head(label: str, entity: str) -> str:
    """Head of the seen key holding (first, last) report time of a label on an entity."""
    return f"reported:{label}:{entity}:"


def entity_key_columns(orders: pd.DataFrame) -> dict[str, pd.Series]:
    """Every entity's and pair's key per order, missing where any part is unknown."""
    keys = {name: orders[column] for name, column in ENTITY_COLUMNS.items()}
    for name, (left, right) in PAIRS.items():
        keys[name] = keys[left].astype("str") + PAIR_SEPARATOR + keys[right].astype("str")
        keys[name] = keys[name].where(keys[left].notna() & keys[right].notna(), None)
    return keys


def entity_keys(row: Mapping[str, Any]) -> dict[str, str | None]:
    """The same keys for one order (a flat row with None for unknown)."""
    keys: dict[str, str | None] = {name: row[column] for name, column in ENTITY_COLUMNS.items()}
    for name, (left, right) in PAIRS.items():
        a, b = keys[left], keys[right]
        keys[name] = None if a is None or b is None else f"{a}{PAIR_SEPARATOR}{b}"
    return keys
