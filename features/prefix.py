"""Batch prefix sums per entity: the vectorised twin of a FeatureState log.

`PrefixIndex(codes, times, weights).before(q_codes, q_times, inclusive)` gives, for
every query, the sum of the weights of events of the same entity with time < q (or
<= q), for all queries at once and without a Python loop: events are sorted by
(entity, time rank) into one int64 key, and each query becomes a searchsorted.
"""

from __future__ import annotations

import numpy as np


class PrefixIndex:
    """Events (entity code, time, weights) answering per-entity prefix sums."""

    def __init__(self, codes: np.ndarray, times: np.ndarray, weights: np.ndarray) -> None:
        keep = codes >= 0
        codes, times, weights = codes[keep], times[keep], weights[keep]
        order = np.lexsort((times, codes))
        self.unique_times = np.unique(times)
        self.span = np.int64(len(self.unique_times) + 1)
        ranks = np.searchsorted(self.unique_times, times[order])
        self.keys = codes[order].astype("int64") * self.span + ranks
        cumulative = np.cumsum(weights[order], axis=0, dtype="int64")
        self.cumulative = np.vstack([np.zeros((1, weights.shape[1]), dtype="int64"), cumulative])

    def before(self, q_codes: np.ndarray, q_times: np.ndarray, inclusive: bool) -> tuple[np.ndarray, ...]:
        """Per weight: sum over the query entity's events with time < q (<= q if inclusive).

        Queries whose entity is unknown (code < 0) get NaN.
        """
        side = "right" if inclusive else "left"
        ranks = np.searchsorted(self.unique_times, q_times, side=side)
        base = np.maximum(q_codes, 0).astype("int64") * self.span
        hi = np.searchsorted(self.keys, base + ranks, side="left")
        lo = np.searchsorted(self.keys, base, side="left")
        sums = (self.cumulative[hi] - self.cumulative[lo]).astype("float64")
        sums[q_codes < 0] = np.nan
        return tuple(sums[:, i] for i in range(sums.shape[1]))
