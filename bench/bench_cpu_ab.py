"""CPU per request of several checkouts' services, served side by side and loaded in turn, in one run.

Usage: PYTHONPATH=. python bench/bench_cpu_ab.py --bodies FILE --side NAME=REPO,MODEL,STATE [--side ...]
                                               [--rate 120] [--window 15] [--max-window 5] [--rounds 6]

Each side is `python -m cli.main serve` of checkout REPO (its packages first on PYTHONPATH), with model
directory MODEL and the embedded state restored from the snapshot STATE (made by that checkout, e.g.
bench_http.py's --warm-cache file), on ports from --port up. Every side gets the same request bodies
(a JSON order per line, in time order after the state's history; a fresh slice per window, never
reused within a side), the same steady rate and window; the order of the sides alternates every round,
so a machine whose load changes (other jobs) weighs on every side alike. CPU per request = the service
process's CPU seconds over the window / requests answered: unlike latency, comparable under load.
Needs wrk, as bench_http.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench.bench_http import API_KEY, Run, Server, run_wrk


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--side", action="append", required=True, help="NAME=REPO,MODEL,STATE")
    p.add_argument("--bodies", type=Path, required=True, help="request bodies, one JSON order per line")
    p.add_argument("--work", type=Path, required=True, help="working directory (emptied first)")
    p.add_argument("--rate", type=float, default=120)
    p.add_argument("--window", type=float, default=15)
    p.add_argument("--max-window", type=float, default=0, help="also a max-throughput window of this many s")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--warm", type=int, default=3000)
    p.add_argument("--port", type=int, default=18960, help="the first side's port; the next sides' follow")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for every side's service")
    args = p.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    lines = args.bodies.read_text().splitlines()
    cursor = [0]

    def slice_file(name: str, count: int) -> Path:
        path = args.work / f"bodies-{name}.jsonl"
        chunk = lines[cursor[0]:cursor[0] + count]
        if len(chunk) < count:
            raise SystemExit("out of bodies")
        cursor[0] += count
        path.write_text("\n".join(chunk) + "\n")
        return path

    servers = {}
    try:
        for i, spec in enumerate(args.side):
            name, rest = spec.split("=", 1)
            repo, model, state = rest.split(",")
            data = args.work / f"data-{name}"
            data.mkdir()
            shutil.copyfile(state, data / "state.pkl")
            env = dict(os.environ, RISK_API_KEYS=json.dumps({API_KEY: "checkout"}), RISK_SNAPSHOT_INTERVAL_S="3600",
                       PYTHONPATH=repo)
            env.update(item.split("=", 1) for item in args.env)
            port = args.port + i
            servers[name] = Server(name, [sys.executable, "-m", "cli.main", "serve", "--model", model, "--port",
                                          str(port), "--data-dir", str(data)], env, port, args.work / f"{name}.log",
                                   cwd=Path(repo))
        for server in servers.values():
            server.wait_ready(600)
        # the same bodies to every side: each side keeps its own log and state, so ids may repeat across sides
        warm = slice_file("warm", args.warm)
        for server in servers.values():
            run_wrk(server, Run(server.name, "warm-up", 0, 5, 4), warm, once=True)
        names = list(servers)
        results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]
            bodies = slice_file(f"r{r}", int(args.rate * args.window * 1.2) + 100)
            max_bodies = slice_file(f"m{r}", 6000) if args.max_window else None
            for name in order:
                server = servers[name]
                run = run_wrk(server, Run(name, f"{args.rate:g}/s", args.rate, args.window, 10), bodies)
                load = os.getloadavg()[0]
                line = {"round": r, "side": name, "run": "steady", "rps": round(run.achieved_rps, 1),
                        "cores": round(run.server_cpu, 3), "cpu_ms_per_req": round(run.server_cpu / run.achieved_rps
                                                                                   * 1000, 3),
                        "p50_ms": round(run.p50_ms, 2), "errors": run.errors, "load": round(load, 1)}
                print(json.dumps(line), flush=True)
                results[name].append((run.server_cpu / run.achieved_rps * 1000, run.achieved_rps, load))
                if max_bodies is not None:
                    run = run_wrk(server, Run(name, "max", 0, args.max_window, 8), max_bodies)
                    print(json.dumps({"round": r, "side": name, "run": "max", "rps": round(run.achieved_rps, 1),
                                      "cores": round(run.server_cpu, 3),
                                      "cpu_ms_per_req": round(run.server_cpu / run.achieved_rps * 1000, 3),
                                      "errors": run.errors, "load": round(os.getloadavg()[0], 1)}), flush=True)
                time.sleep(1)
        for name, values in results.items():
            per = sorted(v[0] for v in values)
            print(f"{name}: steady CPU ms/request median {per[len(per) // 2]:.3f}, all {[round(v, 3) for v in per]}")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
