"""A Dask client for batch work: a LocalCluster on this machine, or a running scheduler.

`risk features|train|score --dask local` starts a LocalCluster (worker processes with a
memory limit each) and closes it, workers included, when the command ends;
`--dask tcp://host:8786` uses the cluster of a scheduler that runs already (the
deploy/ compose file starts one) and leaves it running.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from risk.errors import InvalidInput

if TYPE_CHECKING:
    from distributed import Client

LOCAL = "local"


@dataclass(frozen=True)
class ClusterSpec:
    """Where to run: `address` is "local" or a scheduler's address; the rest sizes a LocalCluster."""

    address: str
    workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "auto"  # per worker: "2GB", or "auto" (the machine's memory shared among workers)
    processes: bool = True  # False: workers are threads of this process (quick to start, for tests)


@contextmanager
def dask_client(spec: ClusterSpec) -> Iterator[Client]:
    """A connected client; a LocalCluster started here is closed on the way out."""
    from distributed import Client, LocalCluster

    if spec.address != LOCAL:
        try:
            client = Client(spec.address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidInput(f"--dask {spec.address}: cannot reach the scheduler ({exc})") from None
        with client:
            yield client
        return
    if spec.workers < 1 or spec.threads_per_worker < 1:
        raise InvalidInput("--dask-workers and --dask-threads must be at least 1")
    # The p2p shuffle logs each shuffle's start and end as warnings: noise on a command's stderr.
    with LocalCluster(n_workers=spec.workers, threads_per_worker=spec.threads_per_worker,
                      memory_limit=spec.memory_limit, processes=spec.processes, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
        yield client
