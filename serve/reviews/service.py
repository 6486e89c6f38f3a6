"""ReviewService: the review queue's rules, used by the JSON API (/v1/reviews) and the web app alike.

A review is opened by the engine when it logs a `review` decision (serve/reviews/opening.py);
from there an analyst claims it (atomically; an idle claim lapses after `claim_idle`),
decides it (approve or decline, with a note) or any logged order is labelled. Every
verdict is an analyst action (who, when, note) and an outcome (`confirmed_legit` /
`confirmed_fraud`, source `analyst`) stored in the same transaction as the review's
change, then fed to the label-aware features at once, and exported by `risk export`
as any other outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from risk.contract import FRAUD_KINDS, Decision, Outcome
from serve.decision_log.encoding import as_utc
from serve.reviews.errors import ClaimConflict, InvalidDecision, ReviewNotFound
from serve.reviews.events import REVIEW_CLOSED, event_row
from serve.reviews.linked import linked_orders
from serve.reviews.models import (
    VERDICT_OUTCOME,
    ActionEntry,
    AnalystDecision,
    BulkResult,
    BulkSkip,
    Claim,
    LinkedOrders,
    OrderDetail,
    OutcomeEntry,
    Overview,
    QueueFilter,
    QueuePage,
    QueueSort,
    ReviewDetail,
    ReviewSummary,
)
from serve.reviews.opening import ReviewOpener
from serve.reviews.store import ReviewStore, loads

if TYPE_CHECKING:  # serve.engine imports serve.reviews.opening
    from serve.engine import ScoringEngine

MAX_PAGE = 500
MAX_BULK = 1000
MAX_LINKED = 5000
LEGIT = "confirmed_legit"


class ReviewService:
    """The queue over one engine's decision log; `sla` sets due times, `claim_idle` when a claim lapses."""

    def __init__(self, engine: ScoringEngine, *, sla: timedelta = timedelta(minutes=240),
                 claim_idle: timedelta = timedelta(minutes=15), events: bool = False) -> None:
        self.engine = engine
        self.sla = sla
        self.claim_idle = claim_idle
        self.events = events
        self.opener = ReviewOpener(sla=sla, events=events)
        engine.review_opener = self.opener  # reviews opened from now on get this SLA and these events
        self.store = ReviewStore(engine.decisions)

    # ---- the queue -------------------------------------------------------------------

    def queue(self, *, sort: QueueSort = "due", filters: QueueFilter | None = None, limit: int = 50,
              offset: int = 0, now: datetime | None = None) -> QueuePage:
        """One page of reviews (open ones by default), sorted by due time, amount or fraud score."""
        if sort not in ("due", "amount", "score"):
            raise InvalidDecision(f"sort must be due, amount or score, got {sort!r}")
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidDecision(f"limit must be 1..{MAX_PAGE} and offset >= 0")
        now = now or datetime.now(UTC)
        rows, total = self.store.queue(sort, filters or QueueFilter(), limit, offset)
        return QueuePage(items=[self._summary(row, now) for row in rows], total=total, limit=limit, offset=offset)

    def _summary(self, row: tuple, now: datetime) -> ReviewSummary:
        (order_id, opened_at, due_at, amount, currency, seller_id, buyer_id, country, fraud, regret,
         claimed_by, claimed_at, status, decision_json) = row
        opened, due = as_utc(opened_at), as_utc(due_at)
        decision = Decision.model_validate(loads(decision_json))
        return ReviewSummary(
            order_id=order_id, opened_at=opened, due_at=due, waiting_seconds=max(0.0, (now - opened).total_seconds()),
            overdue=status == "open" and now > due, amount=int(amount), currency=currency, seller_id=seller_id,
            buyer_id=buyer_id, country=country, fraud_score=float(fraud), regret_score=float(regret),
            reasons=decision.reasons, rules=decision.rules,
            claimed_by=self._holder(claimed_by, claimed_at, now), status=status)

    def _holder(self, claimed_by: str | None, claimed_at: Any, now: datetime) -> str | None:
        """Who holds a claim now: nobody once it has been idle longer than `claim_idle`."""
        if claimed_by is None or claimed_at is None or as_utc(claimed_at) < now - self.claim_idle:
            return None
        return claimed_by

    # ---- one order -------------------------------------------------------------------

    def order(self, order_id: str, *, now: datetime | None = None) -> OrderDetail | None:
        """Any logged order with its decision, outcomes (contradictions flagged) and analyst actions;
        a ReviewDetail when it was in review. None if the order was never scored."""
        found = self.store.order(order_id)
        if found is None:
            return None
        now = now or datetime.now(UTC)
        order_json, decision_json, model_version, created_at = found["decision"]
        outcomes = _outcome_entries(found["outcomes"])
        base: dict[str, Any] = {
            "order_id": order_id, "order": loads(order_json), "decision": loads(decision_json),
            "model_version": model_version, "created_at": as_utc(created_at), "outcomes": outcomes,
            "contradictory": any(o.contradicts for o in outcomes),
            "actions": [ActionEntry(action=a, analyst=who, note=note, at=as_utc(at)) for a, who, note, at in
                        found["actions"]],
        }
        review = found["review"]
        if review is None:
            return OrderDetail(**base)
        (_, opened_at, due_at, _, _, _, _, _, _, _, claimed_by, claimed_at, status, verdict, note, decided_by,
         decided_at) = review
        opened, due = as_utc(opened_at), as_utc(due_at)
        holder = self._holder(claimed_by, claimed_at, now) if status == "open" else None
        return ReviewDetail(
            **base, review_status=status, status=status, opened_at=opened, due_at=due,
            waiting_seconds=max(0.0, ((now if decided_at is None else as_utc(decided_at)) - opened).total_seconds()),
            overdue=status == "open" and now > due, claimed_by=holder,
            claimed_at=as_utc(claimed_at) if holder is not None else None,
            analyst_decision=None if verdict is None else AnalystDecision(
                verdict=verdict, note=note or "", analyst=decided_by, decided_at=as_utc(decided_at)))

    def review(self, order_id: str, *, now: datetime | None = None) -> ReviewDetail | None:
        """The review of an order (open or closed); None if the order never was in review."""
        detail = self.order(order_id, now=now)
        return detail if isinstance(detail, ReviewDetail) else None

    def linked(self, order_id: str, *, limit: int = 1000) -> LinkedOrders:
        """The other orders sharing a card, device, IP, buyer, seller or shipping address, and their graph."""
        if not 1 <= limit <= MAX_LINKED:
            raise InvalidDecision(f"limit must be 1..{MAX_LINKED}")
        return linked_orders(self.engine.decisions, order_id, limit)

    # ---- claims ----------------------------------------------------------------------

    def claim(self, order_id: str, analyst: str, *, now: datetime | None = None) -> Claim:
        """Claim a review for `analyst` (again: refreshes it). ok=False names who holds it."""
        analyst = _analyst(analyst)
        now = now or datetime.now(UTC)
        state = self.store.claim(order_id, analyst, now, now - self.claim_idle)
        return Claim(order_id=order_id, ok=state.ok, held_by=state.held_by, claimed_at=state.claimed_at)

    def release(self, order_id: str, analyst: str) -> bool:
        """Give a claim back; False (and nothing changes) if `analyst` did not hold it."""
        return self.store.release(order_id, _analyst(analyst))

    def release_stale(self, *, now: datetime | None = None) -> int:
        """Clear the claims idle longer than the claim timeout; how many."""
        return self.store.release_stale((now or datetime.now(UTC)) - self.claim_idle)

    # ---- decisions and labels --------------------------------------------------------

    def decide(self, order_id: str, analyst: str, verdict: str, note: str = "", *,
               now: datetime | None = None) -> ReviewDetail:
        """Close a review: approve (confirmed_legit) or decline (confirmed_fraud), with a note.

        Refused with ClaimConflict if another analyst holds a live claim or it was closed already.
        """
        analyst = _analyst(analyst)
        if verdict not in VERDICT_OUTCOME:
            raise InvalidDecision(f"verdict must be approve or decline, got {verdict!r}")
        now = now or datetime.now(UTC)
        kind = VERDICT_OUTCOME[verdict]
        event = None
        if self.events:
            event = event_row(REVIEW_CLOSED, order_id, {"order_id": order_id, "verdict": verdict, "analyst": analyst,
                                                        "note": note, "decided_at": now.isoformat()}, now)
        self.store.close(order_id, analyst, verdict, note, kind, now, now - self.claim_idle, event)
        self.engine.feed_outcomes([Outcome(order_id=order_id, kind=kind, reported_at=now, source="analyst")])
        detail = self.review(order_id, now=now)
        assert detail is not None  # it was just closed
        return detail

    def decide_many(self, order_ids: Sequence[str], analyst: str, verdict: str, note: str = "", *,
                    now: datetime | None = None) -> BulkResult:
        """Decide many reviews of one pattern alike; each is its own transaction, and those that cannot
        be decided (claimed by another, closed, unknown) are listed with why, never half-done."""
        if len(order_ids) > MAX_BULK:
            raise InvalidDecision(f"at most {MAX_BULK} reviews at once, got {len(order_ids)}")
        if verdict not in VERDICT_OUTCOME:
            raise InvalidDecision(f"verdict must be approve or decline, got {verdict!r}")
        decided, skipped = [], []
        for order_id in dict.fromkeys(order_ids):  # once each, in the order given
            try:
                self.decide(order_id, analyst, verdict, note, now=now)
                decided.append(order_id)
            except (ClaimConflict, ReviewNotFound) as exc:
                skipped.append(BulkSkip(order_id=order_id, reason=exc.message))
        return BulkResult(decided=decided, skipped=skipped)

    def decide_matching(self, filters: QueueFilter, analyst: str, verdict: str, note: str = "", *,
                        limit: int = MAX_BULK, now: datetime | None = None) -> BulkResult:
        """Decide the open reviews a queue filter selects (at most `limit`, by due time)."""
        page = self.queue(filters=filters.model_copy(update={"status": "open"}), limit=min(limit, MAX_PAGE), now=now)
        ids = [item.order_id for item in page.items]
        while len(ids) < min(limit, page.total) and len(page.items) == MAX_PAGE:
            page = self.queue(filters=filters.model_copy(update={"status": "open"}), limit=MAX_PAGE,
                              offset=len(ids), now=now)
            ids += [item.order_id for item in page.items]
        return self.decide_many(ids[:limit], analyst, verdict, note, now=now)

    def label(self, order_id: str, analyst: str, kind: str, note: str = "", *, now: datetime | None = None) -> None:
        """Mark any logged order (approved ones included) as confirmed_fraud or confirmed_legit."""
        analyst = _analyst(analyst)
        if kind not in ("confirmed_fraud", LEGIT):
            raise InvalidDecision(f"kind must be confirmed_fraud or confirmed_legit, got {kind!r}")
        now = now or datetime.now(UTC)
        self.store.label(order_id, analyst, kind, note, now)
        self.engine.feed_outcomes([Outcome.model_validate({"order_id": order_id, "kind": kind, "reported_at": now,
                                                           "source": "analyst"})])

    def stats(self, *, since: datetime, until: datetime, bucket: str = "day",
              now: datetime | None = None) -> Overview:
        """Decision rates, score distributions, backlog against the SLA, analyst throughput, model versions."""
        from serve.reviews.stats import overview

        if bucket not in ("hour", "day"):
            raise InvalidDecision(f"bucket must be hour or day, got {bucket!r}")
        return overview(self, since=since, until=until, bucket=bucket, now=now or datetime.now(UTC))


def _analyst(name: str) -> str:
    """The analyst's name as given (the API's schema and the web app's users decide what a name may be)."""
    if not name or len(name) > 128 or not name.strip(" \t\r\n"):
        raise InvalidDecision("an analyst name of 1 to 128 characters is required")
    return name


def _outcome_entries(rows: list[tuple]) -> list[OutcomeEntry]:
    """Every outcome as stored, oldest first; a fraud one and a legit one contradict each other."""
    kinds = {row[0] for row in rows}
    fraud = sorted(kinds & FRAUD_KINDS)
    entries = []
    for kind, reported_at, source in rows:
        contradicts = fraud if kind == LEGIT else ([LEGIT] if kind in FRAUD_KINDS and LEGIT in kinds else [])
        entries.append(OutcomeEntry(kind=kind, reported_at=as_utc(reported_at), source=source,
                                    contradicts=contradicts))
    return entries
