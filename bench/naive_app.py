"""The naive scoring service, for bench/bench_http.py to compare against: the straightforward way.

Usage: python bench/naive_app.py --model DIR [--port 8001] [--host 127.0.0.1]

Same POST /v1/orders/score and the same contract body (pydantic `Order`) as the real
service, under the same server (uvicorn, one worker, uvloop + httptools, no access log).
Per request it builds a one-row pandas DataFrame from the order, computes the features
with `features.batch.compute_features` on that one row (no history state: history
features see an empty past), calls both boosters' `predict` on the DataFrame
(num_threads=1, as the service does), calibrates, and answers approve/review/decline
with the model's own policy. No API keys, no idempotency, no decision log, no reasons,
no state update: strictly less work than the real service, done the obvious way.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd
from fastapi import FastAPI

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from models.bundle import ModelBundle, load_bundle
from risk.contract import Order, flatten
from risk.datasets import ORDERS, normalise


def create_app(bundle: ModelBundle) -> FastAPI:
    app = FastAPI(title="naive-risk")
    columns = list(FEATURE_NAMES)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> dict:
        return {"ready": True, "model": bundle.version}

    @app.post("/v1/orders/score")
    def score(order: Order) -> dict:
        started = time.perf_counter()
        frame = normalise(pd.DataFrame([flatten(order)]), ORDERS)
        X = compute_features(frame)[columns]
        fraud = float(bundle.fraud.calibrator_.apply(bundle.fraud.booster_.predict(X, raw_score=True,
                                                                                   num_threads=1))[0])
        regret = float(bundle.regret.calibrator_.apply(bundle.regret.booster_.predict(X, raw_score=True,
                                                                                     num_threads=1))[0])
        return {"order_id": order.order_id, "decision": bundle.policy.decide(fraud, regret),
                "fraud_score": fraud, "regret_score": regret, "model_version": bundle.version,
                "elapsed_ms": round((time.perf_counter() - started) * 1000, 3)}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=os.environ.get("NAIVE_MODEL_DIR"), required=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    if args.model is None:
        parser.error("--model is required")
    app = create_app(load_bundle(args.model))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
