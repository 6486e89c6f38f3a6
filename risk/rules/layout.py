"""Where each attribute sits in the online values list, and how to read them all per order cheaply.

Reading attribute by attribute cost about 1 us each (a closure, a getattr chain, a
conversion; 30 us for the 32 attributes of the 100-rule benchmark). Here they are read
in groups: the features in one indexing call, each section of the order in one
`attrgetter` call, then only the values that need it converted (times to seconds,
missing numbers to NaN). List memberships a rule set asks about are looked up once
per order, whichever and however many rules use them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from risk.contract import ORDER_COLUMNS, SECTIONS
from risk.rules.attributes import ATTRIBUTES, MODEL_DECISION
from risk.rules.lists import ListSnapshot
from risk.rules.online import RuleInputs

NAN = math.nan


def _time(value: Any) -> float:
    return NAN if value is None else float(value.timestamp())


def _number(value: Any) -> Any:
    return NAN if value is None else value


class Layout:
    """Slots: [at_us, lists, features..., order fields by section..., scores, decision, list probes...]."""

    def __init__(self, names: Iterable[str], probes: Iterable[tuple[str, str]] = ()) -> None:
        wanted = sorted(set(names) | {attribute for _, attribute in probes}, key=_layout_key)
        self.slots: dict[str, int] = {}
        features = [n for n in wanted if ATTRIBUTES[n].source == "feature"]
        self.feature_index = np.array([ATTRIBUTES[n].feature_index for n in features], dtype="intp")
        self.feature_getter = _tuple_getter(operator.itemgetter, [ATTRIBUTES[n].feature_index for n in features])
        self._place(features)
        self.sections: list[tuple[str | None, Callable[[Any], tuple[Any, ...]], list[None]]] = []
        self.conversions: list[tuple[int, Callable[[Any], Any]]] = []
        for section in (None, *SECTIONS):
            columns = [n for n in wanted if ATTRIBUTES[n].source == "order" and _section(n) == section]
            if columns:
                fields = [n if section is None else n[len(section) + 1:] for n in columns]
                self.sections.append((section, _tuple_getter(operator.attrgetter, fields), [None] * len(fields)))
                self._place(columns)
                self.conversions += [(self.slots[n], convert) for n in columns if (convert := _conversion(n))]
        others = [n for n in wanted if ATTRIBUTES[n].source in ("score", "decision")]
        self.others: list[Callable[[RuleInputs], Any]] = [_other(n) for n in others]
        self._place(others)
        self.probes: list[tuple[str, int]] = []
        self.probe_slots: dict[tuple[str, str], int] = {}
        for list_name, attribute in dict.fromkeys(probes):
            self.probe_slots[(list_name, attribute)] = len(self.slots) + len(self.probes) + 2
            self.probes.append((list_name, self.slots[attribute]))

    def _place(self, names: list[str]) -> None:
        for name in names:
            self.slots[name] = len(self.slots) + 2

    def slot(self, name: str) -> int:
        return self.slots[name]

    def probe(self, list_name: str, attribute: str) -> int:
        return self.probe_slots[(list_name, attribute)]

    def read(self, inputs: RuleInputs, lists: ListSnapshot) -> list[Any]:
        """The values list of one order (see the module's docstring)."""
        vals: list[Any] = [inputs.at_us, lists]  # slots AT and LISTS
        if len(self.feature_index):
            features = inputs.features
            if isinstance(features, np.ndarray):
                vals += features[self.feature_index].tolist()
            else:
                vals += self.feature_getter(features)
        order = inputs.order
        for section, getter, nones in self.sections:
            part = order if section is None else getattr(order, section)
            vals += nones if part is None else getter(part)
        for slot, convert in self.conversions:
            vals[slot] = convert(vals[slot])
        for other in self.others:
            vals.append(other(inputs))
        at = inputs.at_us
        for list_name, slot in self.probes:
            value = vals[slot]
            vals.append(None if value is None else lists.contains(list_name, value, at))
        return vals


def _layout_key(name: str) -> tuple[int, int]:
    attribute = ATTRIBUTES[name]
    if attribute.source == "feature":
        return (0, attribute.feature_index)
    if attribute.source == "order":
        return (1, list(ORDER_COLUMNS).index(name))
    return (2, 0 if name != MODEL_DECISION else 1)


def _section(column: str) -> str | None:
    return next((s for s in SECTIONS if column.startswith(s + "_")), None)


def _tuple_getter(kind: Callable[..., Callable[[Any], Any]], keys: list[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """itemgetter / attrgetter that always gives a tuple (with one key they give the bare value)."""
    if not keys:
        return lambda _: ()
    getter = kind(*keys)
    if len(keys) == 1:
        return lambda obj: (getter(obj),)
    return getter


def _conversion(column: str) -> Callable[[Any], Any] | None:
    kind = ATTRIBUTES[column].type
    if kind == "time":
        return _time
    if kind in ("number", "bool"):
        return _number
    return None


def _other(name: str) -> Callable[[RuleInputs], Any]:
    if name == MODEL_DECISION:
        return lambda inputs: inputs.model_decision
    return operator.attrgetter(name)
