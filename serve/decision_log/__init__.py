"""The durable decision log: every decision is stored before the service answers.

One small interface (`interface.py`), two backends:
- `SQLiteDecisionLog(path)` (`sqlite.py`): one file, stdlib sqlite3, for a single host;
- `PostgresDecisionLog(url)` (`postgres.py`): for several hosts sharing one log;
and `open_decision_log(url, default_path)` (`opening.py`) to choose one from settings.
Their tables are declared once (`schema.py`); both backends' SQL is generated from that
declaration (`sql.py`).

The log is also the idempotency store (an order_id is recorded once; a second `record`
returns the first row unchanged and the caller compares body hashes) and the source of
training data: `read_since(None)` gives the rows, which `risk/export.py` writes as the
contract's `orders` and `outcomes` tables.

Stored JSON is standard JSON: non-finite floats in the order, decision and shadow become
null. Feature vectors keep NaN and infinities exactly (`features_json` is a text column
holding Python's JSON, with NaN and Infinity tokens), since NaN means "unknown" there.
"""

from serve.decision_log.interface import DecisionLog, DecisionLogUnavailable, StoredDecision
from serve.decision_log.opening import open_decision_log
from serve.decision_log.postgres import PostgresDecisionLog
from serve.decision_log.sqlite import SQLiteDecisionLog

__all__ = [
    "DecisionLog",
    "DecisionLogUnavailable",
    "PostgresDecisionLog",
    "SQLiteDecisionLog",
    "StoredDecision",
    "open_decision_log",
]
