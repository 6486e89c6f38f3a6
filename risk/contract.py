"""The data contract (shared/contract/README.md, version 1) as pydantic models.

The nested models are what the API speaks; the flat column list is what data sets
on disk hold. Both come from the same model classes, so a field is declared once and
its flat column name (`section_field`) is derived, never typed a second time.
Unknown fields are ignored: the checkout may send more than we know.
"""

from __future__ import annotations

import ipaddress
import re
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
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic.fields import FieldInfo

COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCY_CODES = frozenset(c.alpha_3 for c in pycountry.currencies)
MAX_ID_LENGTH = 128
RFC3339_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
"""An RFC 3339 time with its timezone (the space RFC 3339 allows in place of `T` included)."""

# ---- the contract's enumerations --------------------------------------------------------
# Each set of allowed values is typed once, as the Literal the models use; the tuples
# are read off the Literal, in its order (the simulator and the features code values
# by their position, so the order is part of the declaration).

Funding = Literal["credit", "debit", "prepaid", "unknown"]
Channel = Literal["app", "web"]
FraudKind = Literal["fraud_chargeback", "confirmed_fraud"]
RegretKind = Literal["dispute", "refund"]
OutcomeKind = Literal[FraudKind, RegretKind, Literal["confirmed_legit"]]
OutcomeSource = Literal["processor", "analyst", "buyer", "seller"]
Verdict = Literal["approve", "review", "decline"]
"""A decision's value, from the mildest to the most severe."""

FUNDING_KINDS: tuple[Funding, ...] = typing.get_args(Funding)
CHANNELS: tuple[Channel, ...] = typing.get_args(Channel)
OUTCOME_KINDS: tuple[OutcomeKind, ...] = typing.get_args(OutcomeKind)
OUTCOME_SOURCES: tuple[OutcomeSource, ...] = typing.get_args(OutcomeSource)
FRAUD_KINDS: frozenset[FraudKind] = frozenset(typing.get_args(FraudKind))
REGRET_KINDS: frozenset[RegretKind] = frozenset(typing.get_args(RegretKind))
DECISIONS: tuple[Verdict, ...] = typing.get_args(Verdict)


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


def _text_or_time(value: Any) -> Any:
    """Times come as RFC 3339 text (or as datetimes, from data sets).

    pydantic alone would also read a number or a string of digits as Unix seconds, and
    accept `+0100` offsets or a time without seconds, none of which the schema's
    `date-time` allows.
    """
    if isinstance(value, int | float) or (isinstance(value, str) and not RFC3339_TIME.match(value)):
        raise ValueError("not an RFC 3339 time with a timezone, e.g. 2026-11-24T10:15:02Z")
    return value


def _whole(value: Any) -> Any:
    """JSON has one number type: 3.0 is the integer 3 (JSON Schema counts it so); 3.5 and "3" stay invalid."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _unknown_is_one(value: Any) -> Any:
    """`null` means unknown, and an unknown quantity is the contract's default of one item."""
    return 1 if value is None else value


# The validators give one-line reasons (a 250-value enum error would not); the JSON
# schema extras say the same sets, so a client generating orders from the OpenAPI
# schema only sends what the validators accept.
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH)]
Country = Annotated[
    str,
    AfterValidator(_country),
    Field(json_schema_extra={"enum": sorted(COUNTRY_CODES), "description": "ISO 3166-1 alpha-2 country code"}),
]
Currency = Annotated[
    str,
    AfterValidator(_currency),
    Field(json_schema_extra={"enum": sorted(CURRENCY_CODES), "description": "ISO 4217 currency code"}),
]
IpAddress = Annotated[
    str,
    AfterValidator(_ip),
    Field(json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}),
]
CardBin = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,8}$")]
Time = Annotated[AwareDatetime, BeforeValidator(_text_or_time)]
Count = Annotated[int, Field(strict=True, ge=0), BeforeValidator(_whole)]
Flag = Annotated[bool, Field(strict=True)]
_Items = Annotated[int, Field(strict=True, ge=1), BeforeValidator(_whole)]
Quantity = Annotated[_Items, BeforeValidator(_unknown_is_one, json_schema_input_type=_Items | None)]


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
    channel: Channel | None = None
    post_viewed_at: Time | None = None


class Payment(_Part):
    card_fingerprint: Id
    card_bin: CardBin | None = None
    card_country: Country | None = None
    funding: Funding | None = None
    wallet: str | None = None


class Shipping(_Part):
    country: Country | None = None
    address_hash: Id | None = None
    matches_billing: Flag | None = None


class Order(_Part):
    """What the checkout sends before charging the card."""

    order_id: Id
    created_at: Time
    amount: Annotated[int, Field(strict=True, gt=0), BeforeValidator(_whole)]
    currency: Currency
    quantity: Quantity = 1
    buyer: Buyer
    seller: Seller
    post: Post | None = None
    session: Session | None = None
    payment: Payment
    shipping: Shipping | None = None


class Outcome(_Part):
    """What is learned about an order later; `reported_at` is when the label exists."""

    order_id: Id
    kind: OutcomeKind
    reported_at: Time
    source: OutcomeSource | None = None


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
    action: Verdict | None = None
    description: str | None = None


class Decision(BaseModel):
    """The answer to an order."""

    order_id: str
    decision: Verdict
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


def _section_of(field: FieldInfo) -> type[_Part] | None:
    """The nested model a field holds (`buyer`, `post`, ...), or None for a plain value."""
    for arg in typing.get_args(field.annotation) or (field.annotation,):
        if isinstance(arg, type) and issubclass(arg, _Part):
            return arg
    return None


class FlatField(typing.NamedTuple):
    """One flat column of a model: its field (type and constraints) and whether every row needs it."""

    info: FieldInfo
    required: bool


def flat_fields(model: type[BaseModel]) -> dict[str, FlatField]:
    """The model's fields as flat columns (`section_field`), in declaration order.

    A column is required when its field has no default and so does its section:
    `post.post_id` is required only when a post is present, so not as a column.
    """
    fields: dict[str, FlatField] = {}
    for name, field in model.model_fields.items():
        section = _section_of(field)
        if section is None:
            fields[name] = FlatField(field, field.is_required())
            continue
        for sub, subfield in section.model_fields.items():
            fields[f"{name}_{sub}"] = FlatField(subfield, field.is_required() and subfield.is_required())
    return fields


SECTIONS: dict[str, type[_Part]] = {
    name: section for name, field in Order.model_fields.items() if (section := _section_of(field)) is not None
}
OPTIONAL_SECTIONS = frozenset(name for name in SECTIONS if not Order.model_fields[name].is_required())

ORDER_COLUMNS: dict[str, ColumnKind] = {
    column: _kind_of(field.info.annotation) for column, field in flat_fields(Order).items()
}
"""Every flat order column, in contract order, with its storage kind."""

REQUIRED_ORDER_COLUMNS: tuple[str, ...] = tuple(c for c, field in flat_fields(Order).items() if field.required)
OUTCOME_COLUMNS: dict[str, ColumnKind] = {
    column: _kind_of(field.info.annotation) for column, field in flat_fields(Outcome).items()
}
REQUIRED_OUTCOME_COLUMNS: tuple[str, ...] = tuple(c for c, field in flat_fields(Outcome).items() if field.required)


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
