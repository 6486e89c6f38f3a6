"""Random rules against a reference three-valued evaluator: online and batch must both agree with it.

The reference is written here, independently of the compiler: Kleene logic over
True / False / None (unknown), a comparison with a missing value unknown, `is missing`
never unknown, and a rule matching only when its condition is True.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk.rules import ListSnapshot, compile_rule
from tests.risk.rules.inputs import rule_inputs

NUMBERS = {name: name for name in ("amount", "buyer_followers", "order_count_by_card_1h")}
STRINGS = {"wallet": "payment_wallet", "buyer_country": "buyer_country", "card_country": "payment_card_country"}
FLAGS = {"email_verified": "buyer_email_verified", "prepaid_card": "prepaid_card"}
WORDS = {"wallet": ["apple_pay", "google_pay", "x"], "buyer_country": ["US", "GB", "NG"],
         "card_country": ["US", "GB", "NG"]}
NO_LISTS = ListSnapshot([])
Ref = Any  # a function row -> True / False / None


def _name(alias: str) -> str:
    return alias


def _known(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _cmp(op: str, x: Any, y: Any) -> bool | None:
    if not (_known(x) and _known(y)):
        return None
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y}[op]


ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])


@st.composite
def leaves(draw: st.DrawFn) -> tuple[str, Ref]:
    kind = draw(st.sampled_from(["num", "numnum", "arith", "str", "in", "missing", "flag", "contains"]))
    if kind == "num":
        a, op, c = draw(st.sampled_from(list(NUMBERS))), draw(ops), draw(st.integers(-1, 4))
        return f"{_name(a)} {op} {c}", lambda r: _cmp(op, r[NUMBERS[a]], c)
    if kind == "numnum":
        a, b, op = draw(st.sampled_from(list(NUMBERS))), draw(st.sampled_from(list(NUMBERS))), draw(ops)
        return f"{_name(a)} {op} {_name(b)}", lambda r: _cmp(op, r[NUMBERS[a]], r[NUMBERS[b]])
    if kind == "arith":
        a, op, c, d = draw(st.sampled_from(list(NUMBERS))), draw(ops), draw(st.integers(0, 3)), draw(st.integers(0, 4))

        def arith(r: dict[str, Any]) -> Any:
            x = r[NUMBERS[a]]
            return None if not _known(x) or c == 0 else (x * 2 - 1) / c
        return f"({_name(a)} * 2 - 1) / {c} {op} {d}", lambda r: _cmp(op, arith(r), d)
    if kind == "str":
        a, op = draw(st.sampled_from(list(STRINGS))), draw(st.sampled_from(["==", "!="]))
        w = draw(st.sampled_from(WORDS[a]))
        return f"{a} {op} '{w}'", lambda r: _cmp(op, r[STRINGS[a]], w)
    if kind == "in":
        a = draw(st.sampled_from(list(STRINGS)))
        words = draw(st.lists(st.sampled_from(WORDS[a]), min_size=1, max_size=2))
        negated = draw(st.booleans())
        text = f"{a} {'not in' if negated else 'in'} ({', '.join(repr(w) for w in words)})"

        def member(r: dict[str, Any]) -> bool | None:
            x = r[STRINGS[a]]
            return None if x is None else (x not in words if negated else x in words)
        return text, member
    if kind == "missing":
        a = draw(st.sampled_from([*NUMBERS, *STRINGS, *FLAGS]))
        column = {**NUMBERS, **STRINGS, **FLAGS}[a]
        negated = draw(st.booleans())
        return (f"{_name(a)} is {'not ' if negated else ''}missing",
                lambda r: _known(r[column]) if negated else not _known(r[column]))
    if kind == "flag":
        a, alone, value = draw(st.sampled_from(list(FLAGS))), draw(st.booleans()), draw(st.booleans())
        text = a if alone else f"{a} == {'true' if value else 'false'}"
        want = 1.0 if alone or value else 0.0
        return text, lambda r: _cmp("==", r[FLAGS[a]], want)
    needle = draw(st.sampled_from(["pay", "apple", "x"]))
    wallet = "payment_wallet"
    return f"wallet contains '{needle}'", lambda r: None if r[wallet] is None else needle in r[wallet]


def _and(x: Any, y: Any) -> Any:
    return False if x is False or y is False else (True if x is True and y is True else None)


def _or(x: Any, y: Any) -> Any:
    return True if x is True or y is True else (False if x is False and y is False else None)


def conditions() -> st.SearchStrategy[tuple[str, Ref]]:
    def extend(inner: st.SearchStrategy[tuple[str, Ref]]) -> st.SearchStrategy[tuple[str, Ref]]:
        def combine(op: str, a: tuple[str, Ref], b: tuple[str, Ref]) -> tuple[str, Ref]:
            if op == "not":
                return f"not ({a[0]})", lambda r: None if (v := a[1](r)) is None else not v
            join = _and if op == "and" else _or
            return f"({a[0]}) {op} ({b[0]})", lambda r: join(a[1](r), b[1](r))
        return st.builds(combine, st.sampled_from(["and", "or", "not"]), inner, inner)
    return st.recursive(leaves(), extend, max_leaves=6)


rows = st.fixed_dictionaries({
    "amount": st.integers(1, 4).map(float),
    "buyer_followers": st.one_of(st.none(), st.integers(0, 4).map(float)),
    "order_count_by_card_1h": st.one_of(st.none(), st.integers(0, 4).map(float)),
    "payment_wallet": st.one_of(st.none(), st.sampled_from(WORDS["wallet"])),
    "buyer_country": st.one_of(st.none(), st.sampled_from(WORDS["buyer_country"])),
    "payment_card_country": st.one_of(st.none(), st.sampled_from(WORDS["card_country"])),
    "buyer_email_verified": st.one_of(st.none(), st.booleans()),
    "prepaid_card": st.one_of(st.none(), st.sampled_from([0.0, 1.0])),
})


def _online(rule: Any, row: dict[str, Any]) -> bool:
    inputs = rule_inputs(
        features={k: math.nan if row[k] is None else row[k] for k in ("order_count_by_card_1h", "prepaid_card")},
        **{"amount": int(row["amount"]), "buyer.followers": row["buyer_followers"],
           "payment.wallet": row["payment_wallet"], "buyer.country": row["buyer_country"],
           "payment.card_country": row["payment_card_country"], "buyer.email_verified": row["buyer_email_verified"]})
    return rule.matches(inputs, NO_LISTS)  # type: ignore[no-any-return]


def _batch(rule: Any, table_rows: list[dict[str, Any]]) -> list[bool]:
    table = {}
    for column in table_rows[0]:
        values = [r[column] for r in table_rows]
        if column in ("payment_wallet", "buyer_country", "payment_card_country"):
            table[column] = np.array(values, dtype=object)
        else:
            table[column] = np.array([math.nan if v is None else float(v) for v in values])
    return rule.matches_batch(table, NO_LISTS, np.zeros(len(table_rows), dtype="int64")).tolist()  # type: ignore[no-any-return]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=conditions(), table_rows=st.lists(rows, min_size=1, max_size=5))
def test_online_and_batch_follow_the_reference_three_valued_logic(condition, table_rows):
    text, reference = condition
    rule = compile_rule(f"review if {text}", {})
    expected = [reference(r) is True for r in table_rows]
    assert [_online(rule, r) for r in table_rows] == expected, text
    assert _batch(rule, table_rows) == expected, text
