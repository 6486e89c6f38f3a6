"""The contract's orders table from the draft: ids, times, entity fields, engagement, and field noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draft import WALLETS
from .geography import CATEGORIES, COUNTRIES, CURRENCIES, DIGITAL, EMAIL_DOMAINS
from .params import World
from .population import DAY, FUNDING, Population
from .tables import ipv4_text, opaque_ids


def times(start: pd.Timestamp, seconds: np.ndarray) -> pd.Series:
    return pd.Series(start + pd.to_timedelta(np.round(seconds), unit="s"))


def optional(values: np.ndarray, present: np.ndarray) -> pd.Series:
    """`values` where present, unknown elsewhere, in a nullable type (Int64, boolean or text)."""
    series = pd.Series(values)
    if series.dtype == bool:
        series = series.astype("boolean")
    elif pd.api.types.is_integer_dtype(series.dtype):
        series = series.astype("Int64")
    else:
        series = series.astype(object)
    return series.mask(~present)


def orders_table(rng: np.random.Generator, world: World, population: Population, d: dict[str, np.ndarray],
                 start: pd.Timestamp, salt: int) -> pd.DataFrame:
    """One row per order in the contract's flat layout (`d`: the draft's columns, in time order)."""
    n = len(d["t"])
    accounts, sellers, posts, cards = population.accounts, population.sellers, population.posts, population.cards
    account_ids = opaque_ids("acct", accounts.size, salt)
    seller_ids = opaque_ids("acct", sellers.size, salt ^ 0x5E11E5)
    a, s, c = d["account"], d["seller"], d["card"]
    has_post, p = d["post"] >= 0, np.maximum(d["post"], 0)
    has_device, has_address = d["device"] >= 0, d["address"] >= 0
    post_age_days = (d["t"] - posts["created"][p]) / DAY
    views = posts["virality"][p] * 3000 * (1 - np.exp(-np.maximum(post_age_days, 0) / 1.5)) * np.exp(
        rng.normal(0, 0.3, n))
    likes = views * 0.04 * np.exp(rng.normal(0, 0.4, n))
    email = np.where(d["email"] >= 0, d["email"], accounts["email"][a])
    ip_country = population.ips["country"][d["ip"]]
    wrong = rng.random(n) < world.wrong_ip_country
    ip_country = np.where(wrong, rng.integers(0, len(COUNTRIES), n), ip_country)
    frame = pd.DataFrame({
        "order_id": opaque_ids("ord", n, salt ^ 0x0DE5),
        "created_at": times(start, d["t"]),
        "amount": d["amount"].astype(np.int64),
        "currency": CURRENCIES[sellers["country"][s]],
        "quantity": d["quantity"].astype(np.int64),
        "buyer_account_id": account_ids[a],
        "buyer_created_at": times(start, accounts["created"][a]),
        "buyer_country": COUNTRIES[accounts["country"][a]],
        "buyer_email_domain": EMAIL_DOMAINS[email],
        "buyer_email_verified": pd.array(accounts["email_verified"][a].astype(bool) & (d["email"] < 0), "boolean"),
        "buyer_phone_verified": pd.array(accounts["phone_verified"][a].astype(bool), "boolean"),
        "buyer_followers": pd.array(accounts["followers"][a].astype(np.int64), "Int64"),
        "buyer_following": pd.array(accounts["following"][a].astype(np.int64), "Int64"),
        "seller_account_id": seller_ids[s],
        "seller_created_at": times(start, sellers["created"][s]),
        "seller_country": COUNTRIES[sellers["country"][s]],
        "seller_verified": pd.array(sellers["verified"][s].astype(bool), "boolean"),
        "seller_followers": pd.array(sellers["followers"][s].astype(np.int64), "Int64"),
        "post_post_id": optional(opaque_ids("post", posts.size, salt ^ 0x9057)[p], has_post),
        "post_created_at": times(start, posts["created"][p]).where(has_post),
        "post_promoted": optional(posts["promoted"][p].astype(bool), has_post),
        "post_likes": optional(likes.astype(np.int64), has_post),
        "post_reposts": optional((likes * 0.1 * rng.random(n)).astype(np.int64), has_post),
        "post_replies": optional((likes * 0.06 * rng.random(n)).astype(np.int64), has_post),
        "post_views": optional(views.astype(np.int64), has_post),
        "post_category": optional(CATEGORIES[posts["category"][p]], has_post),
        "post_digital": optional(DIGITAL[posts["category"][p]], has_post),
        "post_listed_price": optional(posts["price"][p].astype(np.int64), has_post),
        "session_device_id": optional(opaque_ids("dev", population.devices.size, salt ^ 0xDE7)[
            np.maximum(d["device"], 0)], has_device),
        "session_ip": ipv4_text(population.ips["address"][d["ip"]]),
        "session_ip_country": COUNTRIES[ip_country],
        "session_channel": np.where(d["app"].astype(bool), "app", "web"),
        "session_post_viewed_at": times(start, d["t"] - np.nan_to_num(d["ttb"])).where(has_post & ~np.isnan(d["ttb"])),
        "payment_card_fingerprint": opaque_ids("card", cards.size, salt ^ 0xCA4D)[c],
        "payment_card_bin": cards["bin"][c].astype(np.int64).astype(str).astype(object),
        "payment_card_country": COUNTRIES[cards["country"][c]],
        "payment_funding": FUNDING[cards["funding"][c]],
        "payment_wallet": optional(WALLETS[d["wallet"]], d["wallet"] > 0),
        "shipping_country": optional(COUNTRIES[population.addresses["country"][np.maximum(d["address"], 0)]],
                                     has_address),
        "shipping_address_hash": optional(opaque_ids("addr", population.addresses.size, salt ^ 0xADD)[
            np.maximum(d["address"], 0)], has_address),
        "shipping_matches_billing": optional(~d["gift"].astype(bool), has_address),
    })
    return with_unknowns(rng, world, frame)


def with_unknowns(rng: np.random.Generator, world: World, frame: pd.DataFrame) -> pd.DataFrame:
    """Optional fields left unknown at the world's rates, independently of what the order is."""
    for column, share in world.missing.items():
        frame[column] = frame[column].mask(rng.random(len(frame)) < share)
    return frame
