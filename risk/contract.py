"""The data contract (shared/contract/README.md, version 1) as pydantic models.

The nested models are what the API speaks; the flat column list is what data sets
on disk hold. Both come from the same model classes, so a field is declared once and
its flat column name (`section_field`) is derived, never typed a second time.
Unknown fields are ignored: the checkout may send more than we know.
"""

from __future__ import annotations

import ipaddress
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCY_CODES = frozenset(c.alpha_3 for c in pycountry.currencies)

FUNDING_KINDS = ("credit", "debit", "prepaid", "unknown")
CHANNELS = ("app", "web")
OUTCOME_KINDS = ("fraud_chargeback", "confirmed_fraud", "dispute", "refund", "confirmed_legit")
OUTCOME_SOURCES = ("processor", "analyst", "buyer", "seller")
FRAUD_KINDS = frozenset({"fraud_chargeback", "confirmed_fraud"})
REGRET_KINDS = frozenset({"dispute", "refund"})
DECISIONS = ("approve", "review", "decline")
MAX_ID_LENGTH = 128


def _country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _currency(code: str) -> str:
    if code not in CURRENCY_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def _ip(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 or IPv6 address") from None
    return text


Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH)]
Country = Annotated[str, AfterValidator(_country)]
Currency = Annotated[str, AfterValidator(_currency)]
IpAddress = Annotated[str, AfterValidator(_ip)]
CardBin = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,8}$")]
Time = AwareDatetime
Count = Annotated[int, Field(strict=True, ge=0)]
Flag = Annotated[bool, Field(strict=True)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Buyer(_Part):
    account_id: Id
    created_at: Time | None = None
    country: Country | None = None
    email_domain: str | None = None
    email_verified: Flag | None = None
    phone_verified: Flag | None = None
    followers: Count | None = None
    following: Count | None = None


class Seller(_Part):
    account_id: Id
    created_at: Time | None = None
    country: Country | None = None
    verified: Flag | None = None
    followers: Count | None = None


class Post(_Part):
    post_id: Id
    created_at: Time | None = None
    promoted: Flag | None = None
    likes: Count | None = None
    reposts: Count | None = None
    replies: Count | None = None
    views: Count | None = None
    category: str | None = None
    digital: Flag | None = None
    listed_price: Count | None = None


class Session(_Part):
    device_id: Id | None = None
    ip: IpAddress | None = None
    ip_country: Country | None = None
    channel: Literal["app", "web"] | None = None
    post_viewed_at: Time | None = None


class Payment(_Part):
    card_fingerprint: Id
    card_bin: CardBin | None = None
    card_country: Country | None = None
    funding: Literal["credit", "debit", "prepaid", "unknown"] | None = None
    wallet: str | None = None


class Shipping(_Part):
    country: Country | None = None
    address_hash: Id | None = None
    matches_billing: Flag | None = None


class Order(_Part):
    """What the checkout sends before charging the card."""

    order_id: Id
    created_at: Time
    amount: Annotated[int, Field(strict=True, gt=0)]
    currency: Currency
    quantity: Annotated[int, Field(strict=True, ge=1)] = 1
    buyer: Buyer
    seller: Seller
    post: Post | None = None
    session: Session | None = None
    payment: Payment
    shipping: Shipping | None = None


class Outcome(_Part):
    """What is learned about an order later; `reported_at` is when the label exists."""

    order_id: Id
    kind: Literal["fraud_chargeback", "confirmed_fraud", "dispute", "refund", "confirmed_legit"]
    reported_at: Time
    source: Literal["processor", "analyst", "buyer", "seller"] | None = None


class Reason(BaseModel):
    """One factor behind a decision: a stable code for machines, a sentence for people."""

    code: str
    message: str
    feature: str | None = None
    value: float | None = None
    contribution: float | None = None


class RuleMatch(BaseModel):
    """An analyst rule that matched the order."""

    rule_id: str
    action: Literal["approve", "review", "decline"] | None = None
    description: str | None = None


class Decision(BaseModel):
    """The answer to an order."""

    order_id: str
    decision: Literal["approve", "review", "decline"]
    fraud_score: Annotated[float, Field(ge=0.0, le=1.0)]
    regret_score: Annotated[float, Field(ge=0.0, le=1.0)]
    reasons: list[Reason] = []
    rules: list[RuleMatch] = []
    model_version: str
    degraded: bool = False
    elapsed_ms: float | None = None


# ---- the flat layout ---------------------------------------------------------------

ColumnKind = Literal["time", "int", "bool", "str"]


def _kind_of(annotation: Any) -> ColumnKind:
    """The storage kind of a field, read from its type (Optional and Annotated unwrapped)."""
    base = annotation
    while True:
        origin = typing.get_origin(base)
        if origin is Annotated:
            base = typing.get_args(base)[0]
        elif origin in (typing.Union, types.UnionType):
            base = next(a for a in typing.get_args(base) if a is not type(None))
        else:
            break
    if base is AwareDatetime or (isinstance(base, type) and issubclass(base, datetime)):
        return "time"
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    return "str"


def _sections() -> dict[str, type[_Part]]:
    sections = {}
    for name, field in Order.model_fields.items():
        annotation = field.annotation
        args = typing.get_args(annotation) or (annotation,)
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, _Part):
                sections[name] = arg
    return sections


SECTIONS: dict[str, type[_Part]] = _sections()
OPTIONAL_SECTIONS = frozenset(
    name for name, field in Order.model_fields.items() if name in SECTIONS and not field.is_required()
)


def _order_columns() -> dict[str, ColumnKind]:
    columns: dict[str, ColumnKind] = {}
    for name, field in Order.model_fields.items():
        if name in SECTIONS:
            for sub, subfield in SECTIONS[name].model_fields.items():
                columns[f"{name}_{sub}"] = _kind_of(subfield.annotation)
        else:
            columns[name] = _kind_of(field.annotation)
    return columns


ORDER_COLUMNS: dict[str, ColumnKind] = _order_columns()
"""Every flat order column, in contract order, with its storage kind."""

REQUIRED_ORDER_COLUMNS = (
    "order_id",
    "created_at",
    "amount",
    "currency",
    "buyer_account_id",
    "seller_account_id",
    "payment_card_fingerprint",
)
OUTCOME_COLUMNS: dict[str, ColumnKind] = {name: _kind_of(f.annotation) for name, f in Outcome.model_fields.items()}
REQUIRED_OUTCOME_COLUMNS = ("order_id", "kind", "reported_at")


def flatten(order: Order) -> dict[str, Any]:
    """The order as one flat row (`buyer_account_id`, ...), absent sections as None."""
    row: dict[str, Any] = {}
    for name in Order.model_fields:
        value = getattr(order, name)
        if name in SECTIONS:
            for sub in SECTIONS[name].model_fields:
                row[f"{name}_{sub}"] = None if value is None else getattr(value, sub)
        else:
            row[name] = value
    return row


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return True


def unflatten(row: Mapping[str, Any]) -> Order:
    """Rebuild the nested order from a flat row; an optional section with no value is absent."""
    nested: dict[str, Any] = {}
    for name in Order.model_fields:
        if name in SECTIONS:
            part = {
                sub: row.get(f"{name}_{sub}") for sub in SECTIONS[name].model_fields
            }
            part = {k: v for k, v in part.items() if _present(v)}
            if part or name not in OPTIONAL_SECTIONS:
                nested[name] = part
        elif _present(row.get(name)):
            nested[name] = row[name]
    return Order.model_validate(nested)


# ---- readable validation errors -----------------------------------------------------


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """Each problem of a validation error as {field, reason}, the field as a dotted path."""
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(body)"
        problems.append({"field": field, "reason": item["msg"]})
    return problems


def describe(error: ValidationError) -> str:
    """One line naming every offending field and why."""
    return "; ".join(f"{p['field']}: {p['reason']}" for p in validation_problems(error))
