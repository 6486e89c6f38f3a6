"""A sentence a person understands for a feature's value ("6 cards used with this device in the last hour").

Reasons name a feature by its stable code; this turns (feature, value) into words. Each
feature declares its sentence where it is defined (features.row, features.history):
the template for a known and for an unknown value, and the parts it is made of (entity,
window, label), said here in words. Given the order's context (`order_context`), money
is said in the order's currency ("49.99 EUR", "4,999 JPY") and a country mismatch names
both countries. Every sentence starts with a capital letter (one style for all reasons).
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Mapping
from typing import Any

import pycountry

from features.definition import FeatureDef, Sentence
from features.history import ENTITY_WORDS, HISTORY_FEATURES, WINDOW_WORDS
from features.row import ROW_FEATURES
from risk.contract import Order
from risk.money import format_money

OrderContext = Mapping[str, str | None]  # flat contract column -> value, as `order_context` gives it

_FLAG = re.compile(r"\{flag:([^|}]*)\|([^}]*)\}")


def _parts(feature: FeatureDef) -> dict[str, str]:
    """The definition's parts in words, for the template's {entity}, {Entity}, {window}, {label}, {other}."""
    parts: dict[str, str] = {}
    if feature.entity is not None:
        parts["entity"] = ENTITY_WORDS[feature.entity]
        parts["Entity"] = parts["entity"].capitalize()
    if feature.window is not None:
        parts["window"] = WINDOW_WORDS[feature.window]
    if feature.label is not None:
        parts["label"] = feature.label
    if feature.other is not None:
        parts["other"] = ENTITY_WORDS[feature.other]
    return parts


_SAYING: dict[str, tuple[Sentence, Mapping[str, str]]] = {
    **{f.name: (f.sentence, {}) for f in ROW_FEATURES},
    **{f.name: (f.sentence, _parts(f)) for f in HISTORY_FEATURES},
}


def order_context(order: Order) -> dict[str, str | None]:
    """What sentences may say of the order itself: its currency and countries (flat column names)."""
    return {
        "currency": order.currency,
        "buyer_country": order.buyer.country,
        "payment_card_country": order.payment.card_country,
        "session_ip_country": None if order.session is None else order.session.ip_country,
        "shipping_country": None if order.shipping is None else order.shipping.country,
    }


def sentence(feature: str, value: float, order: OrderContext | None = None) -> str:
    """Words for `feature` = `value` (unknown values are said to be unknown), of the order in `order` if given."""
    text = _words(feature, value, order or {})
    return text[:1].upper() + text[1:]


def _words(feature: str, value: float, order: OrderContext) -> str:
    saying = _SAYING.get(feature)
    if value is None or math.isnan(value):
        if saying is None or saying[0].unknown is None:
            return f"{feature.replace('_', ' ')}: unknown"
        return saying[0].unknown.format(**saying[1])
    if saying is None:
        return f"{feature.replace('_', ' ')} = {value:g}"
    return _fill(*saying, value, order)


def country_name(code: str) -> str:
    """A country code as a person reads it: "Nigeria (NG)"; the code alone if pycountry does not know it."""
    return _country_name(code.upper())


@functools.lru_cache(maxsize=512)
def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return f"{getattr(country, 'common_name', None) or country.name} ({code})"


def _named(template: str, order: OrderContext) -> str | None:
    """`template` with the order's fields filled in (countries named), None if one of them is unknown."""
    fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    values: dict[str, Any] = {}
    for name in fields:
        value = order.get(name)
        if value is None:
            return None
        values[name] = country_name(value) if name.endswith("country") else value
    return template.format(**values)


def _fill(said: Sentence, parts: Mapping[str, str], value: float, order: OrderContext) -> str:
    template = said.known
    if said.named is not None and value >= 0.5:
        named = _named(said.named, order)
        if named is not None:
            return named
    flag = _FLAG.search(template)
    if flag:
        return template.replace(flag.group(0), flag.group(1) if value >= 0.5 else flag.group(2))
    if said.words:
        index = int(value)
        return template.format(word=said.words[index] if 0 <= index < len(said.words) else "other")
    values = {
        "value": value, "count": f"{value:,.0f}", "money": format_money(value, order.get("currency")),
        "percent": f"{value:.1%}",
        "duration": _duration(value), "days": _duration(value * 86400),
        "exp_count": f"{math.expm1(min(value, 50.0)):,.0f}",
    }
    return template.format(**values, **parts)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if abs(seconds) >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"
