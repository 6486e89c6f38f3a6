"""The checked tree of a rule: typed nodes, every attribute resolved to its canonical name.

Values are numbers (float; flags 1.0 / 0.0; times as float seconds since the epoch),
strings, or missing (NaN for numbers, None for strings). Conditions are three-valued:
true, false or unknown (a comparison with a missing value); a rule matches only when
its condition is definitely true. Both evaluators (online, batch) walk these nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from risk.rules.attributes import AttrType


@dataclass(frozen=True)
class Attr:
    pos: int
    name: str
    type: AttrType


@dataclass(frozen=True)
class Const:
    pos: int
    value: float | str
    type: AttrType


@dataclass(frozen=True)
class Arith:
    pos: int
    op: str            # + - * /
    left: Value
    right: Value
    type: AttrType = "number"


@dataclass(frozen=True)
class Neg:
    pos: int
    operand: Value
    type: AttrType = "number"


Value = Attr | Const | Arith | Neg


@dataclass(frozen=True)
class Compare:
    pos: int
    op: str            # == != < <= > >=
    left: Value
    right: Value


@dataclass(frozen=True)
class InValues:
    pos: int
    operand: Value
    values: frozenset[float | str]


@dataclass(frozen=True)
class InList:
    pos: int
    operand: Attr
    list_name: str


@dataclass(frozen=True)
class Contains:
    pos: int
    operand: Value
    needle: str


@dataclass(frozen=True)
class IsMissing:
    pos: int
    operand: Value


@dataclass(frozen=True)
class Not:
    pos: int
    item: Condition


@dataclass(frozen=True)
class And:
    pos: int
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    pos: int
    items: tuple[Condition, ...]


Condition = Compare | InValues | InList | Contains | IsMissing | Not | And | Or


def attributes_of(node: Value | Condition) -> set[str]:
    """The canonical attribute names a tree reads."""
    if isinstance(node, Attr):
        return {node.name}
    if isinstance(node, Const):
        return set()
    found: set[str] = set()
    for child in children(node):
        found |= attributes_of(child)
    return found


def lists_of(node: Value | Condition) -> set[str]:
    """The list names a tree reads."""
    if isinstance(node, InList):
        return {node.list_name}
    found: set[str] = set()
    for child in children(node):
        found |= lists_of(child)
    return found


def children(node: Value | Condition) -> tuple[Value | Condition, ...]:
    if isinstance(node, Arith | Compare):
        return (node.left, node.right)
    if isinstance(node, Neg | InValues | InList | Contains | IsMissing):
        return (node.operand,)
    if isinstance(node, Not):
        return (node.item,)
    if isinstance(node, And | Or):
        return node.items
    return ()


def in_lists(node: Value | Condition) -> list[InList]:
    """Every `x in @list` of a tree, in reading order."""
    found = [node] if isinstance(node, InList) else []
    for child in children(node):
        found += in_lists(child)
    return found


def depth(node: Value | Condition) -> int:
    """Levels of nesting of a tree (a leaf is 1)."""
    return 1 + max((depth(child) for child in children(node)), default=0)
