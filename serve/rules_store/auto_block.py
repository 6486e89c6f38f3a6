"""Confirmed fraud blocks its card and device: outcomes from an analyst or the processor feed block lists.

Off unless RISK_AUTO_BLOCK_LISTS names the lists (`{"card_fingerprint": "blocked_cards",
"device": "blocked_devices"}`). Each change is recorded in the audit trail with author
"auto" and the outcome as its reason. The lists act only through rules
(`decline if payment_card_fingerprint in @blocked_cards`), as every list does.
A failure here is logged and never fails the outcome request: the outcome is stored first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from risk.contract import Outcome
from risk.errors import NotFound
from serve.rules_store.records import NewItem
from serve.rules_store.store import RulesStore

log = logging.getLogger("risk.serve")
AUTHOR = "auto"
CONFIRMED_FRAUD = frozenset({"confirmed_fraud", "fraud_chargeback"})
TRUSTED_SOURCES = frozenset({"analyst", "processor"})
FIELDS = {"card_fingerprint": ("payment", "card_fingerprint"), "device": ("session", "device_id")}


class AutoBlocker:
    """Adds the card and device of confirmed-fraud orders to the configured block lists."""

    def __init__(self, store: RulesStore, lists: Mapping[Any, str],
                 logged_order: Callable[[str], dict[str, Any] | None]) -> None:
        self.store, self.lists, self.logged_order = store, dict(lists), logged_order

    def on_outcomes(self, outcomes: Iterable[Outcome]) -> int:
        """Block what the confirmed-fraud outcomes point at; the number of list items added."""
        added = 0
        for outcome in outcomes:
            if outcome.kind not in CONFIRMED_FRAUD or outcome.source not in TRUSTED_SOURCES:
                continue
            try:
                added += self._block(outcome)
            except Exception:
                log.exception("auto-block failed", extra={"order_id": outcome.order_id})
        return added

    def _block(self, outcome: Outcome) -> int:
        order = self.logged_order(outcome.order_id)
        if order is None:
            return 0
        added = 0
        for kind, list_name in self.lists.items():
            section, field = FIELDS[kind]
            value = (order.get(section) or {}).get(field)
            if not value:
                continue
            if value in self._current(list_name, kind):
                continue
            reason = f"{outcome.kind} reported by {outcome.source} for order {outcome.order_id}"
            self.store.add_items(list_name, [NewItem(str(value), reason)], author=AUTHOR, why=reason, change="auto")
            added += 1
        return added

    def _current(self, name: str, kind: str) -> set[str]:
        try:
            return {item.value for item in self.store.list_items(name)[1]}
        except NotFound:
            self.store.create_list(name, kind, author=AUTHOR, description="confirmed fraud, added automatically",
                                   why="RISK_AUTO_BLOCK_LISTS")
            return set()
