"""What the rules routes call: the store, this process's watcher (a change is in effect here at once) and backtests."""

from __future__ import annotations

from pathlib import Path

from serve.config import Settings
from serve.rules_store.database import open_rules_database
from serve.rules_store.live import RulesWatcher
from serve.rules_store.store import RulesStore


def open_rules_store(settings: Settings) -> RulesStore:
    """The rules store in the service's decision database (`--database-url`, else the SQLite file in --data-dir)."""
    return RulesStore(open_rules_database(settings.database_url, settings.sqlite_path),
                      require_approval=settings.rules_require_approval)


class RulesService:
    """The store, the watcher feeding this process's engine, and the data sets backtests may read."""

    def __init__(self, store: RulesStore, watcher: RulesWatcher, backtest_data_dir: Path | None) -> None:
        self.store, self.watcher, self.backtest_data_dir = store, watcher, backtest_data_dir

    def changed(self) -> None:
        """After a change made here: in effect in this process now (others see it at their next poll)."""
        try:
            self.watcher.refresh()
        except Exception:  # the change is stored; the watcher's next round tries again
            pass
