"""Vectorised weighted choices: millions of draws with one `searchsorted` each."""

import numpy as np


def choose_weighted(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probability proportional to `weights`."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    target = rng.random(size) * cumulative[-1]
    index = np.searchsorted(cumulative, target, side="right")
    return np.minimum(index, weights.size - 1)


def choose_in_groups(
    rng: np.random.Generator,
    item_group: np.ndarray,
    item_weight: np.ndarray,
    draw_group: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """For each draw, an item of the draw's group, proportional to item weight.

    Items are sorted by group so that each group is one contiguous run of a
    single cumulative sum. Returns -1 for draws whose group has no weight.
    """
    order = np.argsort(item_group, kind="stable")
    weight = item_weight[order].astype(np.float64)
    cumulative = np.cumsum(weight)
    total = np.bincount(item_group, weights=item_weight, minlength=n_groups)
    count = np.bincount(item_group, minlength=n_groups)
    first_item = np.cumsum(count) - count
    base = np.concatenate(([0.0], cumulative))[first_item]
    target = base[draw_group] + rng.random(draw_group.size) * total[draw_group]
    index = np.searchsorted(cumulative, target, side="right")
    # Rounding can step one item past a group's end; keep draws inside it.
    last_item = first_item + np.maximum(count - 1, 0)
    index = np.clip(index, first_item[draw_group], last_item[draw_group])
    found = total[draw_group] > 0
    return np.where(found, order[np.minimum(index, item_group.size - 1)], -1)


def choose_among_earlier(
    rng: np.random.Generator,
    item_time: np.ndarray,
    item_weight: np.ndarray,
    draw_time: np.ndarray,
) -> np.ndarray:
    """For each draw, an item that exists at the draw's time, by weight.

    Lets fraud pick posts already published when the fraudster strikes.
    Returns -1 where no item exists yet.
    """
    order = np.argsort(item_time, kind="stable")
    cumulative = np.cumsum(item_weight[order].astype(np.float64))
    n_alive = np.searchsorted(item_time[order], draw_time, side="right")
    total = np.where(n_alive > 0, cumulative[np.maximum(n_alive - 1, 0)], 0.0)
    target = rng.random(draw_time.size) * total
    index = np.minimum(np.searchsorted(cumulative, target, side="right"), np.maximum(n_alive - 1, 0))
    return np.where(total > 0, order[index], -1)


def truncated_exponential(
    rng: np.random.Generator, scale: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Exponential(scale) draws conditioned on lying in [low, high).

    Memorylessness makes this `low` plus a draw truncated to [0, high - low),
    which stays exact even where `low` is many scales out in the tail.
    """
    cdf_high = -np.expm1(-(high - low) / scale)
    return low - scale * np.log1p(-rng.random(scale.size) * cdf_high)


def split_events(sizes: np.ndarray, total: int) -> tuple[np.ndarray, int]:
    """Orders of events, cut so that exactly `total` orders remain.

    Returns the event of each order (events contiguous and ascending) and the
    number of events kept; the last kept event is shortened to fit.
    """
    ends = np.cumsum(sizes)
    n_events = int(np.searchsorted(ends, total, side="left")) + 1
    if n_events > sizes.size:
        raise ValueError(f"{sizes.size} events hold {ends[-1]} orders, fewer than {total}")
    kept = sizes[:n_events].copy()
    kept[-1] -= ends[n_events - 1] - total
    return np.repeat(np.arange(n_events), kept), n_events
