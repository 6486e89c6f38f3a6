"""What a rule can name: order fields, features, scores and the model's decision, with their types.

Every name comes from a declaration elsewhere: order fields from the contract's flat
columns (risk.contract.ORDER_COLUMNS), features from features.catalog (a feature whose
reason sentence is a `{flag:...}` is a yes/no flag), so a new field or feature is a
new attribute without an edit here. Short aliases (`card_country` for
`payment_card_country`) are generated: a flat name without its section prefix, when no
other name claims it. A handful of derived attributes are expressions over the others,
written in the rule language itself.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from features.catalog import FEATURE_NAMES
from features.history import HISTORY_FEATURES
from features.row import ROW_FEATURES
from risk.contract import ORDER_COLUMNS, SECTIONS, Order, flat_fields
from risk.rules.lists import ListKind

AttrType = Literal["number", "string", "bool", "time"]
Source = Literal["order", "feature", "score", "decision"]


@dataclass(frozen=True)
class Attribute:
    """A value a rule can read; `name` is also its column in a batch table."""

    name: str
    type: AttrType
    source: Source
    feature_index: int = -1          # position in FEATURE_NAMES (features only)
    list_kind: ListKind | None = None  # the kind of list `name in @list` may use
    default: float | None = None       # what a missing value reads as (the contract's default: quantity 1)


_COLUMN_TYPES: dict[str, AttrType] = {"time": "time", "int": "number", "bool": "bool", "str": "string"}

LIST_KIND_OF_COLUMN: dict[str, ListKind] = {
    "payment_card_fingerprint": "card_fingerprint",
    "payment_card_bin": "card_bin",
    "session_device_id": "device",
    "session_ip": "ip",
    "buyer_email_domain": "email_domain",
    "buyer_account_id": "buyer",
    "seller_account_id": "seller",
    "shipping_address_hash": "shipping_address",
    "buyer_country": "country",
    "seller_country": "country",
    "session_ip_country": "country",
    "payment_card_country": "country",
    "shipping_country": "country",
}
"""Which order field each list kind matches: `x in @list` needs x of the list's kind."""

CATEGORICAL_FIELDS: dict[str, str] = {"card_funding": "payment_funding", "channel": "session_channel"}
"""A categorical feature is a code of an order field; rules read the field's text instead."""

DERIVED: dict[str, str] = {
    "buyer_account_age_hours": "buyer_account_age_days * 24",
    "seller_account_age_hours": "seller_account_age_days * 24",
}
"""Attributes that are expressions over others, in the rule language (no feature gives them as such)."""

SCORES = ("fraud_score", "regret_score")
MODEL_DECISION = "model_decision"


def _feature_types() -> dict[str, AttrType]:
    flags = {f.name for f in ROW_FEATURES if "{flag:" in f.sentence.known}
    flags |= {f.name for f in HISTORY_FEATURES if "{flag:" in f.sentence.known}
    categorical = {f.name for f in ROW_FEATURES if f.categorical}
    unmapped = categorical - set(CATEGORICAL_FIELDS) - set(ORDER_COLUMNS)
    if unmapped:  # a new categorical feature: say which order field it codes
        raise RuntimeError(f"categorical features without their order field in CATEGORICAL_FIELDS: {sorted(unmapped)}")
    return {name: "bool" if name in flags else "number" for name in FEATURE_NAMES if name not in categorical}


def _build() -> dict[str, Attribute]:
    attributes: dict[str, Attribute] = {}
    for name, kind in _feature_types().items():
        attributes[name] = Attribute(name, kind, "feature", FEATURE_NAMES.index(name))
    # order fields win a shared name: `amount` is the same value, `post_category` the text, not its code
    defaults = {column: field.info.default for column, field in flat_fields(Order).items()}
    for column, storage in ORDER_COLUMNS.items():
        kind, default = _COLUMN_TYPES[storage], defaults.get(column)
        attributes[column] = Attribute(column, kind, "order", list_kind=LIST_KIND_OF_COLUMN.get(column),
                                       default=float(default) if isinstance(default, int | float) else None)
    for name in SCORES:
        attributes[name] = Attribute(name, "number", "score")
    attributes[MODEL_DECISION] = Attribute(MODEL_DECISION, "string", "decision")
    return attributes


ATTRIBUTES: dict[str, Attribute] = _build()
"""Every attribute by its canonical name (a flat order column, a feature name, a score, model_decision)."""


def _aliases() -> dict[str, str]:
    claimed = set(ATTRIBUTES) | set(DERIVED)
    candidates: dict[str, list[str]] = {}
    for column in ORDER_COLUMNS:
        for section in SECTIONS:
            if column.startswith(section + "_"):
                candidates.setdefault(column[len(section) + 1:], []).append(column)
    aliases = {short: columns[0] for short, columns in candidates.items() if len(columns) == 1 and short not in claimed}
    aliases.update({feature: column for feature, column in CATEGORICAL_FIELDS.items() if feature not in ATTRIBUTES})
    return aliases


ALIASES: dict[str, str] = _aliases()
"""Short names: `card_country` -> `payment_card_country`, `ip_country` -> `session_ip_country`, ..."""


def resolve(name: str) -> Attribute | None:
    """The attribute a name (canonical or alias) stands for; None if unknown (derived ones: see DERIVED)."""
    attribute = ATTRIBUTES.get(name)
    if attribute is None and name in ALIASES:
        attribute = ATTRIBUTES[ALIASES[name]]
    return attribute


def known_names() -> list[str]:
    """Every name a rule may use."""
    return sorted(set(ATTRIBUTES) | set(ALIASES) | set(DERIVED))


def closest(name: str, candidates: list[str]) -> str | None:
    """The candidate a mistyped name most likely meant."""
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def catalog() -> list[dict[str, str]]:
    """Every name a rule may use, with its type and what it reads (for an API listing or an editor's hints)."""
    rows = [{"name": a.name, "type": a.type, "source": a.source, "reads": a.name} for a in ATTRIBUTES.values()]
    rows += [{"name": alias, "type": ATTRIBUTES[column].type, "source": "alias", "reads": column}
             for alias, column in ALIASES.items()]
    rows += [{"name": name, "type": "number", "source": "derived", "reads": text} for name, text in DERIVED.items()]
    return sorted(rows, key=lambda row: row["name"])
