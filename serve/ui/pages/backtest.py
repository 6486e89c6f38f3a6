"""Backtest: what a rule (typed, or a stored rule's latest text) would have done over a period of a data set.

The page runs the backtest the API runs (`RulesService.backtest`, POST /v1/rules/backtest):
the same data sets (directories under RISK_BACKTEST_DATA_DIR), the same figures, the
same bounds (at most RISK_BACKTEST_MAX_ORDERS orders replayed, one backtest at a time
per process; both refused at once with a message rather than left to hang the page).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from risk.errors import InvalidInput, RiskError
from serve.rules_store.errors import InvalidRule
from serve.ui import charts, formatting
from serve.ui.app import UiContext
from serve.ui.pages.deps import CsrfChecked, UiDep, UserDep
from serve.ui.pages.rules import RuleProblem
from serve.ui.times import form_time
from serve.ui.users import User

router = APIRouter()
OUTCOME_WORDS = {"fraud": "fraud", "regret": "regret", "genuine": "good orders",
                 "unknown": "not known yet"}


@router.get("/backtest", response_class=HTMLResponse)
def backtest_page(request: Request, ui: UiDep, user: UserDep, rule_id: str = "") -> Response:
    """The form; `rule_id` fills it with that stored rule's latest text, tried in place of its version in effect."""
    text = ui.rules.store.rule(rule_id).head.state.text if rule_id else ""
    return _page(request, ui, user, {"rule_id": rule_id, "text": text, "dataset": "", "start": "", "end": ""})


@router.post("/backtest", dependencies=[CsrfChecked])
def run_backtest(request: Request, ui: UiDep, user: UserDep, dataset: Annotated[str, Form(max_length=64)],
                 start: Annotated[str, Form(max_length=40)], end: Annotated[str, Form(max_length=40)] = "",
                 text: Annotated[str, Form(max_length=4000)] = "",
                 rule_id: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Replay the rule over [start, end) and show the report's figures and its hits per day."""
    form = {"rule_id": rule_id, "text": text, "dataset": dataset, "start": start, "end": end}
    try:
        tried = text.strip() or (ui.rules.store.rule(rule_id).head.state.text if rule_id else "")
        if not tried:
            raise InvalidInput("type a rule, or choose a stored rule to try its latest text")
        report = ui.rules.backtest(dataset, form_time(start, "from"), form_time(end, "to") if end.strip() else None,
                                   tried, None, replaces=rule_id or None)
    except InvalidRule as exc:
        return _page(request, ui, user, form, problem=RuleProblem.of(exc, text.strip() or tried), status_code=422)
    except RiskError as exc:  # no data set, no orders in the period, too many orders, another backtest running
        return _page(request, ui, user, form, error=exc.message, status_code=exc.status)
    return _page(request, ui, user, {**form, "text": tried}, result=_result(report, rule_id or "the rule tried"))


def _page(request: Request, ui: UiContext, user: User, form: dict[str, Any], *, result: dict[str, Any] | None = None,
          problem: RuleProblem | None = None, error: str | None = None, status_code: int = 200) -> Response:
    return ui.page(request, "backtest.html", user, form=form, result=result, problem=problem, error=error,
                   datasets=ui.rules.datasets(), configured=ui.rules.backtest_data_dir is not None,
                   max_orders=ui.rules.max_orders, rule_ids=[s.head.rule_id for s in ui.rules.store.rules()],
                   status_code=status_code)


def _result(report: dict[str, Any], name: str) -> dict[str, Any]:
    """The API's report laid out for the page: figures as text, amounts in their own currencies, two charts."""
    from serve.rules_store.backtests import CANDIDATE_ID  # here, as in RulesService: no backtest code at start-up

    days = report["hits_by_day"]
    by_outcome = report["by_outcome"]
    overrides = report["overrides"]
    return {
        "orders": report["orders"], "hits": report["hits"], "name": name,
        "hits_by_rule": {(name if rule == CANDIDATE_ID else rule): n for rule, n in report["hits_by_rule"].items()},
        "precision": _share(report["precision"]), "fraud_recall": _share(report["fraud_recall"]),
        "outcomes": [(OUTCOME_WORDS[kind], by_outcome[kind]["count"], _amounts(by_outcome[kind]["amount"]))
                     for kind in OUTCOME_WORDS if kind in by_outcome],
        "changed": overrides["changed"], "stricter": overrides["stricter"], "milder": overrides["milder"],
        "pairs": sorted(overrides["pairs"].items()),
        "cost": [(currency, _money(c["live"], currency), _money(c["candidate"], currency),
                  _money(c["change"], currency, signed=True), c["change"]) for currency, c in report["cost"].items()],
        "priced_orders": report["priced_orders"], "live_rules": report["live_rules"], "lists": report["lists"],
        "store_epoch": report["store_epoch"],
        "days_chart": charts.line_chart([day["day"] for day in days],
                                        {"orders": [float(day["orders"]) for day in days],
                                         "hits": [float(day["hits"]) for day in days]},
                                        label="orders and hits per day"),
        "outcome_chart": charts.hbars([(OUTCOME_WORDS[kind], float(by_outcome[kind]["count"]))
                                       for kind in OUTCOME_WORDS if kind in by_outcome],
                                      label="hits by eventual outcome", css="s1"),
    }


def _share(value: float | None) -> str:
    return "-" if value is None else formatting.percent(value)


def _money(minor: float, currency: str, *, signed: bool = False) -> str:
    text = formatting.money(round(minor), currency)
    return f"+{text}" if signed and minor > 0 else text


def _amounts(per_currency: dict[str, float]) -> str:
    return ", ".join(_money(amount, currency) for currency, amount in per_currency.items()) or "-"
