"""How much fraud there is, split into patterns, and generating it."""

from collections.abc import Callable

import numpy as np

from .fraud_cards import card_testing, stolen_cards
from .fraud_crews import build_crews
from .fraud_identity import account_takeover, new_account_high_value
from .fraud_kit import Crowd, FraudScene
from .fraud_rings import fraud_rings
from .ids import IdAllocator
from .schema import Batch
from .world import World

FRAUD_SHARE = .008  # of all orders; ~90% of it is later reported
PATTERN_SHARES: dict[str, float] = {
    "stolen_card": .35,
    "card_testing": .20,
    "account_takeover": .15,
    "fraud_ring": .15,
    "new_account_high_value": .15,
}
Generator = Callable[[np.random.Generator, World, IdAllocator, FraudScene, int], Batch]
GENERATORS: dict[str, Generator] = {
    "stolen_card": stolen_cards,
    "card_testing": card_testing,
    "account_takeover": account_takeover,
    "fraud_ring": fraud_rings,
    "new_account_high_value": new_account_high_value,
}


def fraud_counts(n_orders: int) -> dict[str, int]:
    """Fraud orders per pattern; exact, so rates do not drift with luck."""
    total = round(n_orders * FRAUD_SHARE)
    counts = {name: int(total * share) for name, share in PATTERN_SHARES.items()}
    counts["stolen_card"] += total - sum(counts.values())
    return counts


def fraud_orders(
    rng: np.random.Generator, world: World, ids: IdAllocator, counts: dict[str, int],
    crowd: Crowd, progress: Callable[[str], None],
) -> list[Batch]:
    """One batch per pattern with orders to generate; the crews work across patterns."""
    scene = FraudScene(crews=build_crews(rng, ids, sum(counts.values())), crowd=crowd)
    batches = []
    for name, n in counts.items():
        if n > 0:
            batches.append(GENERATORS[name](rng, world, ids, scene, n))
            progress(f"fraud: {n:,} {name} orders")
    return batches
