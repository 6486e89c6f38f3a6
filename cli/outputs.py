"""Tables the commands write (`--out x.parquet|x.csv`), each whole or not at all.

A crash or a full disk during the write leaves the previous file as it was (`risk.files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from risk.files import write_atomically

if TYPE_CHECKING:
    import pandas as pd


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """`frame` as Parquet or CSV by `out`'s suffix, through a temporary file renamed over `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_atomically(out, lambda temporary: frame.to_csv(temporary, index=False))
    else:
        write_atomically(out, lambda temporary: frame.to_parquet(temporary, index=False))
