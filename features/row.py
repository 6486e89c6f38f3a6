"""Features of the order's own fields: post context, account age, mismatches, payment.

Each feature is one small function of `r`, a mapping from flat contract column to
value: float64 arrays / object arrays in batch, floats / str-or-None online (times as
float epoch seconds, flags as 1.0 / 0.0, unknown as NaN or None). Only arithmetic and
`features.ops` are allowed inside, so both forms give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from features import ops
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
    name: str
    description: str
    compute: Callable[[Row], Any]
    categorical: bool = False


ROW_FEATURES: list[RowFeature] = []


def row_feature(name: str, description: str, categorical: bool = False) -> Callable:
    def register(fn: Callable[[Row], Any]) -> Callable[[Row], Any]:
        ROW_FEATURES.append(RowFeature(name, description, fn, categorical))
        return fn

    return register


# ---- the order itself --------------------------------------------------------------


@row_feature("amount", "Amount charged, in minor units")
def _amount(r: Row) -> Any:
    return r["amount"]


@row_feature("quantity", "Items in the order")
def _quantity(r: Row) -> Any:
    return r["quantity"]


@row_feature("hour_of_day_utc", "Hour of the purchase, UTC")
def _hour(r: Row) -> Any:
    return ops.hour_of_day(r["created_at"])


@row_feature("day_of_week_utc", "Day of the week of the purchase, Monday = 0")
def _weekday(r: Row) -> Any:
    return ops.day_of_week(r["created_at"])


# ---- post context ------------------------------------------------------------------


def _post_age_hours(r: Row) -> Any:
    return ops.at_least((r["created_at"] - r["post_created_at"]) / 3600.0, 1.0 / 60.0)


@row_feature("post_age_seconds", "Seconds from the post's publication to the purchase")
def _post_age(r: Row) -> Any:
    return r["created_at"] - r["post_created_at"]


@row_feature("view_to_buy_seconds", "Seconds from opening the post to pressing buy")
def _view_to_buy(r: Row) -> Any:
    return r["created_at"] - r["session_post_viewed_at"]


@row_feature("post_engagement_per_hour", "Likes, reposts and replies per hour of post age")
def _engagement_rate(r: Row) -> Any:
    engagement = r["post_likes"] + r["post_reposts"] + r["post_replies"]
    return ops.ratio(engagement, _post_age_hours(r))


@row_feature("post_views_per_hour", "Views per hour of post age (virality)")
def _views_rate(r: Row) -> Any:
    return ops.ratio(r["post_views"], _post_age_hours(r))


@row_feature("post_like_rate", "Likes per view")
def _like_rate(r: Row) -> Any:
    return ops.ratio(r["post_likes"], r["post_views"])


@row_feature("post_promoted", "The post is a paid promotion")
def _promoted(r: Row) -> Any:
    return r["post_promoted"]


@row_feature("post_category", "Category of the post's item", categorical=True)
def _category(r: Row) -> Any:
    return ops.code(r["post_category"], CATEGORIES)


@row_feature("post_digital", "Digital goods (nothing shipped)")
def _digital(r: Row) -> Any:
    return r["post_digital"]


@row_feature("has_post", "The purchase was made from a post")
def _has_post(r: Row) -> Any:
    return ops.is_known(r["post_post_id"])


@row_feature("amount_to_listed_total", "Amount charged over listed price x quantity")
def _amount_to_listed(r: Row) -> Any:
    return ops.ratio(r["amount"], r["post_listed_price"] * r["quantity"])


# ---- accounts ------------------------------------------------------------------------


@row_feature("buyer_account_age_days", "Days since the buyer's account was created")
def _buyer_age(r: Row) -> Any:
    return (r["created_at"] - r["buyer_created_at"]) / DAY_SECONDS


@row_feature("seller_account_age_days", "Days since the seller's account was created")
def _seller_age(r: Row) -> Any:
    return (r["created_at"] - r["seller_created_at"]) / DAY_SECONDS


@row_feature("buyer_email_verified", "The buyer's email is verified")
def _email_verified(r: Row) -> Any:
    return r["buyer_email_verified"]


@row_feature("buyer_phone_verified", "The buyer's phone is verified")
def _phone_verified(r: Row) -> Any:
    return r["buyer_phone_verified"]


@row_feature("buyer_followers_log", "log(1 + the buyer's followers)")
def _buyer_followers(r: Row) -> Any:
    return ops.log1p(r["buyer_followers"])


@row_feature("buyer_following_log", "log(1 + accounts the buyer follows)")
def _buyer_following(r: Row) -> Any:
    return ops.log1p(r["buyer_following"])


@row_feature("seller_verified", "The seller has the verified badge")
def _seller_verified(r: Row) -> Any:
    return r["seller_verified"]


@row_feature("seller_followers_log", "log(1 + the seller's followers)")
def _seller_followers(r: Row) -> Any:
    return ops.log1p(r["seller_followers"])


# ---- mismatches and payment ----------------------------------------------------------


@row_feature("ip_country_differs_card", "The IP's country is not the card's issuing country")
def _ip_vs_card(r: Row) -> Any:
    return ops.differs(r["session_ip_country"], r["payment_card_country"])


@row_feature("ip_country_differs_buyer", "The IP's country is not the buyer's country")
def _ip_vs_buyer(r: Row) -> Any:
    return ops.differs(r["session_ip_country"], r["buyer_country"])


@row_feature("card_country_differs_buyer", "The card's issuing country is not the buyer's country")
def _card_vs_buyer(r: Row) -> Any:
    return ops.differs(r["payment_card_country"], r["buyer_country"])


@row_feature("shipping_country_differs_buyer", "Shipping to another country than the buyer's")
def _ship_vs_buyer(r: Row) -> Any:
    return ops.differs(r["shipping_country"], r["buyer_country"])


@row_feature("shipping_country_differs_ip", "Shipping to another country than the IP's")
def _ship_vs_ip(r: Row) -> Any:
    return ops.differs(r["shipping_country"], r["session_ip_country"])


@row_feature("shipping_differs_billing", "The shipping address does not match the billing address")
def _ship_vs_billing(r: Row) -> Any:
    return ops.flag_not(r["shipping_matches_billing"])


@row_feature("card_funding", "Card funding: credit, debit, prepaid, unknown", categorical=True)
def _funding(r: Row) -> Any:
    return ops.code(r["payment_funding"], FUNDING)


@row_feature("prepaid_card", "The card is prepaid")
def _prepaid(r: Row) -> Any:
    return ops.equals(r["payment_funding"], "prepaid")


@row_feature("uses_wallet", "Paid through a wallet (Apple Pay, ...) rather than a typed card")
def _wallet(r: Row) -> Any:
    return ops.is_known(r["payment_wallet"])


@row_feature("channel", "App or web", categorical=True)
def _channel(r: Row) -> Any:
    return ops.code(r["session_channel"], CHANNELS)


@row_feature("device_known", "The session has a device fingerprint")
def _device_known(r: Row) -> Any:
    return ops.is_known(r["session_device_id"])
