"""Batch prefix sums per entity: the vectorised twin of a FeatureState log.

`PrefixIndex(codes, times, weights).before(q_codes, q_times, inclusive)` gives, for
every query, the sum of the weights of events of the same entity with time < q (or
<= q), for all queries at once and without a Python loop: events are sorted by one
int64 key (entity code, time rank), and each query becomes a binary search.
"""

from __future__ import annotations

from typing import Literal

import numpy as np


def _search(haystack: np.ndarray, needles: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
    """np.searchsorted, with the needles sorted first: ten times faster on a million of them."""
    order = np.argsort(needles, kind="stable")
    found = np.empty(len(needles), dtype="int64")
    found[order] = np.searchsorted(haystack, needles[order], side=side)
    return found


class PrefixIndex:
    """Events (entity code, time, weights) answering per-entity prefix sums."""

    def __init__(self, codes: np.ndarray, times: np.ndarray, weights: np.ndarray) -> None:
        keep = codes >= 0
        codes, times, weights = codes[keep].astype("int64"), times[keep], weights[keep]
        self.unique_times, ranks = np.unique(times, return_inverse=True)
        self.span = np.int64(len(self.unique_times) + 1)
        keys = codes * self.span + ranks
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        cumulative = np.cumsum(weights[order], axis=0, dtype="int64")
        self.cumulative = np.vstack([np.zeros((1, weights.shape[1]), dtype="int64"), cumulative])
        n_codes = int(codes.max()) + 1 if len(codes) else 0
        self.starts = np.searchsorted(self.keys, np.arange(n_codes + 1, dtype="int64") * self.span)

    def before(self, q_codes: np.ndarray, q_times: np.ndarray, inclusive: bool) -> tuple[np.ndarray, ...]:
        """Per weight: sum over the query entity's events with time < q (<= q if inclusive).

        Queries whose entity is unknown (code < 0) get NaN; an entity with no event, 0.
        """
        lo, hi = self._bounds(q_codes, q_times, inclusive)
        sums = (self.cumulative[hi] - self.cumulative[lo]).astype("float64")
        sums[q_codes < 0] = np.nan
        return tuple(sums[:, i] for i in range(sums.shape[1]))

    def first_and_last(self, q_codes: np.ndarray, q_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Times of the query entity's first and last events at or before q; NaN if it has none."""
        lo, hi = self._bounds(q_codes, q_times, inclusive=True)
        has = hi > lo
        event_times = np.append(self.unique_times[self.keys % self.span], 0).astype("float64")
        first = np.where(has, event_times[np.where(has, lo, -1)], np.nan)
        last = np.where(has, event_times[np.where(has, hi - 1, -1)], np.nan)
        return first, last

    def _bounds(self, q_codes: np.ndarray, q_times: np.ndarray, inclusive: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per query, the slice [lo, hi) of the sorted events: the entity's events before q (at q too if inclusive)."""
        side: Literal["left", "right"] = "right" if inclusive else "left"
        ranks = _search(self.unique_times, q_times, side)
        known = (q_codes >= 0) & (q_codes < len(self.starts) - 1)
        codes = np.where(known, q_codes, 0).astype("int64")
        hi = _search(self.keys, codes * self.span + ranks, "left")
        lo = self.starts[codes] if len(self.starts) > 1 else np.zeros(len(codes), "int64")
        return lo, np.where(known, hi, lo)
