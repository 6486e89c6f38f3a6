"""Time inside the simulator: integer nanoseconds since the epoch, UTC.

Integers keep every generator vectorised and exact; they become
`datetime64[ns, UTC]` only when the frame is built.
"""

from dataclasses import dataclass

import numpy as np

MILLISECOND = 10**6
SECOND = 10**9
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NAT = np.iinfo(np.int64).min  # numpy's own NaT, so a view as datetime64 is NaT

# Relative shopping activity by local hour: quiet at night, peak in the evening.
HOURLY_ACTIVITY = np.array(
    [.35, .22, .14, .09, .07, .08, .15, .30, .45, .55, .62, .68,
     .74, .72, .68, .68, .72, .80, .88, .96, 1.0, .97, .82, .58]
)
# Monday first; weekends a little busier.
WEEKDAY_ACTIVITY = np.array([.92, .90, .92, .95, 1.0, 1.12, 1.10])


@dataclass(frozen=True)
class Window:
    """The half-open period [start, end) that orders are generated in."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def local_hour(t: np.ndarray, utc_offset_minutes: np.ndarray) -> np.ndarray:
    """Hour of day (0-23) at the buyer's place, for diurnal cycles and regret."""
    local = t + utc_offset_minutes.astype(np.int64) * MINUTE
    return ((local // HOUR) % 24).astype(np.int8)


def activity(t: np.ndarray, utc_offset_minutes: np.ndarray) -> np.ndarray:
    """Relative shopping activity at t in the buyer's time zone, in (0, 1].

    Used as an acceptance probability (thinning), which bends uniform times into
    the diurnal and weekly cycle.
    """
    local = t + utc_offset_minutes.astype(np.int64) * MINUTE
    hour = (local // HOUR) % 24
    weekday = (local // DAY + 3) % 7  # 1970-01-01 was a Thursday
    level = HOURLY_ACTIVITY[hour] * WEEKDAY_ACTIVITY[weekday]
    return level / (HOURLY_ACTIVITY.max() * WEEKDAY_ACTIVITY.max())


def to_millis(t: np.ndarray) -> np.ndarray:
    """Times truncated to milliseconds, the resolution of real event logs."""
    return t - t % 1_000_000


def duration(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    """Log-normal durations in nanoseconds, the usual shape of human delays."""
    return (median * np.exp(sigma * rng.standard_normal(size))).astype(np.int64)
