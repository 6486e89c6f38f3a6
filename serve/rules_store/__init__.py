"""Analyst rules and lists in the decision database: versions, audit, approval, live pick-up.

- `database.py`: the connection (SQLite or PostgreSQL, like the decision log's URL);
- `schema.py`: the tables, declared like the decision log's;
- `store.py`: `RulesStore`, every change a version with its audit row;
- `live.py`: the per-process poller that swaps a rebuilt rule set into the engine;
- `apply.py`: a rule set's result applied to the model's decision.
The rule language itself is `risk.rules`.
"""
