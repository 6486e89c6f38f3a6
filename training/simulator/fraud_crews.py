"""Fraud crews: the people behind the fraud, and the kit they reuse for weeks.

A crew works one market (the country of its victims) and owns a few devices
(phones, emulators), a pool of proxy IPs in that market and a few drop
addresses there. Its events (stolen-card bursts, card-testing runs, takeovers,
cash-outs through new accounts) draw on that kit, each item with a
pattern-specific probability, else on something fresh. One order of a crew
looks like anyone's; the kit turning up again and again, under different
accounts and cards, and the reports piling up on it, is what gives it away.
"""

from dataclasses import dataclass

import numpy as np

from .belongings import Owned, runs
from .geo import BUYER_COUNTRY_SHARES, FRAUD_ORIGIN_COUNTRIES, UTC_OFFSET_MINUTES, draw_countries
from .ids import IdAllocator
from .instruments import ip_addresses
from .sampling import choose_weighted

ORDERS_PER_CREW = 60        # fraud orders per crew over the window, on average
LOCAL_OPERATOR_SHARE = .55  # crews working from their market's time zone, the rest from abroad


@dataclass(frozen=True)
class Crews:
    """Crews and their kit; crew c owns items first..first+count-1 of each table."""

    country: np.ndarray        # the market a crew works: victims, proxies and drops are there
    utc_offset: np.ndarray     # where the crew works from, minutes
    weight: np.ndarray         # how busy each crew is
    device_of: Owned
    device_id: np.ndarray
    device_channel: np.ndarray
    ip_of: Owned
    ip: np.ndarray
    address_of: Owned
    address_id: np.ndarray

    def assign(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The crew behind each of `n` events; busy crews get more."""
        return choose_weighted(rng, self.weight, n)

    def devices(
        self, rng: np.random.Generator, ids: IdAllocator, crew: np.ndarray, reuse: float, web_share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A device of the crew with probability `reuse`, else a never-seen one; and its channel."""
        own = self.device_of.pick(rng, crew, 0.0)
        fresh_id = ids.take("device", crew.size)
        fresh_channel = (rng.random(crew.size) < web_share).astype(np.int16)
        use = rng.random(crew.size) < reuse
        return np.where(use, self.device_id[own], fresh_id), np.where(use, self.device_channel[own], fresh_channel)

    def ips(self, rng: np.random.Generator, crew: np.ndarray, country: np.ndarray, reuse: float) -> np.ndarray:
        """An IP in `country`: one of the crew's proxies with probability `reuse` where they are
        in that country, else a fresh one (rotating residential proxies, the crew's own line)."""
        own = self.ip[self.ip_of.pick(rng, crew, 0.0)]
        use = (rng.random(crew.size) < reuse) & (country == self.country[crew])
        return np.where(use, own, ip_addresses(rng, country, ipv6_share=.1))

    def addresses(
        self, rng: np.random.Generator, ids: IdAllocator, crew: np.ndarray, reuse: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A drop address of the crew with probability `reuse`, else a new one in its market."""
        own = self.address_id[self.address_of.pick(rng, crew, 0.0)]
        fresh = ids.take("address", crew.size)
        return np.where(rng.random(crew.size) < reuse, own, fresh), self.country[crew]

    def origin_ips(self, rng: np.random.Generator, crew: np.ndarray) -> np.ndarray:
        """IPs of the crew's own line, in a fraud-origin country (no proxy)."""
        origin = rng.choice(FRAUD_ORIGIN_COUNTRIES, size=crew.size)
        return ip_addresses(rng, origin, ipv6_share=.1)


def build_crews(rng: np.random.Generator, ids: IdAllocator, n_fraud_orders: int) -> Crews:
    """About one crew per 60 fraud orders, heavy-tailed in activity; each with 2-5
    devices, 2-6 proxy IPs and 1-3 drop addresses."""
    n = max(2, round(n_fraud_orders / ORDERS_PER_CREW))
    country = draw_countries(rng, BUYER_COUNTRY_SHARES, n)
    origin = rng.choice(FRAUD_ORIGIN_COUNTRIES, size=n)
    offset = np.where(rng.random(n) < LOCAL_OPERATOR_SHARE, UTC_OFFSET_MINUTES[country], UTC_OFFSET_MINUTES[origin])
    device_of, device_crew = runs(2 + rng.poisson(1.2, n))
    ip_of, ip_crew = runs(2 + rng.poisson(1.5, n))
    address_of, address_crew = runs(1 + rng.binomial(2, .4, n))
    return Crews(
        country=country, utc_offset=offset.astype(np.int32), weight=1.0 + rng.pareto(2.0, n),
        device_of=device_of, device_id=ids.take("device", device_crew.size),
        device_channel=(rng.random(device_crew.size) < .45).astype(np.int16),
        ip_of=ip_of, ip=ip_addresses(rng, country[ip_crew], ipv6_share=.1),
        address_of=address_of, address_id=ids.take("address", address_crew.size),
    )
