"""Payment cards, devices, IP addresses and shipping addresses.

Genuine buyers own a few of each and reuse them; fraud brings fresh ones. That
reuse (or its absence) is what history features can see.
"""

from dataclasses import dataclass

import numpy as np

from risk.contract import CHANNELS as CONTRACT_CHANNELS
from risk.contract import FUNDING_KINDS

from .accounts import hide
from .geo import COUNTRIES, ipv4_first_octet
from .ids import IdAllocator
from .sampling import choose_in_groups

FUNDINGS: tuple[str, ...] = FUNDING_KINDS  # the weights below follow this order
PREPAID = FUNDINGS.index("prepaid")
# Genuine buyers use prepaid cards too (the unbanked, budgeting, gifts), so prepaid is no proof.
GENUINE_FUNDING = np.array([.48, .41, .09, .02])
# BINs per country, by funding: an issuer has many credit and debit ranges.
BINS_PER_COUNTRY = np.array([14, 12, 3, 1])
CHANNELS: tuple[str, ...] = CONTRACT_CHANNELS
WALLETS: tuple[str, ...] = ("apple_pay", "google_pay", "paypal")
_IPV6 = np.int64(1) << 40


@dataclass(frozen=True)
class Bins:
    """Issuer ranges (first six digits of a card number)."""

    number: np.ndarray
    country: np.ndarray
    funding: np.ndarray


@dataclass(frozen=True)
class Cards:
    """Cards with their BIN attributes copied in, as reported on orders."""

    card_id: np.ndarray
    bin_reported: np.ndarray
    country: np.ndarray
    country_reported: np.ndarray
    funding: np.ndarray


def build_bins(rng: np.random.Generator) -> Bins:
    """A few dozen BINs per issuing country; Visa, Mastercard and a little Amex."""
    per_country = int(BINS_PER_COUNTRY.sum())
    funding = np.tile(np.repeat(np.arange(len(FUNDINGS)), BINS_PER_COUNTRY), len(COUNTRIES))
    country = np.repeat(np.arange(len(COUNTRIES)), per_country)
    n = funding.size
    network = rng.choice(np.array([400000, 510000, 370000]), size=n, p=[.55, .40, .05])
    span = np.where(network == 510000, 50000, np.where(network == 370000, 10000, 100000))
    number = network + (rng.random(n) * span).astype(np.int64)
    return Bins(number=number, country=country.astype(np.int16), funding=funding.astype(np.int16))


def new_cards(
    rng: np.random.Generator, ids: IdAllocator, bins: Bins, country: np.ndarray, funding_weights: np.ndarray
) -> Cards:
    """Fresh cards issued in `country`, funding drawn from `funding_weights`."""
    n = country.size
    funding = rng.choice(len(FUNDINGS), size=n, p=funding_weights / funding_weights.sum())
    group = bins.country.astype(np.int64) * len(FUNDINGS) + bins.funding
    wanted = country.astype(np.int64) * len(FUNDINGS) + funding
    chosen = choose_in_groups(rng, group, np.ones(group.size), wanted, len(COUNTRIES) * len(FUNDINGS))
    return cards_from_bins(rng, ids, bins, chosen)


def cards_from_bins(rng: np.random.Generator, ids: IdAllocator, bins: Bins, chosen: np.ndarray) -> Cards:
    """Fresh cards from the given BINs (card testers reuse one BIN many times)."""
    n = chosen.size
    country = bins.country[chosen]
    return Cards(
        card_id=ids.take("card", n),
        bin_reported=hide(rng, bins.number[chosen], .01, -1),
        country=country,
        country_reported=hide(rng, country, .01, -1),
        funding=bins.funding[chosen],
    )


def ip_addresses(rng: np.random.Generator, country: np.ndarray, ipv6_share: float) -> np.ndarray:
    """IP codes located in `country`: an IPv4 integer, or bit 40 set for IPv6.

    The country is recoverable from the code (`ip_country`), like a geo-IP
    lookup that is always right.
    """
    n = country.size
    block = rng.integers(0, 3, n)
    host = rng.integers(1, 255, n)
    v4 = (ipv4_first_octet(country, block) << 24) | (rng.integers(0, 1 << 16, n) << 8) | host
    v6 = _IPV6 | (country.astype(np.int64) << 32) | rng.integers(1, 1 << 32, n)
    return np.where(rng.random(n) < ipv6_share, v6, v4)


def ip_country(ip: np.ndarray) -> np.ndarray:
    """Country code of each IP code (-1 stays -1)."""
    v6 = (ip & _IPV6) != 0
    country = np.where(v6, (ip >> 32) & 0xFF, ((ip >> 24) & 0xFF) // 9 - 2)
    # ipv4_first_octet = 20 + 9 * country + 3 * block, so (octet // 9) - 2 == country
    return np.where(ip < 0, -1, country).astype(np.int16)


def is_ipv6(ip: np.ndarray) -> np.ndarray:
    """Which IP codes stand for IPv6 addresses."""
    return (ip >= 0) & ((ip & _IPV6) != 0)


@dataclass(frozen=True)
class CarrierPools:
    """Mobile-carrier IPs per country, shared by many buyers (CGNAT)."""

    ip: np.ndarray
    country: np.ndarray

    def draw(self, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
        """A carrier IP in each given country."""
        wanted = country.astype(np.int64)
        return self.ip[choose_in_groups(rng, self.country, np.ones(self.ip.size), wanted, len(COUNTRIES))]


def build_carrier_pools(rng: np.random.Generator, n_buyers: int) -> CarrierPools:
    """About one carrier IP per 25 buyers, in every country."""
    per_country = max(20, n_buyers // 25 // len(COUNTRIES))
    country = np.repeat(np.arange(len(COUNTRIES), dtype=np.int16), per_country)
    return CarrierPools(ip=ip_addresses(rng, country, ipv6_share=.3), country=country)
