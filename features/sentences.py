"""A sentence a person understands for a feature's value ("card used on 6 devices in the last hour").

Reasons name a feature by its stable code; this turns (feature, value) into words. History
feature names are generated from (what, by whom, window), so their sentences are too.
"""

from __future__ import annotations

import math
import re

from features.ops import Vocabulary
from features.row import CATEGORIES, CHANNELS, FUNDING

_WINDOWS = {"10m": "10 minutes", "1h": "hour", "24h": "24 hours", "1d": "day", "7d": "7 days", "30d": "30 days",
            "90d": "90 days"}
_ENTITY = {"card": "card", "buyer": "buyer", "device": "device", "ip": "IP address", "seller": "seller",
           "address": "shipping address", "buyer_seller": "buyer and seller pair", "buyer_device": "buyer's device",
           "buyer_card": "buyer's card", "buyer_address": "buyer's shipping address"}

_ROW = {
    "amount": "amount {money}",
    "quantity": "{value:.0f} items",
    "hour_of_day_utc": "bought at {value:02.0f}:00 UTC",
    "day_of_week_utc": "bought on day {value:.0f} of the week",
    "post_age_seconds": "post published {duration} before the purchase",
    "view_to_buy_seconds": "bought {duration} after opening the post",
    "post_engagement_per_hour": "post engagement {value:,.0f} per hour",
    "post_views_per_hour": "post viewed {value:,.0f} times per hour",
    "post_like_rate": "{percent} of the post's viewers liked it",
    "post_promoted": "{flag:promoted post|post not promoted}",
    "post_digital": "{flag:digital goods|physical goods}",
    "has_post": "{flag:bought from a post|bought outside a post}",
    "amount_to_listed_total": "charged {value:.2f}x the listed price",
    "buyer_account_age_days": "buyer account {days} old",
    "seller_account_age_days": "seller account {days} old",
    "buyer_email_verified": "{flag:buyer email verified|buyer email not verified}",
    "buyer_phone_verified": "{flag:buyer phone verified|buyer phone not verified}",
    "buyer_followers_log": "buyer has {exp_count} followers",
    "buyer_following_log": "buyer follows {exp_count} accounts",
    "seller_verified": "{flag:verified seller|seller not verified}",
    "seller_followers_log": "seller has {exp_count} followers",
    "ip_country_differs_card": "{flag:IP country differs from the card's country|IP country matches the card's}",
    "ip_country_differs_buyer": "{flag:IP country differs from the buyer's country|IP country matches the buyer's}",
    "card_country_differs_buyer":
        "{flag:card issued in another country than the buyer's|card from the buyer's country}",
    "shipping_country_differs_buyer": "{flag:shipping abroad from the buyer's country|shipping in the buyer's country}",
    "shipping_country_differs_ip": "{flag:shipping to another country than the IP's|shipping to the IP's country}",
    "shipping_differs_billing": "{flag:shipping address differs from billing|shipping matches billing}",
    "prepaid_card": "{flag:prepaid card|not a prepaid card}",
    "uses_wallet": "{flag:paid with a wallet|typed card, no wallet}",
    "device_known": "{flag:device fingerprint present|no device fingerprint}",
    "first_purchase_from_seller": "{flag:first purchase from this seller|bought from this seller before}",
    "new_device_on_old_account": "{flag:new device on an established account|known device or new account}",
}

_CODED: dict[str, tuple[str, Vocabulary]] = {  # categorical codes, said as the word they stand for
    "post_category": ("item category", CATEGORIES),
    "card_funding": ("card funding", FUNDING),
    "channel": ("purchase channel", CHANNELS),
}

_WINDOW_GROUP = r"(10m|1h|24h|7d|30d)"
_REPORT_AGE = re.compile(r"seconds_since_(first|last)_(fraud|regret)_report_by_(\w+)$")
_PATTERNS = [
    (_REPORT_AGE, "{which} {label} report on this {entity} {duration} ago"),
    (re.compile(rf"order_count_by_(\w+?)_{_WINDOW_GROUP}$"), "{count} orders with this {entity} in the last {window}"),
    (re.compile(rf"amount_sum_by_(\w+?)_{_WINDOW_GROUP}$"), "{money} spent with this {entity} in the last {window}"),
    (re.compile(r"distinct_(\w+?)s_by_(\w+?)_(1h|24h|7d)$"),
     "{count} {other}s used with this {entity} in the last {window}"),
    (re.compile(r"seconds_since_first_(\w+)$"), "{entity} first seen {duration} ago"),
    (re.compile(r"(fraud|regret)_reports_by_(\w+?)_(7d|30d|90d)$"),
     "{count} {label} reports on this {entity} in the last {window}"),
    (re.compile(r"(fraud|regret)_rate_by_(\w+?)_(7d|30d|90d)$"),
     "{value:.2f} {label} reports per order with this {entity} in the last {window}"),
    (re.compile(r"amount_to_buyer_mean_(1d|7d|30d|90d)$"),
     "amount {value:.1f}x the buyer's average of the last {window}"),
    (re.compile(r"amount_z_to_buyer_(30d|90d)$"),
     "amount {value:+.1f} standard deviations from the buyer's usual over the last {window}"),
]


def sentence(feature: str, value: float) -> str:
    """Words for `feature` = `value` (unknown values are said to be unknown)."""
    if value is None or math.isnan(value):
        report = _REPORT_AGE.match(feature)
        if report:
            which, label, entity = report.groups()
            entity = _ENTITY.get(entity, entity)
            if which == "first":
                return f"No {label} report on this {entity} yet"
            return f"No {label} report on this {entity} known before this order"
        first_seen = re.match(r"seconds_since_first_(\w+)$", feature)
        if first_seen:
            return f"{_ENTITY.get(first_seen.group(1), first_seen.group(1)).capitalize()} never seen before"
        return f"{feature.replace('_', ' ')}: unknown"
    if feature in _ROW:
        return _fill(_ROW[feature], value, {})
    if feature in _CODED:
        label, vocabulary = _CODED[feature]
        index = int(value)
        return f"{label}: {vocabulary.words[index] if 0 <= index < len(vocabulary.words) else 'other'}"
    for pattern, template in _PATTERNS:
        match = pattern.match(feature)
        if match:
            return _fill(template, value, _parts(pattern.pattern, match.groups()))
    return f"{feature.replace('_', ' ')} = {value:g}"


def _parts(pattern: str, groups: tuple[str, ...]) -> dict[str, str]:
    if pattern.startswith("distinct"):
        other, entity, window = groups
        return {"other": _ENTITY.get(other, other), "entity": _ENTITY.get(entity, entity), "window": _WINDOWS[window]}
    if pattern.startswith("(fraud"):
        label, entity, window = groups
        return {"label": label, "entity": _ENTITY.get(entity, entity), "window": _WINDOWS[window]}
    if pattern == _REPORT_AGE.pattern:
        which, label, entity = groups
        return {"which": "first" if which == "first" else "latest", "label": label,
                "entity": _ENTITY.get(entity, entity)}
    if pattern.startswith("seconds"):
        return {"entity": _ENTITY.get(groups[0], groups[0]).capitalize()}
    if pattern.startswith(("amount_to", "amount_z")):
        return {"window": _WINDOWS[groups[0]]}
    entity, window = groups
    return {"entity": _ENTITY.get(entity, entity), "window": _WINDOWS[window]}


def _fill(template: str, value: float, parts: dict[str, str]) -> str:
    flag = re.search(r"\{flag:([^|}]*)\|([^}]*)\}", template)
    if flag:
        return template.replace(flag.group(0), flag.group(1) if value >= 0.5 else flag.group(2))
    values = {
        "value": value, "count": f"{value:,.0f}", "money": f"{value / 100:,.2f}", "percent": f"{value:.1%}",
        "duration": _duration(value), "days": _duration(value * 86400),
        "exp_count": f"{math.expm1(min(value, 50.0)):,.0f}",
    }
    return template.format(**values, **parts)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if abs(seconds) >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"
