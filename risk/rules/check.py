"""From the parse tree to the checked tree: names resolved, types checked, literals read.

Every refusal is a RuleError at the offending token's position, saying why and, for
a mistyped name, the closest known one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from lark import Token, Tree

from risk.contract import COUNTRY_CODES, DECISIONS, RFC3339_TIME
from risk.rules import grammar
from risk.rules.attributes import DERIVED, LIST_KIND_OF_COLUMN, MODEL_DECISION, closest, known_names, resolve
from risk.rules.errors import RuleError
from risk.rules.lists import ListKind
from risk.rules.tree import (
    And,
    Arith,
    Attr,
    Compare,
    Condition,
    Const,
    Contains,
    InList,
    InValues,
    IsMissing,
    Neg,
    Not,
    Or,
    Value,
)

_ORDERED = frozenset({"<", "<=", ">", ">="})
_ARTICLE = {"number": "a number", "string": "a string", "bool": "true or false", "time": "a time"}


class Checker:
    """Checks one rule's parse tree against the attributes and the lists (name -> kind) it may use."""

    def __init__(self, text: str, lists: Mapping[str, ListKind]) -> None:
        self.text, self.lists = text, lists

    def error(self, pos: int, reason: str) -> RuleError:
        return RuleError.at(self.text, pos, reason)

    def rule(self, tree: Tree) -> tuple[str, Condition]:
        action, body = tree.children
        return str(action), self.condition(body)

    # ---- conditions ----------------------------------------------------------------------

    def condition(self, node: Tree | Token) -> Condition:
        if isinstance(node, Tree):
            handler = getattr(self, f"cond_{node.data}", None)
            if handler is not None:
                return handler(node)
        value = self.value(node)
        if value.type == "bool":  # a flag alone: `prepaid_card` means `prepaid_card == true`
            return Compare(value.pos, "==", value, Const(value.pos, 1.0, "bool"))
        raise self.error(value.pos, f"{self.describe(value)} is {_ARTICLE[value.type]}, not a condition "
                                    f"(compare it, e.g. '{self.source(value)} {self.example(value)}')")

    def cond_or_(self, node: Tree) -> Condition:
        items = tuple(self.condition(child) for child in node.children)
        return items[0] if len(items) == 1 else Or(_pos(node), items)

    def cond_and_(self, node: Tree) -> Condition:
        items = tuple(self.condition(child) for child in node.children)
        return items[0] if len(items) == 1 else And(_pos(node), items)

    def cond_not_(self, node: Tree) -> Condition:
        return Not(_pos(node), self.condition(node.children[0]))

    def cond_compare(self, node: Tree) -> Condition:
        left_tree, op_token, right_tree = node.children
        op_token = _token(op_token)
        op = str(op_token)
        left, right = self.value(left_tree), self.value(right_tree)
        left, right = self.coerce_time(left, right), self.coerce_time(right, left)
        if left.type != right.type:
            raise self.error(right.pos, f"cannot compare {self.describe(left)} ({_ARTICLE[left.type]}) with "
                                        f"{self.describe(right)} ({_ARTICLE[right.type]})")
        if op in _ORDERED and left.type in ("string", "bool"):
            what = "strings" if left.type == "string" else "true/false"
            raise self.error(_at(op_token), f"'{op}' does not apply to {what}: use == or !=")
        for one, other in ((left, right), (right, left)):
            if isinstance(other, Const):
                self.check_literal(one, other)
        return Compare(_at(op_token), op, left, right)

    def cond_in_values(self, node: Tree) -> Condition:
        operand = self.value(node.children[0])
        values: list[float | str] = []
        for child in node.children[1].children:
            literal = self.value(child)
            if literal.type != operand.type or operand.type == "time":
                raise self.error(literal.pos, f"{self.describe(literal)} is {_ARTICLE[literal.type]}, but "
                                              f"{self.describe(operand)} is {_ARTICLE[operand.type]}")
            assert isinstance(literal, Const)
            self.check_literal(operand, literal)
            values.append(literal.value)
        return InValues(operand.pos, operand, frozenset(values))

    def cond_not_in_values(self, node: Tree) -> Condition:
        return Not(_pos(node), self.cond_in_values(node))

    def cond_in_list(self, node: Tree) -> Condition:
        operand_tree, token = node.children
        token = _token(token)
        operand = self.value(operand_tree)
        name = str(token)[1:]
        if name not in self.lists:
            hint = closest(name, sorted(self.lists))
            known = f" (did you mean '@{hint}'?)" if hint else (" (no list is defined yet)" if not self.lists else "")
            raise self.error(_at(token), f"unknown list '@{name}'{known}")
        kind = self.lists[name]
        attribute = resolve(operand.name) if isinstance(operand, Attr) else None
        if attribute is None or attribute.list_kind != kind:
            fields = ", ".join(c for c, k in LIST_KIND_OF_COLUMN.items() if k == kind)
            raise self.error(operand.pos, f"'@{name}' is a {kind} list: it matches {fields}, not "
                                          f"{self.describe(operand)}")
        assert isinstance(operand, Attr)
        return InList(operand.pos, operand, name)

    def cond_not_in_list(self, node: Tree) -> Condition:
        return Not(_pos(node), self.cond_in_list(node))

    def cond_contains(self, node: Tree) -> Condition:
        operand, needle = self.value(node.children[0]), self.value(node.children[1])
        if operand.type != "string":
            raise self.error(operand.pos, f"'contains' looks for text in a string; {self.describe(operand)} is "
                                          f"{_ARTICLE[operand.type]}")
        if not (isinstance(needle, Const) and needle.type == "string"):
            raise self.error(needle.pos, "'contains' takes a quoted string on its right, "
                                         "e.g. email_domain contains \"mail\"")
        assert isinstance(needle.value, str)
        return Contains(operand.pos, operand, needle.value)

    def cond_is_missing(self, node: Tree) -> Condition:
        return IsMissing(_pos(node), self.value(node.children[0]))

    def cond_is_not_missing(self, node: Tree) -> Condition:
        return Not(_pos(node), self.cond_is_missing(node))

    # ---- values ----------------------------------------------------------------------

    def value(self, node: Tree | Token) -> Value:
        if not isinstance(node, Tree):
            raise self.error(node.start_pos or 0, f"unexpected {str(node)!r}")
        pos = _pos(node)
        kind = node.data
        if kind in ("or_", "and_") and len(node.children) == 1:  # a parenthesised value
            return self.value(node.children[0])
        if kind == "number":
            return Const(pos, float(_token(node.children[0])), "number")
        if kind == "negative_number":
            return Const(pos, -float(_token(node.children[1])), "number")
        if kind == "string":
            return Const(pos, _unquote(str(node.children[0])), "string")
        if kind in ("true", "false"):
            return Const(pos, 1.0 if kind == "true" else 0.0, "bool")
        if kind == "attribute":
            return self.attribute(pos, str(node.children[0]))
        if kind == "neg":
            operand = self.number(node.children[1], "'-'")
            if isinstance(operand, Const):
                assert isinstance(operand.value, float)
                return Const(pos, -operand.value, "number")
            return Neg(pos, operand)
        if kind == "arith":
            return self.arith(node)
        raise self.error(pos, "a condition cannot be used as a value here")

    def arith(self, node: Tree) -> Value:
        left_tree, op_token, right_tree = node.children
        op_token = _token(op_token)
        op = str(op_token)
        left, right = self.value(left_tree), self.value(right_tree)
        if op == "-" and left.type == right.type == "time":
            return Arith(_at(op_token), op, left, right)  # seconds between two times
        for side in (left, right):
            if side.type != "number":
                hint = " (two times subtract to seconds: t1 - t2)" if side.type == "time" else ""
                raise self.error(side.pos, f"'{op}' needs numbers; {self.describe(side)} is "
                                           f"{_ARTICLE[side.type]}{hint}")
        if isinstance(left, Const) and isinstance(right, Const) and not (op == "/" and right.value == 0):
            return Const(left.pos, _fold(op, float(left.value), float(right.value)), "number")
        return Arith(_at(op_token), op, left, right)

    def number(self, node: Tree | Token, what: str) -> Value:
        value = self.value(node)
        if value.type != "number":
            raise self.error(value.pos, f"{what} needs a number; {self.describe(value)} is {_ARTICLE[value.type]}")
        return value

    def attribute(self, pos: int, name: str) -> Value:
        if name in DERIVED:
            return _shifted(self.derived(name), pos)
        attribute = resolve(name)
        if attribute is None:
            hint = closest(name, known_names())
            raise self.error(pos, f"unknown attribute '{name}'" + (f" (did you mean '{hint}'?)" if hint else ""))
        return Attr(pos, attribute.name, attribute.type)

    def derived(self, name: str) -> Value:
        text = f"review if {DERIVED[name]}"
        tree = grammar.parse(text)
        return Checker(text, self.lists).value(tree.children[1])

    # ---- literals ------------------------------------------------------------------------

    def coerce_time(self, value: Value, other: Value) -> Value:
        """A string literal compared with a time is a time: RFC 3339, read once here."""
        if not (isinstance(value, Const) and value.type == "string" and other.type == "time"):
            return value
        assert isinstance(value.value, str)
        if not RFC3339_TIME.match(value.value):
            raise self.error(value.pos, f"{value.value!r} is not an RFC 3339 time with a timezone, "
                                        f"e.g. \"2026-11-24T10:15:02Z\"")
        return Const(value.pos, datetime.fromisoformat(value.value.replace("z", "Z")).timestamp(), "time")

    def check_literal(self, attribute: Value, literal: Const) -> None:
        """Literals that can never match are refused: a country that is no ISO code, a decision that is none."""
        if not (isinstance(attribute, Attr) and literal.type == "string"):
            return
        resolved = resolve(attribute.name)
        if resolved is not None and resolved.list_kind == "country" and literal.value not in COUNTRY_CODES:
            raise self.error(literal.pos, f"{literal.value!r} is not an ISO 3166-1 alpha-2 country code "
                                          f"(upper case, e.g. 'US')")
        if attribute.name == MODEL_DECISION and literal.value not in DECISIONS:
            raise self.error(literal.pos, f"model_decision is one of {', '.join(DECISIONS)}, never {literal.value!r}")

    def describe(self, value: Value) -> str:
        source = self.source(value)
        return source if source[:1] in ("'", '"') else f"'{source}'"

    def source(self, value: Value) -> str:
        """The rule's own text of a value (its first token, for a compound one)."""
        match = re.match(r"""'[^']*'|"[^"]*"|[A-Za-z0-9_.@]+|.""", self.text[value.pos:])
        return match.group(0) if match else ""

    @staticmethod
    def example(value: Value) -> str:
        return {"number": "> 0", "string": '== "text"', "time": '> "2026-01-01T00:00:00Z"'}.get(value.type, "")


def _token(node: Tree | Token) -> Token:
    assert isinstance(node, Token), node
    return node


def _fold(op: str, x: float, y: float) -> float:
    """Arithmetic on two constants, done once when the rule is compiled."""
    return {"+": x + y, "-": x - y, "*": x * y}[op] if op != "/" else x / y


def _at(token: Token) -> int:
    return token.start_pos or 0


def _pos(node: Tree) -> int:
    return node.meta.start_pos if not node.meta.empty else 0


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _shifted(value: Value, pos: int) -> Value:
    """A derived attribute's tree, reported at the position of the name that asked for it."""
    if isinstance(value, Attr):
        return Attr(pos, value.name, value.type)
    if isinstance(value, Const):
        return Const(pos, value.value, value.type)
    if isinstance(value, Neg):
        return Neg(pos, _shifted(value.operand, pos))
    return Arith(pos, value.op, _shifted(value.left, pos), _shifted(value.right, pos), value.type)
