"""What the rules routes and the web app's rules, lists and backtest pages call: the store, this process's
watcher (a change is in effect here at once) and bounded backtests."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from models.bundle import ModelBundle
from risk.errors import NotFound
from risk.rules import RuleSpec
from serve.config import Settings
from serve.rules_store.database import open_rules_database
from serve.rules_store.errors import BacktestBusy, RefusedChange
from serve.rules_store.live import RulesWatcher
from serve.rules_store.store import RulesStore

DATASET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def open_rules_store(settings: Settings) -> RulesStore:
    """The rules store in the service's decision database (`--database-url`, else the SQLite file in --data-dir)."""
    return RulesStore(open_rules_database(settings.database_url, settings.sqlite_path),
                      require_approval=settings.rules_require_approval)


class RulesService:
    """The store, the watcher feeding this process's engine, and the data sets backtests may read.

    Backtests are bounded the same way for the API and the web app: at most `max_orders`
    orders of history replayed (refused before any feature is computed) and one backtest
    at a time per process (a second one is refused with 429 rather than queued).
    """

    def __init__(self, store: RulesStore, watcher: RulesWatcher, backtest_data_dir: Path | None,
                 model: Callable[[], ModelBundle], max_orders: int = 200_000) -> None:
        self.store, self.watcher, self.backtest_data_dir, self.model = store, watcher, backtest_data_dir, model
        self.max_orders = max_orders
        self._backtesting = threading.Lock()

    def changed(self) -> None:
        """After a change made here: in effect in this process now (others see it at their next poll)."""
        with contextlib.suppress(Exception):  # the change is stored; the watcher's next round tries again
            self.watcher.refresh()

    def backtest(self, dataset: str, start: datetime, end: datetime | None, rule: str | None,
                 rules: list[RuleSpec] | None, replaces: str | None = None) -> dict[str, Any]:
        """A backtest over a data set of the configured directory, scored with the served model (`replaces`: the
        stored rule whose version in effect the rule tried takes the place of)."""
        folder = self.dataset_dir(dataset)
        if not self._backtesting.acquire(blocking=False):
            raise BacktestBusy("another backtest is running in this process: try again when it has finished")
        try:
            return self._backtest(folder, start, end, rule, rules, replaces)
        finally:
            self._backtesting.release()

    def _backtest(self, folder: Path, start: datetime, end: datetime | None, rule: str | None,
                  rules: list[RuleSpec] | None, replaces: str | None) -> dict[str, Any]:
        from risk.datasets import read_orders, read_outcomes
        from serve.rules_store.backtests import candidate_specs, run_backtest
        from training.rules_backtest import backtest_data

        orders_path = _table(folder, "orders")
        if orders_path is None:
            raise NotFound(f"data set {folder.name!r} has no orders.parquet or orders.csv")
        orders = read_orders(orders_path)
        replayed = len(orders) if end is None else int((orders["created_at"] < pd.Timestamp(end)).sum())
        if replayed > self.max_orders:
            raise RefusedChange(f"the data set holds {replayed:,} orders up to the period's end, more than the "
                                f"{self.max_orders:,} a backtest through the service replays "
                                "(RISK_BACKTEST_MAX_ORDERS): end the period earlier or run `risk rules backtest`",
                                "to")
        outcomes_path = _table(folder, "outcomes")
        features_path = _table(folder, "features")
        outcomes = read_outcomes(outcomes_path) if outcomes_path else None
        features = None
        if features_path is not None:
            features = pd.read_csv(features_path) if features_path.suffix == ".csv" else pd.read_parquet(features_path)
        data = backtest_data(self.model(), orders, outcomes, pd.Timestamp(start).tz_convert("UTC"),
                             None if end is None else pd.Timestamp(end).tz_convert("UTC"), lambda _: None, features)
        return run_backtest(self.store, data, *candidate_specs(self.store, rule, rules, replaces))

    def datasets(self) -> list[str]:
        """The data sets a backtest may read: directories directly under RISK_BACKTEST_DATA_DIR holding orders."""
        if self.backtest_data_dir is None or not self.backtest_data_dir.is_dir():
            return []
        return sorted(folder.name for folder in self.backtest_data_dir.iterdir()
                      if folder.is_dir() and DATASET.fullmatch(folder.name) and _table(folder, "orders"))

    def dataset_dir(self, dataset: str) -> Path:
        """A data set directory directly under RISK_BACKTEST_DATA_DIR: no other file can be named."""
        if self.backtest_data_dir is None:
            raise NotFound("backtests through the API read data sets from RISK_BACKTEST_DATA_DIR, which is not set")
        if not DATASET.fullmatch(dataset):
            raise RefusedChange(f"dataset {dataset[:64]!r}: a directory name of letters, digits, _ . -", "dataset")
        base = self.backtest_data_dir.resolve()
        folder = (base / dataset).resolve()
        if folder.parent != base or not folder.is_dir():
            raise NotFound(f"no data set {dataset!r} in the backtest data directory")
        return folder


def _table(folder: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    return None
