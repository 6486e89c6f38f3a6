"""Features of the order's own fields: post context, account age, mismatches, payment.

Each feature is one small function of `r`, a mapping from flat contract column to
value: float64 arrays / object arrays in batch, floats / str-or-None online (times as
float epoch seconds, flags as 1.0 / 0.0, unknown as NaN or None). Only arithmetic and
`features.ops` are allowed inside, so both forms give the same numbers. Its
registration declares the rest of the feature: description, the sentence a reason
says of its value (features.sentences) and, for codes, the vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from features import ops
from features.definition import Sentence
from risk.contract import CHANNELS as CONTRACT_CHANNELS
from risk.contract import FUNDING_KINDS

Row = Mapping[str, Any]
DAY_SECONDS = 86400.0

CATEGORIES = ops.Vocabulary(("apparel", "beauty", "digital", "electronics", "gift_card", "home", "sports", "toys"))
# Codes are model inputs: a vocabulary keeps the contract's order, and new words go last.
CHANNELS = ops.Vocabulary(CONTRACT_CHANNELS)
FUNDING = ops.Vocabulary(FUNDING_KINDS)


@dataclass(frozen=True)
class RowFeature:
    """One feature of the order's own fields, with the sentence a reason says of its value."""

    name: str
    description: str
    compute: Callable[[Row], Any]
    sentence: Sentence
    categorical: bool = False


ROW_FEATURES: list[RowFeature] = []


def row_feature(
    name: str, description: str, says: str, vocabulary: ops.Vocabulary | None = None
) -> Callable[[Callable[[Row], Any]], Callable[[Row], Any]]:
    """Register a row feature; `says` is its sentence (features.sentences), `vocabulary` makes it categorical."""

    def register(fn: Callable[[Row], Any]) -> Callable[[Row], Any]:
        add_row_feature(name, description, says, fn, vocabulary)
        return fn

    return register


def add_row_feature(
    name: str, description: str, says: str, compute: Callable[[Row], Any], vocabulary: ops.Vocabulary | None = None,
    *, named: str | None = None,
) -> None:
    """Register a row feature computed by `compute` (`row_feature` as a plain call, for computes built by a helper).

    `named`: the sentence of a true flag naming the order's fields (Sentence.named)."""
    words = () if vocabulary is None else vocabulary.words
    ROW_FEATURES.append(RowFeature(name, description, compute, Sentence(says, words=words, named=named),
                                   vocabulary is not None))


def _column(column: str) -> Callable[[Row], Any]:
    """A feature that is the column's value as it is."""
    return lambda r: r[column]


def _log_count(column: str) -> Callable[[Row], Any]:
    """A feature that is log(1 + a count column): follower counts span six orders of magnitude."""
    return lambda r: ops.log1p(r[column])


# ---- the order itself --------------------------------------------------------------


add_row_feature("amount", "Amount charged, in minor units", "amount {money}", _column("amount"))


add_row_feature("quantity", "Items in the order", "{value:.0f} items", _column("quantity"))


@row_feature("hour_of_day_utc", "Hour of the purchase, UTC", "bought at {value:02.0f}:00 UTC")
def _hour(r: Row) -> Any:
    return ops.hour_of_day(r["created_at"])


@row_feature("day_of_week_utc", "Day of the week of the purchase, Monday = 0", "bought on day {value:.0f} of the week")
def _weekday(r: Row) -> Any:
    return ops.day_of_week(r["created_at"])


# ---- post context ------------------------------------------------------------------


def _post_age_hours(r: Row) -> Any:
    return ops.at_least((r["created_at"] - r["post_created_at"]) / 3600.0, 1.0 / 60.0)


@row_feature("post_age_seconds", "Seconds from the post's publication to the purchase",
             "post published {duration} before the purchase")
def _post_age(r: Row) -> Any:
    return r["created_at"] - r["post_created_at"]


@row_feature("view_to_buy_seconds", "Seconds from opening the post to pressing buy",
             "bought {duration} after opening the post")
def _view_to_buy(r: Row) -> Any:
    return r["created_at"] - r["session_post_viewed_at"]


@row_feature("post_engagement_per_hour", "Likes, reposts and replies per hour of post age",
             "post engagement {value:,.0f} per hour")
def _engagement_rate(r: Row) -> Any:
    engagement = r["post_likes"] + r["post_reposts"] + r["post_replies"]
    return ops.ratio(engagement, _post_age_hours(r))


@row_feature("post_views_per_hour", "Views per hour of post age (virality)", "post viewed {value:,.0f} times per hour")
def _views_rate(r: Row) -> Any:
    return ops.ratio(r["post_views"], _post_age_hours(r))


@row_feature("post_like_rate", "Likes per view", "{percent} of the post's viewers liked it")
def _like_rate(r: Row) -> Any:
    return ops.ratio(r["post_likes"], r["post_views"])


add_row_feature("post_promoted", "The post is a paid promotion", "{flag:promoted post|post not promoted}",
                _column("post_promoted"))


@row_feature("post_category", "Category of the post's item", "item category: {word}", vocabulary=CATEGORIES)
def _category(r: Row) -> Any:
    return ops.code(r["post_category"], CATEGORIES)


add_row_feature("post_digital", "Digital goods (nothing shipped)", "{flag:digital goods|physical goods}",
                _column("post_digital"))


@row_feature("has_post", "The purchase was made from a post", "{flag:bought from a post|bought outside a post}")
def _has_post(r: Row) -> Any:
    return ops.is_known(r["post_post_id"])


@row_feature("amount_to_listed_total", "Amount charged over listed price x quantity",
             "charged {value:.2f}x the listed price")
def _amount_to_listed(r: Row) -> Any:
    return ops.ratio(r["amount"], r["post_listed_price"] * r["quantity"])


# ---- accounts ------------------------------------------------------------------------


@row_feature("buyer_account_age_days", "Days since the buyer's account was created", "buyer account {days} old")
def _buyer_age(r: Row) -> Any:
    return (r["created_at"] - r["buyer_created_at"]) / DAY_SECONDS


@row_feature("seller_account_age_days", "Days since the seller's account was created", "seller account {days} old")
def _seller_age(r: Row) -> Any:
    return (r["created_at"] - r["seller_created_at"]) / DAY_SECONDS


add_row_feature("buyer_email_verified", "The buyer's email is verified",
                "{flag:buyer email verified|buyer email not verified}", _column("buyer_email_verified"))


add_row_feature("buyer_phone_verified", "The buyer's phone is verified",
                "{flag:buyer phone verified|buyer phone not verified}", _column("buyer_phone_verified"))


add_row_feature("buyer_followers_log", "log(1 + the buyer's followers)", "buyer has {exp_count} followers",
                _log_count("buyer_followers"))


add_row_feature("buyer_following_log", "log(1 + accounts the buyer follows)", "buyer follows {exp_count} accounts",
                _log_count("buyer_following"))


add_row_feature("seller_verified", "The seller has the verified badge", "{flag:verified seller|seller not verified}",
                _column("seller_verified"))


add_row_feature("seller_followers_log", "log(1 + the seller's followers)", "seller has {exp_count} followers",
                _log_count("seller_followers"))


# ---- mismatches and payment ----------------------------------------------------------


_COUNTRY_MISMATCHES = (  # (name, description, sentence, the sentence naming both, one country column, the other)
    ("ip_country_differs_card", "The IP's country is not the card's issuing country",
     "{flag:IP country differs from the card's country|IP country matches the card's}",
     "IP in {session_ip_country}, card issued in {payment_card_country}",
     "session_ip_country", "payment_card_country"),
    ("ip_country_differs_buyer", "The IP's country is not the buyer's country",
     "{flag:IP country differs from the buyer's country|IP country matches the buyer's}",
     "IP in {session_ip_country}, buyer from {buyer_country}",
     "session_ip_country", "buyer_country"),
    ("card_country_differs_buyer", "The card's issuing country is not the buyer's country",
     "{flag:card issued in another country than the buyer's|card from the buyer's country}",
     "card issued in {payment_card_country}, buyer from {buyer_country}",
     "payment_card_country", "buyer_country"),
    ("shipping_country_differs_buyer", "Shipping to another country than the buyer's",
     "{flag:shipping abroad from the buyer's country|shipping in the buyer's country}",
     "shipping to {shipping_country}, buyer from {buyer_country}",
     "shipping_country", "buyer_country"),
    ("shipping_country_differs_ip", "Shipping to another country than the IP's",
     "{flag:shipping to another country than the IP's|shipping to the IP's country}",
     "shipping to {shipping_country}, IP in {session_ip_country}",
     "shipping_country", "session_ip_country"),
)


def _country_differs(one: str, other: str) -> Callable[[Row], Any]:
    def differs(r: Row) -> Any:
        return ops.differs(r[one], r[other])

    return differs


for _name, _description, _says, _named, _one, _other in _COUNTRY_MISMATCHES:
    add_row_feature(_name, _description, _says, _country_differs(_one, _other), named=_named)


@row_feature("shipping_differs_billing", "The shipping address does not match the billing address",
             "{flag:shipping address differs from billing|shipping matches billing}")
def _ship_vs_billing(r: Row) -> Any:
    return ops.flag_not(r["shipping_matches_billing"])


@row_feature("card_funding", "Card funding: credit, debit, prepaid, unknown", "card funding: {word}",
             vocabulary=FUNDING)
def _funding(r: Row) -> Any:
    return ops.code(r["payment_funding"], FUNDING)


@row_feature("prepaid_card", "The card is prepaid", "{flag:prepaid card|not a prepaid card}")
def _prepaid(r: Row) -> Any:
    return ops.equals(r["payment_funding"], "prepaid")


@row_feature("uses_wallet", "Paid through a wallet (Apple Pay, ...) rather than a typed card",
             "{flag:paid with a wallet|typed card, no wallet}")
def _wallet(r: Row) -> Any:
    return ops.is_known(r["payment_wallet"])


@row_feature("channel", "App or web", "purchase channel: {word}", vocabulary=CHANNELS)
def _channel(r: Row) -> Any:
    return ops.code(r["session_channel"], CHANNELS)


@row_feature("device_known", "The session has a device fingerprint",
             "{flag:device fingerprint present|no device fingerprint}")
def _device_known(r: Row) -> Any:
    return ops.is_known(r["session_device_id"])
