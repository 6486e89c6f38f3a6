"""Entity tables that grow in batches (genuine population first, then each fraud crew's own)."""

from __future__ import annotations

from typing import Any

import numpy as np


class Table:
    """Rows added in batches; a column reads as one array (cached until the next batch)."""

    def __init__(self, *columns: str) -> None:
        self._parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
        self._cache: dict[str, np.ndarray] = {}
        self.size = 0

    def add(self, n: int, **values: Any) -> np.ndarray:
        """Append `n` rows (a scalar fills every row); returns their indices."""
        if set(values) != set(self._parts):
            raise ValueError(f"columns {sorted(values)} differ from {sorted(self._parts)}")
        for column, value in values.items():
            self._parts[column].append(np.broadcast_to(np.asarray(value), (n,)).copy())
        self._cache.clear()
        start, self.size = self.size, self.size + n
        return np.arange(start, self.size)

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self._cache:
            parts = self._parts[column]
            self._cache[column] = np.concatenate(parts) if parts else np.empty(0)
        return self._cache[column]


def opaque_ids(prefix: str, n: int, salt: int) -> np.ndarray:
    """Distinct ids that say nothing about when or by whom a row was made (a bijection of the row number)."""
    mixed = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(salt)
    mixed = mixed * np.uint64(0xBF58476D1CE4E5B9)  # odd multipliers and a xor: still one id per row
    return np.char.add(f"{prefix}_", np.array([format(int(x), "016x") for x in mixed]))


def ipv4_text(addresses: np.ndarray) -> np.ndarray:
    """Dotted quads of 32-bit numbers."""
    a = addresses.astype(np.uint64)
    parts = [(a >> np.uint64(s)) & np.uint64(255) for s in (24, 16, 8, 0)]
    text = parts[0].astype(str)
    for p in parts[1:]:
        text = np.char.add(np.char.add(text, "."), p.astype(str))
    return text
