"""The store's refusals, each a RiskError with its HTTP status; 422s carry `problems` like every 422 answer."""

from __future__ import annotations

from typing import Any

from risk.errors import InvalidInput, RiskError


class RefusedChange(InvalidInput):
    """A change that breaks a rule of the store (bad name, kind, value, time): 422 naming the field."""

    def __init__(self, message: str, field: str = "(body)") -> None:
        super().__init__(message)
        self.fields: dict[str, Any] = {"problems": [{"field": field, "reason": message}]}


class InvalidRule(RefusedChange):
    """A rule text that does not compile: where and why (from risk.rules.RuleError)."""

    def __init__(self, rule_id: str, position: int, line: int, column: int, reason: str) -> None:
        super().__init__(f"rule {rule_id!r}: line {line}, column {column}: {reason}", "text")
        self.fields.update(rule_id=rule_id, position=position, line=line, column=column, reason=reason)


class NotAllowed(RiskError):
    """A change this person may not make (approving their own rule)."""

    status = 403


class BacktestBusy(RiskError):
    """Another backtest is running in this process: one at a time, so backtests cannot starve scoring (429)."""

    status = 429
