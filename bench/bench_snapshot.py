"""What a snapshot of the embedded state costs the scoring path: forked child vs follower process vs none.

Usage: python bench/bench_snapshot.py [--warm 100000] [--rate 1000] [--seconds 20] [--rounds 2]

One process holds an EmbeddedState with --warm orders of history and scores orders at a
fixed rate (online features + state update, the state work of a request, timed per
order; no HTTP, so wrk and the network stack add no noise). During each run:
- none: nothing else;
- fork: `snapshot_in_background` 1 s into the run (the service's way before this version);
- follower: `serve.snapshot_follower` running beside it (a process of its own under
  SCHED_IDLE, reading the snapshot and writing it again every 2 s, piece by piece at
  most its CPU share of a core), the service's way with RISK_SNAPSHOT_WRITER=follower.
Prints p50 / p99 / p99.9 / max per run; runs are interleaved over --rounds.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from features.loading import History, load_history
from features.online import OnlineFeatures
from features.replay import _clean
from features.state import EmbeddedState
from risk.contract import Order, unflatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from serve.decision_log import SQLiteDecisionLog
from training.simulator import simulate

ROOT = Path(__file__).resolve().parents[1]


def score_at_rate(online: OnlineFeatures, orders: list[Order], rate: float, seconds: float,
                  at_start: object = None) -> np.ndarray:
    """Per-order seconds of compute + apply, one order every 1/rate s (a late order starts at once)."""
    count = min(len(orders), int(rate * seconds))
    timings = np.empty(count)
    started = time.perf_counter()
    for i in range(count):
        if i == int(rate) and callable(at_start):  # one second in
            at_start()
        due = started + i / rate
        while (now := time.perf_counter()) < due:
            if due - now > 0.0005:
                time.sleep(due - now - 0.0003)
        begin = time.perf_counter()
        _, writes = online.compute(orders[i])
        online.state.apply(writes)
        timings[i] = time.perf_counter() - begin
        if i % int(rate) == 0:
            gc.collect(1)
            gc.freeze()  # as the service does every second
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    per_run = int(args.rate * args.seconds)
    modes = ["none", "fork", "follower"]
    orders, outcomes = simulate(args.warm + per_run * len(modes) * args.rounds + 1000, 60, seed=3)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    warm = orders.iloc[:args.warm]
    known = outcomes[outcomes["order_id"].isin(set(warm["order_id"]))
                     & (outcomes["reported_at"] <= warm["created_at"].iloc[-1])]
    state = EmbeddedState()
    load_history(History.from_frames(warm, known), state)
    gc.collect()
    gc.freeze()
    online = OnlineFeatures(state)
    rest = [Order.model_validate(unflatten(_clean(r))) for r in orders.iloc[args.warm:].to_dict("records")]
    results: dict[str, list[np.ndarray]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as work:
        snapshot, log_path = Path(work) / "state.pkl", Path(work) / "decisions.sqlite"
        state.snapshot(snapshot)
        SQLiteDecisionLog(log_path).close()
        size = snapshot.stat().st_size / 1e6
        next_order = 0
        for _ in range(args.rounds):
            for mode in modes:
                batch = rest[next_order:next_order + per_run]
                next_order += per_run
                follower = None
                at_start = None
                if mode == "fork":
                    def at_start() -> None:
                        pid = state.snapshot_in_background(snapshot)
                        if pid:
                            os.waitpid(pid, os.WNOHANG)
                elif mode == "follower":
                    env = dict(os.environ, PYTHONPATH=str(ROOT))
                    follower = subprocess.Popen([sys.executable, "-m", "serve.snapshot_follower", "--log",
                                                 str(log_path), "--snapshot", str(snapshot), "--interval", "2"],
                                                env=env)
                timings = score_at_rate(online, batch, args.rate, args.seconds, at_start)
                if follower is not None:
                    follower.terminate()
                    follower.wait()
                results[mode].append(timings)
                print(f"{mode:<9} p50 {np.percentile(timings, 50) * 1e3:.3f} ms, p99 "
                      f"{np.percentile(timings, 99) * 1e3:.3f} ms, max {timings.max() * 1e3:.1f} ms",
                      file=sys.stderr, flush=True)
                try:
                    while os.waitpid(-1, os.WNOHANG)[0]:
                        pass
                except ChildProcessError:
                    pass
                time.sleep(2)
    print(f"\nstate work per order (features + update) at {args.rate:g} orders/s for {args.seconds:g} s per run, "
          f"{args.warm:,} orders of history (snapshot {size:.0f} MB), load average {os.getloadavg()[0]:.1f} at the end")
    print("| snapshot | run | p50 ms | p99 ms | p99.9 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for mode in modes:
        for number, timings in enumerate(results[mode], start=1):
            p50, p99, p999 = (np.percentile(timings, q) * 1e3 for q in (50, 99, 99.9))
            print(f"| {mode} | {number} | {p50:.3f} | {p99:.3f} | {p999:.3f} | {timings.max() * 1e3:.1f} |")


if __name__ == "__main__":
    main()
