"""The snapshot file of the embedded state: CPU to write and read it, and the longest burst of that work.

Usage: python bench/bench_snapshot_file.py [--warm 100000] [--share 0.25]

Builds an EmbeddedState of --warm simulated orders (as bench_http.py warms the service),
then writes and reads its snapshot: as one pickle (the format before version 5, what the
forked child and the first follower did: one burst of CPU), piece by piece unpaced, and
piece by piece paced at --share of a core (what the follower does). CPU is this thread's
(time.thread_time), so other jobs on the machine inflate wall times, not CPU times.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import tempfile
import time
from pathlib import Path

from features.loading import History, load_history
from features.state import EmbeddedState
from features.state.snapshot_file import write_snapshot
from risk.datasets import ORDERS, OUTCOMES, normalise
from risk.pacing import Pacer
from training.simulator import simulate


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    work()
    return time.perf_counter() - wall, time.thread_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=100_000)
    parser.add_argument("--share", type=float, default=0.25)
    args = parser.parse_args()
    orders, outcomes = simulate(int(args.warm * 1.1), 60, seed=21)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    orders = orders.sort_values("created_at", kind="stable").reset_index(drop=True).iloc[:args.warm]
    known = outcomes[(outcomes["reported_at"] <= orders["created_at"].iloc[-1])
                     & outcomes["order_id"].isin(set(orders["order_id"]))].reset_index(drop=True)
    state = EmbeddedState()
    load_history(History.from_frames(orders, known), state)
    gc.collect()
    gc.freeze()
    gc.disable()  # as the follower runs
    rows = []
    with tempfile.TemporaryDirectory() as work:
        whole, pieces = Path(work) / "whole.pkl", Path(work) / "pieces.pkl"
        payload = (4, state.logs, state.sets, state.seen_at, state.orders, state.labelled, state.newest_us)

        def dump_whole() -> None:
            with open(whole, "wb") as handle:
                pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)

        def load_whole() -> None:
            with open(whole, "rb") as handle:
                pickle.load(handle)

        wall, cpu = timed(dump_whole)
        rows.append(("write, one pickle (version 4)", wall, cpu, cpu, whole.stat().st_size))
        wall, cpu = timed(load_whole)
        rows.append(("read, one pickle (version 4)", wall, cpu, cpu, whole.stat().st_size))
        for label, share in (("unpaced", 1.0), (f"paced at {args.share:g} of a core", args.share)):
            pacer = Pacer(share)
            wall, cpu = timed(lambda p=pacer: write_snapshot(pieces, state.snapshot_parts(None), p))
            rows.append((f"write, pieces, {label}", wall, cpu, pacer.longest_burst_s if share < 1 else cpu,
                         pieces.stat().st_size))
            pacer = Pacer(share)
            wall, cpu = timed(lambda p=pacer: EmbeddedState.load(pieces, p))
            rows.append((f"read, pieces, {label}", wall, cpu, pacer.longest_burst_s if share < 1 else cpu,
                         pieces.stat().st_size))
    print(f"\nsnapshot of {args.warm:,} simulated orders; load average {os.getloadavg()[0]:.1f} at the end")
    print("| what | wall s | CPU s | longest burst of CPU | MB |")
    print("|---|---|---|---|---|")
    for label, wall, cpu, burst, size in rows:
        burst_text = f"{burst * 1e3:.1f} ms" if burst < 1 else f"{burst:.2f} s (all of it)"
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {burst_text} | {size / 1e6:.0f} |")


if __name__ == "__main__":
    main()
