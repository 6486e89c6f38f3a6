"""Copying entity attributes into the columns of an order batch.

Shared by genuine and fraud generators, so that a fraudster's order looks
exactly like any other order apart from who, what and how.
`batch["created_at"]` must be set before filling.
"""

import numpy as np

from .accounts import Buyers, Sellers, hide
from .clock import NAT, SECOND, to_millis
from .geo import CURRENCY_OF_COUNTRY
from .instruments import Cards, ip_country
from .posts import Posts, engagement_at
from .schema import MISSING, POST_COLUMNS, SHIPPING_COLUMNS, Batch

SHIPPING_FEES = np.array([0, 0, 399, 599, 799])


BUYER_FIELDS = {  # column (or hidden "_" column) <- Buyers attribute
    "buyer_account_id": "account_id", "buyer_created_at": "created_reported", "buyer_country": "country_reported",
    "buyer_email_domain": "email_domain", "buyer_email_verified": "email_verified",
    "buyer_phone_verified": "phone_verified", "buyer_followers": "followers", "buyer_following": "following",
    "_utc_offset": "utc_offset", "_habit_amount": "habit_amount", "_regret_propensity": "regret_propensity",
}
SELLER_FIELDS = {  # column <- Sellers attribute
    "seller_account_id": "account_id", "seller_created_at": "created_reported", "seller_country": "country_reported",
    "seller_verified": "verified", "seller_followers": "followers_reported",
}


def _take(batch: Batch, table: object, rows: np.ndarray, fields: dict[str, str]) -> None:
    """Each column from the table's attribute at `rows` (what an order shows of its buyer or seller)."""
    for column, attribute in fields.items():
        batch[column] = getattr(table, attribute)[rows]


def fill_buyer(batch: Batch, buyers: Buyers, buyer: np.ndarray) -> None:
    """Buyer columns, plus the buyer's hidden time zone, habit and propensity."""
    _take(batch, buyers, buyer, BUYER_FIELDS)


def fill_seller(batch: Batch, sellers: Sellers, seller: np.ndarray) -> None:
    """Seller columns; the seller's country also sets the currency."""
    _take(batch, sellers, seller, SELLER_FIELDS)
    batch["currency"] = CURRENCY_OF_COUNTRY[sellers.home_country[seller]].astype(np.int16)


def fill_post(batch: Batch, posts: Posts, post: np.ndarray, in_post: np.ndarray) -> None:
    """Post columns as of each order's time; all missing where bought outside a post."""
    engagement = engagement_at(posts, post, batch["created_at"])
    batch["post_post_id"] = posts.post_id[post]
    batch["post_created_at"] = posts.created_reported[post]
    batch["post_promoted"] = posts.promoted[post]
    batch["post_likes"] = engagement.likes
    batch["post_reposts"] = engagement.reposts
    batch["post_replies"] = engagement.replies
    batch["post_views"] = engagement.views
    batch["post_category"] = posts.category_reported[post]
    batch["post_digital"] = posts.digital_reported[post]
    batch["post_listed_price"] = posts.price_reported[post]
    batch["_category"] = posts.category[post]
    for name in POST_COLUMNS:
        batch[name] = np.where(in_post, batch[name], MISSING[name]).astype(batch[name].dtype)


def fill_card(batch: Batch, cards: Cards, card: np.ndarray) -> None:
    """Payment card columns from the card table."""
    batch["payment_card_fingerprint"] = cards.card_id[card]
    batch["payment_card_bin"] = cards.bin_reported[card]
    batch["payment_card_country"] = cards.country_reported[card]
    batch["payment_funding"] = cards.funding[card]


def fill_session(
    rng: np.random.Generator, batch: Batch, device: np.ndarray, channel: np.ndarray, ip: np.ndarray,
    seconds_to_buy: np.ndarray, post_created: np.ndarray, in_post: np.ndarray,
) -> None:
    """Session columns with realistic gaps; post_viewed_at never precedes the post."""
    t = batch["created_at"]
    batch["session_device_id"] = hide(rng, device, .03, -1)
    batch["session_channel"] = hide(rng, channel.astype(np.int16), .02, -1)
    batch["session_ip"] = hide(rng, ip, .015, -1)
    batch["session_ip_country"] = hide(rng, ip_country(ip), .025, -1)
    viewed = to_millis(np.maximum(t - (seconds_to_buy * SECOND).astype(np.int64), post_created))
    batch["_seconds_to_buy"] = np.where(in_post, (t - viewed) / SECOND, np.nan)
    shown = in_post & (rng.random(t.size) >= .06)
    batch["session_post_viewed_at"] = np.where(shown, viewed, NAT)


def fill_wallet(rng: np.random.Generator, batch: Batch, wallet_share: float) -> None:
    """Wallet used (apple_pay, google_pay, paypal) or none; Apple and Google in the app."""
    n = batch["created_at"].size
    app = batch["session_channel"] == 0
    kind = np.where(app, rng.choice(3, size=n, p=[.55, .35, .10]), rng.choice(3, size=n, p=[.25, .15, .60]))
    batch["payment_wallet"] = np.where(rng.random(n) < wallet_share, kind, -1).astype(np.int16)


def fill_goods(
    rng: np.random.Generator, batch: Batch, price: np.ndarray, quantity: np.ndarray, digital: np.ndarray
) -> None:
    """Quantity and amount: price times quantity plus a shipping fee for physical goods."""
    fee = np.where(digital, 0, SHIPPING_FEES[rng.integers(0, SHIPPING_FEES.size, price.size)])
    batch["amount"] = (price * quantity + fee).astype(np.int64)
    batch["quantity"] = hide(rng, quantity.astype(np.int64), .03, -1)


def fill_shipping(
    rng: np.random.Generator, batch: Batch, digital: np.ndarray,
    address: np.ndarray, country: np.ndarray, matches_billing: np.ndarray,
) -> None:
    """Shipping columns; absent altogether for digital goods."""
    batch["shipping_country"] = country.astype(np.int16)
    batch["shipping_address_hash"] = address
    batch["shipping_matches_billing"] = hide(rng, matches_billing.astype(np.int8), .05, -1)
    for name in SHIPPING_COLUMNS:
        batch[name] = np.where(digital, MISSING[name], batch[name]).astype(batch[name].dtype)
