"""Analyst rules: create, edit, disable/enable, test mode, restore, approve, history, backtest.

Every change is a new version in the store (serve/rules_store) recorded under the
caller's key name (RISK_API_KEY_NAMES) and in effect in every scoring process within a
second. An edit may carry `base_version`, the version it was made on: if someone changed
the rule meanwhile, it is refused with 409 instead of overwriting their change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from risk.contract import Time
from risk.rules import RuleSpec
from serve.deps import RulesApprover, RulesDep, RulesManager, RulesReader
from serve.errors import documented
from serve.rules_store.records import RuleStatus, RuleVersion

WITH_BODY = documented(400, 401, 403, 404, 409, 413, 422)  # a route taking a JSON body
router = APIRouter(tags=["rules"])
RuleId = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="letters, digits, _ . - (at most 64)")
Why = Field(default=None, max_length=2000, description="why the change is made (kept in the audit trail)")
BaseVersion = Field(default=None, ge=1, description="the version this change was made on: 409 if no longer latest")


class RuleIn(BaseModel):
    rule_id: str = RuleId
    text: str = Field(min_length=1, max_length=4000, examples=["decline if amount > 50000 and card_country != "
                                                              "ip_country"])
    mode: Literal["live", "test"] = "live"
    description: str | None = Field(default=None, max_length=2000)
    why: str | None = Why


class RuleEdit(BaseModel):
    text: str | None = Field(default=None, min_length=1, max_length=4000)
    description: str | None = Field(default=None, max_length=2000)
    base_version: int | None = BaseVersion
    why: str | None = Why


class RuleChange(BaseModel):
    base_version: int | None = BaseVersion
    why: str | None = Why


class TestModeIn(RuleChange):
    on: bool = Field(description="true: evaluated and logged, never acting; false: acting")


class RestoreIn(RuleChange):
    version: int = Field(ge=1, description="the version whose state becomes the new latest version")


class CandidateRule(BaseModel):
    rule_id: str = RuleId
    text: str = Field(min_length=1, max_length=4000)
    mode: Literal["live", "test"] = "live"


class BacktestIn(BaseModel):
    """Exactly one of `rule` (tried on top of the live rules) and `rules` (a whole candidate set)."""

    rule: str | None = Field(default=None, min_length=1, max_length=4000)
    rules: list[CandidateRule] | None = Field(default=None, min_length=1, max_length=500)
    dataset: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                         description="a data set directory (orders, outcomes, optional features) under "
                         "RISK_BACKTEST_DATA_DIR")
    start: Time = Field(alias="from")
    end: Time | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_candidate(self) -> BacktestIn:
        if (self.rule is None) == (self.rules is None):
            raise ValueError("give exactly one of rule and rules")
        return self


class RuleOut(BaseModel):
    rule_id: str
    version: int
    epoch: int
    text: str
    action: str
    mode: Literal["live", "test"]
    enabled: bool
    description: str | None
    pending: bool = Field(description="waits for a second person's approval; not in effect")
    author: str
    changed_at: datetime
    why: str | None
    change: str
    live_version: int | None = Field(default=None, description="the version in effect (None: none yet)")


class RulesOut(BaseModel):
    rules: list[RuleOut]


class RuleHistory(BaseModel):
    rule_id: str
    versions: list[RuleOut]
    audit: list[dict[str, Any]]


def _out(version: RuleVersion | RuleStatus) -> RuleOut:
    return RuleOut.model_validate(version.as_json())


@router.get("/v1/rules", response_model=RulesOut, responses=documented(401, 403))
def list_rules(rules: RulesDep, _: RulesReader) -> RulesOut:
    """Every rule: its latest version and the version in effect."""
    return RulesOut(rules=[_out(status) for status in rules.store.rules()])


@router.post("/v1/rules", status_code=201, response_model=RuleOut, responses=WITH_BODY)
def create_rule(body: RuleIn, rules: RulesDep, caller: RulesManager) -> RuleOut:
    """Create a rule; refused (422, with position, line and column) if its text does not compile."""
    version = rules.store.create_rule(body.rule_id, body.text, author=caller.name, why=body.why, mode=body.mode,
                                      description=body.description)
    rules.changed()
    return _out(version)


@router.get("/v1/rules/{rule_id}", response_model=RuleOut, responses=documented(401, 403, 404, 422))
def show_rule(rule_id: str, rules: RulesDep, _: RulesReader) -> RuleOut:
    """A rule's latest version and the version in effect."""
    return _out(rules.store.rule(rule_id))


@router.patch("/v1/rules/{rule_id}", response_model=RuleOut, responses=WITH_BODY)
def edit_rule(rule_id: str, body: RuleEdit, rules: RulesDep, caller: RulesManager) -> RuleOut:
    """Change a rule's text or description (a new version)."""
    version = rules.store.edit_rule(rule_id, author=caller.name, why=body.why, base_version=body.base_version,
                                    text=body.text, description=body.description)
    rules.changed()
    return _out(version)


@router.post("/v1/rules/{rule_id}/disable", response_model=RuleOut, responses=WITH_BODY)
def disable_rule(rule_id: str, body: RuleChange, rules: RulesDep, caller: RulesManager) -> RuleOut:
    """Stop a rule (a new version; restore or enable brings it back)."""
    version = rules.store.set_enabled(rule_id, False, author=caller.name, why=body.why, base_version=body.base_version)
    rules.changed()
    return _out(version)


@router.post("/v1/rules/{rule_id}/enable", response_model=RuleOut, responses=WITH_BODY)
def enable_rule(rule_id: str, body: RuleChange, rules: RulesDep, caller: RulesManager) -> RuleOut:
    """Start a disabled rule again."""
    version = rules.store.set_enabled(rule_id, True, author=caller.name, why=body.why, base_version=body.base_version)
    rules.changed()
    return _out(version)


@router.post("/v1/rules/{rule_id}/test-mode", response_model=RuleOut, responses=WITH_BODY)
def set_test_mode(rule_id: str, body: TestModeIn, rules: RulesDep, caller: RulesManager) -> RuleOut:
    """Test mode on: the rule is evaluated and logged on live traffic without acting; off: it acts."""
    version = rules.store.set_mode(rule_id, "test" if body.on else "live", author=caller.name, why=body.why,
                                   base_version=body.base_version)
    rules.changed()
    return _out(version)


@router.post("/v1/rules/{rule_id}/restore", response_model=RuleOut, responses=WITH_BODY)
def restore_rule(rule_id: str, body: RestoreIn, rules: RulesDep, caller: RulesManager) -> RuleOut:
    """Make an earlier version's state the latest version (restoring is itself a new version)."""
    version = rules.store.restore_rule(rule_id, body.version, author=caller.name, why=body.why,
                                       base_version=body.base_version)
    rules.changed()
    return _out(version)


@router.post("/v1/rules/{rule_id}/approve", response_model=RuleOut, responses=WITH_BODY)
def approve_rule(rule_id: str, body: RuleChange, rules: RulesDep, caller: RulesApprover) -> RuleOut:
    """Put a pending decline rule in effect (admin; not its own author)."""
    version = rules.store.approve_rule(rule_id, approver=caller.name, why=body.why, base_version=body.base_version)
    rules.changed()
    return _out(version)


@router.get("/v1/rules/{rule_id}/history", response_model=RuleHistory, responses=documented(401, 403, 404, 422))
def rule_history(rule_id: str, rules: RulesDep, _: RulesReader) -> RuleHistory:
    """Every version of a rule and the audit trail of its changes (who, when, why, before, after)."""
    versions = rules.store.rule_history(rule_id)
    audit = [entry.as_json() for entry in rules.store.history("rule", rule_id)]
    return RuleHistory(rule_id=rule_id, versions=[_out(v) for v in versions], audit=audit)


@router.post("/v1/rules/backtest", response_model=dict[str, Any], responses=WITH_BODY)
def backtest_rules(body: BacktestIn, rules: RulesDep, _: RulesReader) -> dict[str, Any]:
    """Replay a rule or a candidate set over a period of a configured data set, lists as they were, vs the live set."""
    candidate = None if body.rules is None else [RuleSpec(r.rule_id, r.text, r.mode) for r in body.rules]
    return rules.backtest(body.dataset, body.start, body.end, body.rule, candidate)
