"""The contract's tables as Dask DataFrames: one file, or a directory of part files.

A data set too big for one machine comes as many Parquet (or CSV) files of the same
table (`orders/part-0000.parquet`, ...); each part is read and validated on a worker
with the same rules as `risk.datasets` (`normalise`), so a broken value is the same
one-line error, naming the part file's table, column and row within that part.
A single file is the contract's own layout (`orders.parquet`): it is split by its
Parquet row groups, so write parts (or smaller row groups) for data sets larger than
a worker's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from risk.datasets import ORDERS, OUTCOMES, _check_post_id, _Table, normalise
from risk.errors import DataError

if TYPE_CHECKING:
    import dask.dataframe as dd

PART_SUFFIXES = (".parquet", ".pq", ".csv")


def read_orders(path: str | Path) -> dd.DataFrame:
    """The orders table (file or directory of parts), validated per partition; see `dask_batch` for uniqueness."""
    return _read(Path(path), ORDERS, check_posts=True)


def read_outcomes(path: str | Path) -> dd.DataFrame:
    """The outcomes table (file or directory of parts), validated per partition."""
    return _read(Path(path), OUTCOMES, check_posts=False)


def part_files(path: Path) -> list[Path]:
    """The files of a data set: the file itself, or a directory's part files of one format."""
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if not path.is_dir():
        if path.suffix.lower() not in PART_SUFFIXES:
            raise DataError(f"{path}: unknown format {path.suffix!r}; use .parquet or .csv")
        return [path]
    parts = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PART_SUFFIXES)
    if not parts:
        raise DataError(f"{path}: no .parquet or .csv part files in this directory")
    formats = {_format(p) for p in parts}
    if len(formats) > 1:
        raise DataError(f"{path}: part files mix {' and '.join(sorted(formats))}; use one format")
    return parts


def _format(path: Path) -> str:
    return "csv" if path.suffix.lower() == ".csv" else "parquet"


def _read(path: Path, table: _Table, check_posts: bool) -> dd.DataFrame:
    import dask.dataframe as dd

    parts = part_files(path)
    names = [str(p) for p in parts]
    try:
        if _format(parts[0]) == "csv":
            raw = dd.read_csv(names, dtype=str, keep_default_na=False, na_values=[""], blocksize="64MB")
        else:
            raw = dd.read_parquet(names, split_row_groups="infer")
    except Exception as exc:  # pyarrow and the csv parser raise many kinds
        raise DataError(f"{path}: cannot be read: {str(exc).splitlines()[0]}") from None
    meta = _normalised(raw._meta, table, str(path), check_posts=False)
    return raw.map_partitions(_normalised, table, str(path), check_posts, meta=meta)


def _normalised(frame: pd.DataFrame, table: _Table, source: str, check_posts: bool) -> pd.DataFrame:
    """One partition typed and checked as `risk.datasets` reads a whole file."""
    result = normalise(frame, table, source=source)
    if check_posts:
        _check_post_id(result, Path(source))
    return result


def write_parts(frame: pd.DataFrame, directory: str | Path, parts: int, write: Callable[[pd.DataFrame, Path], None],
                ) -> list[Path]:
    """Split a table into `parts` Parquet files `part-0000.parquet`, ... in row order (tests, benches, exports)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(frame), parts + 1).astype(int)
    paths = []
    for i in range(parts):
        path = directory / f"part-{i:04d}.parquet"
        write(frame.iloc[bounds[i]:bounds[i + 1]], path)
        paths.append(path)
    return paths
