"""The one error a rule, a rule set or a list can be refused with."""

from __future__ import annotations

from risk.errors import InvalidInput


class RuleError(InvalidInput, ValueError):
    """A rule that cannot be compiled: where (0-based offset, 1-based line and column) and why.

    `str(err)` is "line L, column C: reason", the form the API and CLI show. A
    RuleSet names the offending rule in `rule_id` (None for a rule compiled alone).
    """

    def __init__(self, position: int, line: int, column: int, reason: str, rule_id: str | None = None) -> None:
        self.position, self.line, self.column, self.reason, self.rule_id = position, line, column, reason, rule_id
        super().__init__(f"line {line}, column {column}: {reason}")

    @classmethod
    def at(cls, text: str, position: int, reason: str) -> RuleError:
        """The error at a character offset of `text`, its line and column counted from it."""
        position = max(0, min(position, len(text)))
        before = text[:position]
        line = before.count("\n") + 1
        column = position - (before.rfind("\n") + 1) + 1
        return cls(position, line, column, reason)

    def for_rule(self, rule_id: str) -> RuleError:
        """The same error, naming the rule of a rule set it belongs to."""
        return RuleError(self.position, self.line, self.column, f"rule {rule_id!r}: {self.reason}", rule_id)


class ListError(InvalidInput, ValueError):
    """A list or a list item that cannot be stored: one line naming the item or the CSV line."""
