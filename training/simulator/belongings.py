"""What each genuine buyer owns: one or two cards, a few devices, a home IP, addresses.

Each buyer's items are a contiguous run in flat tables (`first`, `count`), so
picking "one of the buyer's cards" for a million orders is arithmetic.
"""

from dataclasses import dataclass, replace

import numpy as np

from .accounts import Buyers
from .geo import BUYER_COUNTRY_SHARES, COUNTRIES, draw_countries
from .ids import IdAllocator
from .instruments import GENUINE_FUNDING, Bins, Cards, ip_addresses, new_cards
from .sampling import choose_in_groups
from .tables import copy_rows

HOUSEHOLD_SHARE = .04  # buyers living with another buyer
FOREIGN_CARD_SHARE = .05  # expats and cross-border banking: card issued outside the home country


@dataclass(frozen=True)
class Owned:
    """Per-owner runs into a flat table: items first..first+count-1."""

    first: np.ndarray
    count: np.ndarray

    def pick(self, rng: np.random.Generator, owner: np.ndarray, habit: float) -> np.ndarray:
        """Flat index of one item per draw: the first item with probability
        `habit`, otherwise any of the owner's items."""
        count = self.count[owner]
        other = (rng.random(owner.size) * count).astype(np.int64)
        offset = np.where(rng.random(owner.size) < habit, 0, other)
        return self.first[owner] + offset


@dataclass(frozen=True)
class Belongings:
    """Instruments of the genuine buyers."""

    cards: Cards
    card_of: Owned
    device_id: np.ndarray
    device_channel: np.ndarray
    device_of: Owned
    home_ip: np.ndarray
    address_id: np.ndarray
    address_country: np.ndarray
    address_of: Owned


def runs(counts: np.ndarray) -> tuple[Owned, np.ndarray]:
    """Owner runs for the given counts, and the owner of each flat item."""
    first = np.cumsum(counts) - counts
    return Owned(first=first, count=counts), np.repeat(np.arange(counts.size), counts)


def mostly_home(rng: np.random.Generator, home: np.ndarray, abroad_share: float) -> np.ndarray:
    """The home country, or with a small share a random other one."""
    elsewhere = draw_countries(rng, BUYER_COUNTRY_SHARES, home.size)
    return np.where(rng.random(home.size) < abroad_share, elsewhere, home).astype(np.int16)


def build_belongings(rng: np.random.Generator, ids: IdAllocator, buyers: Buyers, bins: Bins) -> Belongings:
    """One card (72%) or two; one to three devices; one address (85%) or two;
    then households share some of them."""
    return share_in_households(rng, _own_belongings(rng, ids, buyers, bins), buyers)


def _own_belongings(rng: np.random.Generator, ids: IdAllocator, buyers: Buyers, bins: Bins) -> Belongings:
    """Everything bought or set up by each buyer alone."""
    n = buyers.account_id.size
    card_of, card_owner = runs(np.where(rng.random(n) < .72, 1, 2))
    card_country = mostly_home(rng, buyers.home_country[card_owner], FOREIGN_CARD_SHARE)
    device_of, device_owner = runs(rng.choice([1, 2, 3], size=n, p=[.55, .35, .10]))
    address_of, address_owner = runs(np.where(rng.random(n) < .85, 1, 2))
    return Belongings(
        cards=new_cards(rng, ids, bins, card_country, GENUINE_FUNDING),
        card_of=card_of,
        device_id=ids.take("device", device_owner.size),
        device_channel=(rng.random(device_owner.size) >= .62).astype(np.int16),
        device_of=device_of,
        home_ip=ip_addresses(rng, buyers.home_country, ipv6_share=.15),
        address_id=ids.take("address", address_owner.size),
        address_country=mostly_home(rng, buyers.home_country[address_owner], .02),
        address_of=address_of,
    )


def share_in_households(rng: np.random.Generator, owned: Belongings, buyers: Buyers) -> Belongings:
    """4% of buyers live with another buyer of their country: same home IP and
    address, 50% share a tablet (first device), 30% a card.

    Genuine sharing keeps "several accounts behind one device, IP, address or
    card" from being proof of a fraud ring.
    """
    country = buyers.home_country.astype(np.int64)
    member = np.flatnonzero(rng.random(country.size) < HOUSEHOLD_SHARE)
    host = choose_in_groups(rng, country, np.ones(country.size), country[member], len(COUNTRIES))
    home_ip = owned.home_ip.copy()
    home_ip[member] = home_ip[host]
    address_id, address_country = owned.address_id.copy(), owned.address_country.copy()
    mine, theirs = owned.address_of.first[member], owned.address_of.first[host]
    address_id[mine], address_country[mine] = address_id[theirs], address_country[theirs]
    tablet = rng.random(member.size) < .5
    device_id, channel = owned.device_id.copy(), owned.device_channel.copy()
    mine, theirs = owned.device_of.first[member[tablet]], owned.device_of.first[host[tablet]]
    device_id[mine], channel[mine] = device_id[theirs], channel[theirs]
    card = rng.random(member.size) < .3
    cards = copy_rows(owned.cards, owned.card_of.first[host[card]], owned.card_of.first[member[card]])
    return replace(owned, cards=cards, home_ip=home_ip, device_id=device_id, device_channel=channel,
                   address_id=address_id, address_country=address_country)
