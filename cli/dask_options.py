"""The `--dask` options that `risk features`, `train` and `score` share, and writing a Dask result."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.outputs import write_table
from risk.errors import InvalidInput
from risk.files import replace_directory

if TYPE_CHECKING:
    import dask.dataframe as dd

    from training.cluster import ClusterSpec

TABLE_SUFFIXES = (".parquet", ".csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Dask (data sets larger than one machine's memory)")
    group.add_argument("--dask", metavar="local|ADDRESS",
                       help="run on Dask: 'local' starts a LocalCluster here, an address (tcp://host:8786) uses a "
                       "running scheduler; --orders and --outcomes may then be directories of part files")
    group.add_argument("--dask-workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    group.add_argument("--dask-threads", type=int, default=1, help="threads per LocalCluster worker (default 1)")
    group.add_argument("--dask-memory-limit", default="auto",
                       help="memory limit per LocalCluster worker, e.g. 2GB (default: the machine's, shared)")
    group.add_argument("--partitions", type=int,
                       help="partitions of each entity shuffle (default: as many as the orders have)")


def cluster_spec(args: argparse.Namespace) -> ClusterSpec:
    from training.cluster import ClusterSpec

    if args.partitions is not None and args.partitions < 1:
        raise InvalidInput("--partitions must be at least 1")
    return ClusterSpec(args.dask, workers=args.dask_workers, threads_per_worker=args.dask_threads,
                       memory_limit=args.dask_memory_limit)


def check_out(out: Path) -> None:
    """A .parquet or .csv file (collected here), or a new or empty directory for part files (written by workers)."""
    if out.suffix.lower() in TABLE_SUFFIXES:
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"--out {out}: give a new or empty directory for part files, or a .parquet or .csv file")


def write_result(frame: dd.DataFrame, out: Path) -> int:
    """Write a Dask result to `out` (see `check_out`); returns its number of rows."""
    if out.suffix.lower() in TABLE_SUFFIXES:
        table = frame.compute()
        write_table(table, out)
        return len(table)
    import pyarrow.parquet as pq

    # the parts go to a fresh directory swapped in once all are written: never a half set of parts
    replace_directory(out, lambda parts: frame.to_parquet(parts, write_index=False))
    return sum(pq.read_metadata(part).num_rows for part in sorted(out.glob("*.parquet")))
