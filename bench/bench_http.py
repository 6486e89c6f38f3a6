"""The scoring service over HTTP on loopback under wrk, against a naive FastAPI + pandas service.

Usage: python bench/bench_http.py [--model DIR] [--duration 60] [--max-duration 30]
                                  [--rates 500,1000] [--orders 340000] [--json out.json]

Needs `wrk` (Debian: apt-get install wrk). What it does:

1. Data: simulates a world (`training.simulator.simulate`), trains a model on it unless
   --model is given (as bench/bench_scoring.py: as-of at 80% of the orders, 15-day
   maturity). Orders are served in time order; every request body is a different
   simulated order in the contract's nested JSON (`unflatten(row).model_dump_json()`),
   and each run gets fresh order_ids (a per-run prefix), so no request is an
   idempotent replay: every one is really scored, logged and applied to the state.
2. History: the first --warm orders and the outcomes known by then are replayed
   in-process into an EmbeddedState and snapshotted to DATA_DIR/state.pkl, which the
   service restores at start-up (its own restart path), so scoring sees weeks of
   history. Then --warm-http further orders are POSTed over HTTP, unmeasured (process
   warm-up, and SQLite log not empty), before the measured runs.
3. The real service: `python -m cli.main serve --model DIR --port P --data-dir TMP` with
   RISK_API_KEYS (one uvicorn worker, embedded state, SQLite decision log).
4. Load: wrk + bench/wrk_bodies.lua (each request the next body of a file, steady rate
   by a per-request schedule in Lua `delay()`, or as fast as possible). Steady runs at
   each of --rates for --duration seconds, then maximum throughput for --max-duration.
5. Naive baseline: bench/naive_app.py (pandas row + compute_features + booster.predict,
   no history) under the same server, at the rates it can sustain and at its maximum.

Prints one table (achieved rate, latency percentiles from wrk, errors = non-2xx +
socket errors, and the engine's own in-process elapsed_ms read back from the decision
log) and the ratio lines.

Reading the figures: wrk's percentiles cover completed requests only; a request that
timed out (5 s) is an error, one still in flight when a run ends is not counted at all,
and a request sent late because every connection was busy waits uncounted (`late
sends`). So each run also reports, from the decision log, the longest stretch in which
the service logged nothing (a stall), and bench/probe/sitecustomize.py (put on the
service's PYTHONPATH; --no-probe to leave it out) logs every state snapshot and full
garbage collection with its duration, so a stall can be named. --repo serves another
checkout (e.g. a patched copy) with the same harness, data and model, for before/after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).resolve().parent / "wrk_bodies.lua"
API_KEY = "bench-checkout-key"
SCORE_PATH = "/v1/orders/score"


def say(message: str) -> None:
    print(f"[bench_http {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- data -----------------------------------------------------------------------------------


def build_world(n_orders: int, days: int, seed: int):
    from risk.datasets import ORDERS, OUTCOMES, normalise
    from training.simulator import simulate

    orders, outcomes = simulate(n_orders, days, seed=seed)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    orders = orders.sort_values("created_at", kind="stable").reset_index(drop=True)
    return orders, outcomes


def train_model(orders, outcomes, directory: Path) -> None:
    from training.train import TrainConfig, train

    config = TrainConfig(as_of=orders["created_at"].iloc[int(len(orders) * 0.8)], maturity=timedelta(days=15))
    train(orders, outcomes, config, lambda m: say(f"train: {m}")).bundle.save(directory)


def warm_state(orders, outcomes, snapshot: Path) -> None:
    """Load `orders` and the outcomes known by their end into an EmbeddedState, then snapshot it.

    `features.loading` writes the state online replay would (tests/features/test_loading.py), without
    computing features: several times faster.
    """
    from features.loading import History, load_history
    from features.state import EmbeddedState

    until = orders["created_at"].iloc[-1]
    known = outcomes[outcomes["reported_at"] <= until].reset_index(drop=True)
    known = known[known["order_id"].isin(set(orders["order_id"]))].reset_index(drop=True)
    state = EmbeddedState()
    load_history(History.from_frames(orders, known), state)
    state.snapshot(snapshot)


class Bodies:
    """Hands out consecutive, never reused slices of the time-ordered orders as request bodies."""

    def __init__(self, records: list[dict], start: int, directory: Path) -> None:
        self.records, self.next, self.directory = records, start, directory

    def left(self) -> int:
        return len(self.records) - self.next

    def write(self, name: str, prefix: str, count: int) -> tuple[Path, int]:
        from features.replay import _clean
        from risk.contract import unflatten

        count = min(count, self.left())
        if count <= 0:
            raise SystemExit(f"bench_http: out of simulated orders for run {name}: raise --orders")
        path = self.directory / f"bodies-{name}.jsonl"
        with open(path, "w") as handle:
            for record in self.records[self.next:self.next + count]:
                order = unflatten(_clean(record))
                order = order.model_copy(update={"order_id": f"{prefix}{order.order_id}"})
                handle.write(order.model_dump_json())
                handle.write("\n")
        self.next += count
        return path, count


# ---- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A service subprocess (own process group), its readiness and its CPU time."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path,
                 cwd: Path = ROOT) -> None:
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}"
        self._log_handle = open(log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self._log_handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        say(f"{name}: started pid {self.proc.pid} on port {port} (log {log})")

    def wait_ready(self, timeout_s: float = 180.0) -> dict:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench_http: {self.name} exited with {self.proc.returncode}; see {self.log}:\n"
                                 + self.log.read_text()[-3000:])
            try:
                answer = httpx.get(self.url + "/readyz", timeout=2)
                if answer.status_code == 200:
                    return answer.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"bench_http: {self.name} not ready after {timeout_s:.0f} s; see {self.log}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def children_cpu_seconds(self) -> float:
        """CPU seconds of the service's live child processes (the snapshot follower, a forked writer)."""
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown (state snapshot, log close)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_handle.close()
        say(f"{self.name}: stopped (exit {self.proc.returncode})")


class ChildCpuSampler:
    """Samples the CPU of the service's children every `every_s` during a run: their average and their peak
    (the most of a core they used in one window), to tell a writer that works in bursts from a smooth one."""

    def __init__(self, server: Server, every_s: float = 0.25) -> None:
        import threading

        self.server, self.every_s = server, every_s
        self.stop, self.samples = threading.Event(), [(time.monotonic(), server.children_cpu_seconds())]
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.stop.wait(self.every_s):
            self.samples.append((time.monotonic(), self.server.children_cpu_seconds()))

    def finish(self) -> tuple[float, float]:
        """(average cores, peak cores over one window); a child that exited drops out (its time is not counted)."""
        self.stop.set()
        self.thread.join()
        pairs = list(zip(self.samples, self.samples[1:], strict=False))
        rates = [max(0.0, (b[1] - a[1]) / (b[0] - a[0])) for a, b in pairs if b[0] > a[0]]
        if not rates:
            return math.nan, math.nan
        return float(np.mean(rates)), float(max(rates))


@dataclass
class Run:
    server: str
    name: str
    target_rps: float  # 0 = as fast as possible
    duration_s: float
    connections: int
    requests: int = 0
    achieved_rps: float = 0.0
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    p999_ms: float = math.nan
    max_ms: float = math.nan
    errors: int = 0
    error_detail: dict = field(default_factory=dict)
    late: int = 0
    max_lag_ms: float = 0.0
    wraps: int = 0
    server_cpu: float = math.nan  # cores used by the server process over the run
    children_cpu: float = math.nan  # cores used by its child processes (snapshot follower or forked writer)
    children_peak: float = math.nan  # ... the most in one 0.25 s window
    wrk_cpu: float = math.nan
    loadavg_before: float = math.nan
    inproc_n: int = 0
    inproc_p50_ms: float = math.nan
    inproc_p99_ms: float = math.nan
    flagged: float = math.nan
    logged_rows: int = -1
    started_at: float = 0.0  # wall clock (time.time) of the run
    ended_at: float = 0.0
    max_gap_ms: float = math.nan  # longest time the service logged no decision during the run
    gaps_over_100ms: int = -1
    snapshots_s: list = field(default_factory=list)  # state snapshots called in the service (seconds each)
    snapshot_forks_s: list = field(default_factory=list)  # forks of background snapshots (the service's share)
    snapshot_writes_s: list = field(default_factory=list)  # pickle + write, in a forked child when pid differs
    gc2_s: list = field(default_factory=list)  # full garbage collections in the service process (seconds each)
    child_gc2_s: list = field(default_factory=list)  # ... in a child forked by the service (not on its path)


def run_wrk(server: Server, run: Run, bodies: Path, threads: int = 1, once: bool = False,
            api_key: str | None = API_KEY) -> Run:
    env = dict(os.environ, BENCH_BODIES=str(bodies), BENCH_RATE=str(run.target_rps), BENCH_THREADS=str(threads),
               BENCH_ONCE="1" if once else "0")
    if api_key:
        env["BENCH_API_KEY"] = api_key
    argv = ["wrk", f"-t{threads}", f"-c{run.connections}", f"-d{max(1, round(run.duration_s))}s", "--timeout", "5s",
            "-s", str(LUA), server.url + SCORE_PATH]
    run.loadavg_before = os.getloadavg()[0]
    run.started_at = time.time()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    sampler = ChildCpuSampler(server)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - wall_before
    run.children_cpu, run.children_peak = sampler.finish()
    run.ended_at = time.time()
    run.server_cpu = (server.cpu_seconds() - cpu_before) / wall
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.wrk_cpu = ((children_after.ru_utime + children_after.ru_stime)
                   - (children_before.ru_utime + children_before.ru_stime)) / wall
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench_http: wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary = json.loads(lines[-1].split(" ", 1)[1])
    run.requests = summary["requests"]
    run.achieved_rps = summary["requests"] / (summary["duration_us"] / 1e6)
    run.p50_ms, run.p90_ms, run.p99_ms, run.p999_ms = (summary[k] / 1000 for k in ("p50_us", "p90_us", "p99_us",
                                                                                    "p999_us"))
    run.max_ms = summary["lat_max_us"] / 1000
    run.error_detail = {k[4:]: summary[k] for k in summary if k.startswith("err_") and summary[k]}
    run.errors = sum(summary[k] for k in summary if k.startswith("err_"))  # status = non-2xx/3xx (>= 400)
    run.late, run.max_lag_ms, run.wraps = summary["late"], summary["max_lag_ms"], summary["wraps"]
    return run


def read_back(run: Run, db: Path, prefix: str) -> None:
    """From the decision log: rows of this run, the engine's elapsed_ms, share flagged, and the
    longest stretch with no decision logged (a stall of the service)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT decision_json, recorded_at FROM decisions WHERE order_id >= ? AND order_id < ?",
                            (prefix, prefix + "\uffff")).fetchall()
    run.logged_rows = len(rows)
    if rows:
        decisions = [json.loads(r[0]) for r in rows]
        elapsed = np.array([d.get("elapsed_ms") or math.nan for d in decisions])
        run.inproc_p50_ms = float(np.nanpercentile(elapsed, 50))
        run.inproc_p99_ms = float(np.nanpercentile(elapsed, 99))
        run.flagged = float(np.mean([d["decision"] != "approve" for d in decisions]))
        recorded = np.sort(pd.to_datetime(pd.Series([r[1] for r in rows]), utc=True, format="ISO8601")
                           .dt.as_unit("us").astype("int64").to_numpy()) / 1e3  # ms
        gaps = np.diff(recorded)
        run.max_gap_ms = float(gaps.max()) if len(gaps) else math.nan
        run.gaps_over_100ms = int((gaps > 100).sum())


def attribute_events(runs: list[Run], probe: Path, pid: int) -> None:
    """The probe's snapshots and full GCs that overlapped each run (read once the service has stopped,
    so events still running when a run ended are complete)."""
    events = [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []
    for run in runs:
        for event in events:
            if event["start"] + event["seconds"] < run.started_at or event["start"] > run.ended_at:
                continue
            seconds = round(event["seconds"], 3)
            if event["kind"] == "snapshot":
                run.snapshots_s.append(seconds)
            elif event["kind"] == "snapshot_fork":
                run.snapshot_forks_s.append(seconds)
            elif event["kind"] == "snapshot_write":
                run.snapshot_writes_s.append(f"{seconds}{'' if event.get('pid', pid) == pid else ' (child)'}")
            elif event["kind"] == "gc2":
                (run.gc2_s if event.get("pid", pid) == pid else run.child_gc2_s).append(seconds)


def smoke(server: Server, bodies: Path, n: int, api_key: str | None) -> dict:
    """POST the first n bodies one by one, check each answer, and that a repeat is a replay (ours)."""
    import httpx

    headers = {"Content-Type": "application/json"} | ({"X-API-Key": api_key} if api_key else {})
    lines = bodies.read_text().splitlines()[:n]
    seconds, decisions = [], []
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        for line in lines:
            started = time.perf_counter()
            answer = client.post(SCORE_PATH, content=line)
            seconds.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise SystemExit(f"bench_http: {server.name} answered {answer.status_code}: {answer.text[:500]}")
            decisions.append(answer.json())
        replay = client.post(SCORE_PATH, content=lines[0]) if api_key else None
    info = {"n": len(lines), "client_p50_ms": float(np.median(seconds) * 1000),
            "decisions": {d: sum(x["decision"] == d for x in decisions) for d in ("approve", "review", "decline")},
            "example": decisions[0]}
    if replay is not None:
        info["replay_header"] = replay.headers.get("idempotent-replay")
    return info


# ---- report ---------------------------------------------------------------------------------


def fmt(value: float, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def print_table(runs: list[Run]) -> None:
    head = ("server", "run", "target rps", "achieved rps", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors",
            "late sends", "in-proc p50 ms", "longest stall ms", "server CPU", "children CPU avg / peak",
            "load before")
    rows = []
    for r in runs:
        rows.append((r.server, r.name, "max" if not r.target_rps else f"{r.target_rps:g}", f"{r.achieved_rps:,.0f}",
                     fmt(r.p50_ms), fmt(r.p90_ms), fmt(r.p99_ms), fmt(r.max_ms),
                     f"{r.errors}" + (f" {r.error_detail}" if r.error_detail else ""), f"{r.late}",
                     fmt(r.inproc_p50_ms, 3), fmt(r.max_gap_ms, 0) if r.server == "ours" else "-",
                     f"{r.server_cpu:.2f} cores", f"{fmt(r.children_cpu)} / {fmt(r.children_peak)}",
                     f"{r.loadavg_before:.1f}"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in
                                enumerate(zip(row, widths, strict=True))) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (default: train one on the simulated data)")
    parser.add_argument("--orders", type=int, default=340_000, help="simulated orders (must cover every run)")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--warm", type=int, default=100_000, help="orders replayed into the state snapshot")
    parser.add_argument("--warm-http", type=int, default=5_000, help="orders POSTed before measuring (unmeasured)")
    parser.add_argument("--rates", default="500,1000", help="steady rates, requests/s")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per steady run")
    parser.add_argument("--max-duration", type=float, default=30.0, help="seconds of the maximum-throughput run")
    parser.add_argument("--connections", type=int, default=10, help="connections for steady runs")
    parser.add_argument("--max-connections", type=int, default=8, help="connections for the maximum run")
    parser.add_argument("--max-rps-guess", type=float, default=3000, help="bodies prepared for the max run per s")
    parser.add_argument("--naive-rates", default="auto",
                        help="'auto': the --rates up to 85%% of the naive maximum (else half of it); or a list; "
                             "or 'none' to skip the naive service")
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="checkout whose `python -m cli.main serve` is run (e.g. a patched copy); default this one")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for our service, e.g. RISK_SNAPSHOT_INTERVAL_S=3600 (repeatable)")
    parser.add_argument("--no-probe", action="store_true",
                        help="do not inject bench/probe (logs full GCs and state snapshots of the service)")
    parser.add_argument("--work", type=Path, help="working directory (default: a new temp dir, removed at the end)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--warm-cache", type=Path,
                        help="keep the warmed state snapshot here and copy it on later runs with the same data")
    parser.add_argument("--port", type=int, help="our service's port (the naive one's is the next); default: any free")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench_http: needs wrk (apt-get install wrk)")
    rates = [float(r) for r in args.rates.split(",") if r]

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-http-"))
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    shutil.rmtree(data_dir, ignore_errors=True)  # a fresh decision log and state for every bench
    say(f"simulating {args.orders:,} orders over {args.days} days (seed {args.seed})")
    orders, outcomes = build_world(args.orders, args.days, args.seed)
    model = args.model
    if model is None:
        model = work / "model"
        say(f"training a model into {model}")
        started = time.perf_counter()
        train_model(orders, outcomes, model)
        reuse = f" (reuse with --model {model})" if args.work else ""
        say(f"trained in {time.perf_counter() - started:.0f} s{reuse}")
    say(f"replaying the first {args.warm:,} orders into the state snapshot {data_dir / 'state.pkl'}")
    started = time.perf_counter()
    cached = (args.warm_cache / f"state-{args.orders}-{args.days}-{args.seed}-{args.warm}.pkl"
              if args.warm_cache else None)
    if cached is not None and cached.exists():
        data_dir.mkdir(parents=True)
        shutil.copyfile(cached, data_dir / "state.pkl")
    else:
        warm_state(orders.iloc[:args.warm].reset_index(drop=True), outcomes, data_dir / "state.pkl")
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_dir / "state.pkl", cached)
    say(f"state warmed in {time.perf_counter() - started:.0f} s")
    records = orders.to_dict("records")
    bodies = Bodies(records, args.warm, work)  # ours: the orders after the warm history, never reused
    naive_bodies = Bodies(records, 0, work)  # naive keeps nothing: any orders will do
    del orders

    runs: list[Run] = []
    servers: list[Server] = []
    info: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "model": str(model)}
    try:
        # ---- naive first: its maximum decides the rates it is run at -------------------------
        naive_rates: list[float] = []
        if args.naive_rates != "none":
            port = args.port + 1 if args.port else free_port()
            naive = Server("naive", [sys.executable, str(Path(__file__).resolve().parent / "naive_app.py"),
                                     "--model", str(model), "--port", str(port)],
                           dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT)), port, work / "naive.log")
            servers.append(naive)
            naive.wait_ready()
            path, _ = naive_bodies.write("naive-smoke", "ns-", 50)
            info["naive_smoke"] = smoke(naive, path, 50, None)
            say(f"naive smoke: {info['naive_smoke']['decisions']}, client p50 "
                f"{info['naive_smoke']['client_p50_ms']:.2f} ms")
            path, _ = naive_bodies.write("naive-warm", "nw-", 2000)
            run_wrk(naive, Run("naive", "warm-up", 0, 5, 4), path, once=True, api_key=None)
            # the naive service keeps nothing, so one file of bodies serves all its runs (fresh ids anyway)
            path, _ = naive_bodies.write("naive-max", "nm-", min(20_000, int(args.max_rps_guess * args.max_duration)))
            say(f"naive: maximum throughput, {args.max_duration:g} s, {args.max_connections} connections")
            naive_max = run_wrk(naive, Run("naive", "max", 0, args.max_duration, args.max_connections), path,
                                api_key=None)
            say(f"naive max: {naive_max.achieved_rps:.0f} req/s")
            if args.naive_rates == "auto":
                naive_rates = [r for r in rates if r <= 0.85 * naive_max.achieved_rps]
                if not naive_rates:
                    half = naive_max.achieved_rps * 0.5
                    step = 25 if half >= 50 else 5 if half >= 10 else 1
                    naive_rates = [float(max(1, math.floor(half / step) * step))]
            else:
                naive_rates = [float(r) for r in args.naive_rates.split(",") if r]
            for rate in naive_rates:
                say(f"naive: {rate:g} req/s for {args.duration:g} s")
                runs.append(run_wrk(naive, Run("naive", f"{rate:g}/s", rate, args.duration, args.connections),
                                    path, api_key=None))
                time.sleep(2)
            runs.append(naive_max)
            naive.stop()
            time.sleep(3)

        # ---- ours -------------------------------------------------------------------------
        port = args.port or free_port()
        env = dict(os.environ, RISK_API_KEYS=json.dumps({API_KEY: "checkout"}))
        env.update(item.split("=", 1) for item in args.server_env)
        repo = args.repo.resolve()
        paths = [str(repo)]  # that checkout's packages first (the venv's editable install points at this one)
        if repo != ROOT:
            say(f"serving from the checkout at {repo}")
        probe = None
        if not args.no_probe:
            probe = work / "probe.jsonl"
            probe.unlink(missing_ok=True)
            paths.append(str(Path(__file__).resolve().parent / "probe"))
            env["BENCH_PROBE_LOG"] = str(probe)
        env["PYTHONPATH"] = os.pathsep.join(paths)
        ours = Server("ours", [sys.executable, "-m", "cli.main", "serve", "--model", str(model), "--port", str(port),
                               "--data-dir", str(data_dir)], env, port, work / "ours.log", cwd=repo)
        servers.append(ours)
        info["ours_ready"] = ours.wait_ready()
        db = data_dir / "decisions.sqlite"
        path, _ = bodies.write("smoke", "smoke-", 50)
        info["ours_smoke"] = smoke(ours, path, 50, API_KEY)
        say(f"ours smoke: {info['ours_smoke']['decisions']}, client p50 {info['ours_smoke']['client_p50_ms']:.2f} ms, "
            f"repeat answered with Idempotent-Replay={info['ours_smoke'].get('replay_header')}")
        if args.warm_http:
            path, count = bodies.write("warm", "warm-", args.warm_http)
            warm = run_wrk(ours, Run("ours", "warm-up", 0, max(5.0, count / 600), 4), path, once=True)
            say(f"ours HTTP warm-up: {warm.requests:,} requests at {warm.achieved_rps:.0f} req/s, "
                f"{warm.errors} errors")
        extra = [r for r in naive_rates if r not in rates]
        plan = [(f"{r:g}/s", r, args.duration, args.connections) for r in rates + extra]
        plan.append(("max", 0.0, args.max_duration, args.max_connections))
        for number, (name, rate, duration, connections) in enumerate(plan):
            prefix = f"r{number}-"
            count = int(rate * duration * 1.05) + 200 if rate else int(args.max_rps_guess * duration)
            path, _ = bodies.write(name.replace("/", ""), prefix, count)
            say(f"ours: {name} for {duration:g} s, {connections} connections ({bodies.left():,} orders left)")
            run = run_wrk(ours, Run("ours", name, rate, duration, connections), path)
            time.sleep(1.5)  # let the last in-flight requests land in the log
            read_back(run, db, prefix)
            say(f"  {run.achieved_rps:.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
                f"max {run.max_ms:.1f} ms, errors {run.errors}, late {run.late}, wraps {run.wraps}, "
                f"logged {run.logged_rows:,}, in-process p50 {run.inproc_p50_ms:.3f} ms, longest stretch "
                f"with nothing logged {run.max_gap_ms:.0f} ms")
            runs.append(run)
            if not ours.alive():
                raise SystemExit(f"bench_http: the service died; see {ours.log}")
            time.sleep(2)
        ours.stop()
        if probe is not None:
            attribute_events([r for r in runs if r.server == "ours"], probe, ours.proc.pid)
    finally:
        for server in servers:
            if server.alive():
                server.stop()

    # ---- report -------------------------------------------------------------------------------
    print(f"\nHTTP on loopback, wrk (1 thread; {args.connections} connections for steady rates, "
          f"{args.max_connections} for max), every body a different simulated order with a fresh order_id; "
          f"{args.warm:,} orders of history in the state + {args.warm_http:,} posted before measuring; "
          f"steady runs {args.duration:g} s, max {args.max_duration:g} s. Latency is wrk's, from the write of the "
          "request to the end of the response; errors = non-2xx + socket errors.")
    if args.server_env or args.repo.resolve() != ROOT:
        print(f"our service: checkout {args.repo.resolve()}, extra environment {args.server_env or 'none'}")
    print_table(runs)
    ours_by = {r.name: r for r in runs if r.server == "ours"}
    naive_by = {r.name: r for r in runs if r.server == "naive"}
    print()
    for r in runs:
        if r.server == "ours" and r.logged_rows >= 0:
            print(f"ours {r.name}: {r.logged_rows:,} decisions logged for {r.requests:,} responses (no replay), "
                  f"{r.flagged:.1%} flagged; engine elapsed_ms p50 {r.inproc_p50_ms:.3f} / p99 "
                  f"{r.inproc_p99_ms:.3f} (scoring up to the decision, before the log write and state update); "
                  f"longest stretch with no decision logged {r.max_gap_ms:.0f} ms; during the run: state snapshots "
                  f"{r.snapshots_s or 'none'} s"
                  + (f" (forks {r.snapshot_forks_s} s)" if r.snapshot_forks_s else "")
                  + (f", snapshot writes {r.snapshot_writes_s} s" if r.snapshot_writes_s else "")
                  + f", full GCs in the service {r.gc2_s or 'none'} s"
                  + (f", full GCs in its forked child {r.child_gc2_s} s" if r.child_gc2_s else ""))
    for rate, limit in ((500.0, 10.0), (1000.0, 5.0)):
        r = ours_by.get(f"{rate:g}/s")
        if r is not None:
            held = r.p99_ms < limit and r.errors == 0 and r.achieved_rps >= 0.98 * rate
            print(f"target p99 < {limit:g} ms at {rate:g} req/s: {'HOLDS' if held else 'MISSED'} "
                  f"(p99 {r.p99_ms:.2f} ms, {r.achieved_rps:.0f} req/s achieved, {r.errors} errors, "
                  f"{r.late} late sends)")
    if "max" in ours_by and "max" in naive_by:
        print(f"max throughput: ours {ours_by['max'].achieved_rps:,.0f} req/s vs naive "
              f"{naive_by['max'].achieved_rps:,.0f}: {ours_by['max'].achieved_rps / naive_by['max'].achieved_rps:.1f}x")
    for name, n in naive_by.items():
        o = ours_by.get(name)
        if o is None or name == "max":
            continue
        print(f"at {name}: naive / ours latency p50 {n.p50_ms / o.p50_ms:.1f}x, p99 {n.p99_ms / o.p99_ms:.1f}x "
              f"(naive p50 {n.p50_ms:.2f} ms, p99 {n.p99_ms:.2f} ms; ours {o.p50_ms:.2f} / {o.p99_ms:.2f} ms)")
    if args.json:
        args.json.write_text(json.dumps({"info": info, "runs": [asdict(r) for r in runs]}, indent=2, default=str))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
