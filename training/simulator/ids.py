"""Entity identifiers: dense integer codes while simulating, opaque strings at the end."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ID_DIGITS = 10
_ID_SPACE = 10**ID_DIGITS
# Coprime with 10, so code -> (code * multiplier + salt) mod 10**10 is a bijection:
# ids look random yet never collide.
_MULTIPLIER = 7_919_333_337


class IdAllocator:
    """Hands out dense, never reused integer codes per kind of entity.

    Generators that create entities (world, fraud patterns) draw from one
    allocator, so codes of a kind never collide across generators.
    """

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, kind: str, n: int) -> np.ndarray:
        """`n` fresh codes of `kind`."""
        start = self._next.get(kind, 0)
        self._next[kind] = start + n
        return np.arange(start, start + n, dtype=np.int64)


def format_ids(prefix: str, codes: np.ndarray, salt: int) -> pa.Array:
    """Opaque ids like `acct_0409735239`; code -1 becomes null.

    The salt comes from the seed, so two seeds give different id strings.
    """
    missing = codes < 0
    scrambled = (np.where(missing, 0, codes) * _MULTIPLIER + salt) % _ID_SPACE
    digits = pc.utf8_lpad(pc.cast(pa.array(scrambled, mask=missing), pa.string()), ID_DIGITS, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def draw_salts(rng: np.random.Generator, kinds: tuple[str, ...]) -> dict[str, int]:
    """One salt per id kind."""
    return {kind: int(s) for kind, s in zip(kinds, rng.integers(0, _ID_SPACE, len(kinds)), strict=True)}
