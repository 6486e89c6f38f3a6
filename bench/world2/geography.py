"""Countries, their clocks and currencies, categories and their prices: the world's fixed vocabulary."""

from __future__ import annotations

import numpy as np

COUNTRIES = np.array(["US", "GB", "DE", "FR", "ES", "CA", "BR", "IN", "PH", "NG", "RO", "VN"])
BUYER_COUNTRY_P = np.array([0.48, 0.11, 0.08, 0.06, 0.04, 0.06, 0.05, 0.04, 0.03, 0.02, 0.015, 0.015])
UTC_OFFSET_HOURS = np.array([-5, 0, 1, 1, 1, -5, -3, 5.5, 8, 1, 2, 7])
SELLER_COUNTRIES = np.array([0, 1, 2, 3, 4, 5])  # sellers sell from these (indices into COUNTRIES)
SELLER_COUNTRY_P = np.array([0.55, 0.15, 0.1, 0.08, 0.05, 0.07])
CURRENCIES = np.array(["USD", "GBP", "EUR", "EUR", "EUR", "CAD", "BRL", "INR", "PHP", "NGN", "RON", "VND"])
PROXY_COUNTRIES = np.array([6, 7, 8, 9, 10, 11])  # where a crew's own IPs are, when it does not hide them

CATEGORIES = np.array(["apparel", "beauty", "home", "electronics", "gift_card", "digital", "collectibles", "sports"])
CATEGORY_P = np.array([0.25, 0.14, 0.14, 0.12, 0.05, 0.1, 0.08, 0.12])
BASE_PRICE = np.array([3_500, 2_400, 4_500, 16_000, 5_000, 1_400, 7_000, 5_000])  # minor units
DIGITAL = np.array([False, False, False, False, True, True, False, False])
RESALE = np.array([3, 4, 6])  # what stolen money buys: electronics, gift cards, collectibles
REGRET_BY_CATEGORY = np.array([0.55, 0.2, 0.05, 0.15, -0.9, -0.4, 0.3, 0.1])  # log-odds: returns are easy for clothes

EMAIL_DOMAINS = np.array(["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com", "gmx.de",
                          "orange.fr", "proton.me", "mail.ru", "tutanota.com", "guerrillamail.com", "yopmail.com"])
EMAIL_P = np.array([0.45, 0.14, 0.1, 0.13, 0.06, 0.04, 0.04, 0.025, 0.005, 0.005, 0.0025, 0.0025])
CREW_DOMAINS = np.array([0, 7, 8, 9, 10, 11])  # fraud crews: free mail and throwaway domains

# Buyers shop in their evening; local hour weights (0-23).
DIURNAL = np.array([2.0, 1.2, 0.7, 0.4, 0.3, 0.4, 0.8, 1.6, 2.6, 3.4, 3.9, 4.3,
                    4.8, 4.6, 4.3, 4.3, 4.6, 5.0, 5.6, 6.4, 7.0, 6.8, 5.4, 3.6])
DIURNAL_P = DIURNAL / DIURNAL.sum()


def local_hour(t: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Hour of day (0-23) in the country's clock at `t` seconds from the window start (which is 00:00 UTC)."""
    return (((t / 3_600.0) + UTC_OFFSET_HOURS[country]) % 24).astype(np.int64)


def at_local_hours(rng: np.random.Generator, t: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Move each time within its local day to an hour drawn from the buyers' daily rhythm."""
    offset = UTC_OFFSET_HOURS[country] * 3_600.0
    local = t + offset
    day = np.floor(local / 86_400.0)
    hour = rng.choice(24, size=len(t), p=DIURNAL_P)
    return day * 86_400.0 + (hour + rng.random(len(t))) * 3_600.0 - offset
