"""How much fraud there is, split into patterns, and generating it."""

import math
from collections.abc import Callable

import numpy as np

from .fraud_cards import card_testing, stolen_cards
from .fraud_crews import build_crews
from .fraud_identity import account_takeover, new_account_high_value
from .fraud_kit import Crowd, FraudScene
from .fraud_rings import fraud_rings
from .ids import IdAllocator
from .params import FIXED_PATTERN_SHARES, WorldParams
from .schema import Batch
from .world import World

FRAUD_SHARE = WorldParams().fraud_share  # of all orders, in the fixed world; ~90% of it is later reported
PATTERN_SHARES: dict[str, float] = FIXED_PATTERN_SHARES
Generator = Callable[[np.random.Generator, World, IdAllocator, FraudScene, int], Batch]
GENERATORS: dict[str, Generator] = {
    "stolen_card": stolen_cards,
    "card_testing": card_testing,
    "account_takeover": account_takeover,
    "fraud_ring": fraud_rings,
    "new_account_high_value": new_account_high_value,
}


def fraud_counts(n_orders: int, params: WorldParams | None = None) -> dict[str, int]:
    """Fraud orders per pattern; exact, so rates do not drift with luck."""
    params = params or WorldParams()
    total = round(n_orders * params.fraud_share)
    counts = {name: int(total * share) for name, share in params.pattern_shares.items()}
    counts["stolen_card"] += total - sum(counts.values())
    return counts


def fraud_orders(
    rng: np.random.Generator, world: World, ids: IdAllocator, counts: dict[str, int],
    crowd: Crowd, progress: Callable[[str], None], drift: float = 0.0, drift_rng: np.random.Generator | None = None,
) -> list[Batch]:
    """One batch per pattern with orders to generate; the crews work across patterns.

    With `drift` d, each pattern is generated with spare orders and `n` of them are kept with
    a probability rising (or falling) linearly across the window, so fraud grows or fades
    ((1 + d) / (1 - d) times as dense at the end as at the start).
    """
    scene = FraudScene(crews=build_crews(rng, ids, sum(counts.values())), crowd=crowd)
    batches = []
    for name, n in counts.items():
        if n > 0:
            spare = n if drift == 0 or drift_rng is None else math.ceil(n * (1 + abs(drift)) / (1 - abs(drift)))
            batch = GENERATORS[name](rng, world, ids, scene, spare)
            if spare > n and drift_rng is not None:
                batch = _keep_drifting(drift_rng, batch, n, drift, world)
            batches.append(batch)
            progress(f"fraud: {n:,} {name} orders")
    return batches


def _keep_drifting(rng: np.random.Generator, batch: Batch, n: int, drift: float, world: World) -> Batch:
    """`n` of the batch's orders, more of them late in the window for drift > 0 (fewer for < 0)."""
    window = world.window
    position = (batch["created_at"] - window.start) / max(window.end - window.start, 1)
    weight = np.clip(1 + drift * (2 * position - 1), 1e-6, None)
    chosen = rng.random(position.size) < np.minimum(n * weight / weight.sum(), 1.0)  # density follows the weight
    kept, left = np.flatnonzero(chosen), np.flatnonzero(~chosen)
    if kept.size > n:  # exactly n: trim or top up at random, which the weight's shape barely feels
        kept = rng.choice(kept, size=n, replace=False)
    elif kept.size < n:
        kept = np.concatenate([kept, rng.choice(left, size=n - kept.size, replace=False)])
    keep = np.sort(kept)
    return {name: values[keep] for name, values in batch.items()}
