"""An order's page: its fields, scores, reasons, rules, linked orders, outcomes; decide it or label it.

Opening the page of an open review claims it for the analyst (the queue's claim: two
analysts never work the same review); if another analyst holds it, the page says who
and offers no decision form.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from risk.errors import NotFound, RiskError
from serve.ui import charts, formatting
from serve.ui.app import PREFIX, UiContext
from serve.ui.pages.deps import CsrfChecked, UiDep, UserDep
from serve.ui.pages.queue import PAGE_SIZE, QueueQuery

router = APIRouter()
LINKED_SHOWN = 100  # linked orders listed by default; ?linked=all lists up to LINKED_LIMIT
LINKED_LIMIT = 1000
GRAPH_ORDERS = 40  # linked orders drawn in the ring view (more would be a hairball; the table lists them)
NOTE = Annotated[str, Form(max_length=2000)]


def order_href(order_id: str) -> str:
    """The order's page; every character of the id quoted (ids are attacker-controlled and may hold / ? #)."""
    return f"{PREFIX}/orders/{quote(order_id, safe='')}"


@router.get("/orders/{order_id:path}", response_class=HTMLResponse)
def order_page(request: Request, order_id: str, ui: UiDep, user: UserDep,
               linked: Literal["first", "all"] = "first") -> Response:
    """The order with everything an analyst needs to decide it (claims its open review)."""
    detail = ui.reviews.order(order_id)
    if detail is None:
        raise NotFound(f"no order {order_id!r} was scored")
    claim = None
    if detail.review_status == "open":
        claim = ui.reviews.claim(order_id, user.name)
        detail = ui.reviews.order(order_id) or detail  # with the claim just taken
    shared = ui.reviews.linked(order_id, limit=LINKED_LIMIT if linked == "all" else LINKED_SHOWN)
    decision = detail.decision
    reasons = decision.get("reasons") or []
    bars = [(r.get("message") or r.get("code") or "", float(r["contribution"]))
            for r in reasons if isinstance(r, dict) and r.get("contribution") is not None]
    previous, following = _neighbours(request, ui, order_id)
    return ui.page(request, "order.html", user, detail=detail, order=detail.order, decision=decision,
                   claim=claim, linked=shared, linked_rows=_linked_rows(shared), reasons=reasons,
                   all_linked=f"{order_href(order_id)}?linked=all#linked",
                   reasons_chart=charts.contribution_bars(bars, label="what moved the score"),
                   graph=_graph(shared), timeline=_timeline(detail), previous=previous, following=following,
                   back=request.session.get("queue") or f"{PREFIX}/queue", order_href=order_href)


@router.post("/decide", dependencies=[CsrfChecked])
def decide(request: Request, ui: UiDep, user: UserDep, order_id: Annotated[str, Form()],
           verdict: Annotated[Literal["approve", "decline"], Form()], note: NOTE = "") -> Response:
    """Close the review: approve (confirmed legit) or decline (confirmed fraud), with the analyst's note."""
    ui.reviews.decide(order_id, user.name, verdict, note)
    request.session["notice"] = f"{order_id}: {'approved' if verdict == 'approve' else 'declined'}"
    return RedirectResponse(order_href(order_id), status_code=303)


@router.post("/label", dependencies=[CsrfChecked])
def label(request: Request, ui: UiDep, user: UserDep, order_id: Annotated[str, Form()],
          kind: Annotated[Literal["confirmed_fraud", "confirmed_legit"], Form()], note: NOTE = "") -> Response:
    """Mark any logged order (approved ones included) as fraud or legitimate: an analyst outcome."""
    ui.reviews.label(order_id, user.name, kind, note)
    request.session["notice"] = f"{order_id}: labelled {kind.replace('_', ' ')}"
    return RedirectResponse(order_href(order_id), status_code=303)


@router.post("/release", dependencies=[CsrfChecked])
def release(request: Request, ui: UiDep, user: UserDep, order_id: Annotated[str, Form()]) -> Response:
    """Give the review back to the queue without deciding it."""
    ui.reviews.release(order_id, user.name)
    request.session["notice"] = f"{order_id}: released to the queue"
    return RedirectResponse(request.session.get("queue") or f"{PREFIX}/queue", status_code=303)


def _neighbours(request: Request, ui: UiContext, order_id: str) -> tuple[str | None, str | None]:
    """The previous and next order of the queue view the analyst came from (j / k on the order page)."""
    view = request.session.get("queue") or f"{PREFIX}/queue"
    params = {key: values[0] for key, values in parse_qs(urlsplit(view).query).items()}
    try:
        query = QueueQuery(**{**params, "page": int(params.get("page", 1))})  # type: ignore[arg-type]
        page = ui.reviews.queue(sort=query.sort, filters=query.filters(), limit=PAGE_SIZE,
                                offset=(query.page - 1) * PAGE_SIZE)
    except (RiskError, ValueError, TypeError):  # a stale or edited view in the session: no neighbours, no error
        return None, None
    ids = [item.order_id for item in page.items]
    if order_id not in ids:
        return None, (order_href(ids[0]) if ids else None)
    at = ids.index(order_id)
    return (order_href(ids[at - 1]) if at > 0 else None), (order_href(ids[at + 1]) if at + 1 < len(ids) else None)


def _linked_rows(linked: Any) -> list[tuple[str, ...]]:
    """The linked orders table's cells as text (escaped by the template): one pass over up to 1,000 rows."""
    return [(order_href(o.order_id), o.order_id, formatting.moment(o.created_at),
             formatting.money(o.amount, o.currency), ", ".join(o.shared), o.decision or "",
             formatting.percent(o.fraud_score), o.latest_outcome or "")
            for o in linked.orders]


def _graph(linked: Any) -> Any:
    """The ring view from the linked orders' graph: the order, its entities, up to GRAPH_ORDERS others."""
    shown = {f"order:{o.order_id}" for o in linked.orders[:GRAPH_ORDERS]}
    flagged = {f"order:{o.order_id}" for o in linked.orders
               if o.decision == "decline" or o.latest_outcome in ("confirmed_fraud", "chargeback")}
    nodes = []
    for node in linked.graph.nodes:
        if node.kind == "order" and not node.center and node.id not in shown:
            continue
        kind = "order" if node.center else ("linked" if node.kind == "order" else node.kind)
        href = order_href(node.id.removeprefix("order:")) if node.kind == "order" and not node.center else None
        label = node.label if node.kind == "order" else f"{node.kind}: {node.label}"
        nodes.append(charts.GraphNode(node.id, label, kind, href, node.id in flagged))
    kept = {node.id for node in nodes}
    edges = [(e.source, e.target) for e in linked.graph.edges if e.source in kept and e.target in kept]
    return charts.entity_graph(nodes, edges, label="orders sharing this order's card, device, IP, buyer, seller "
                                                   "or address")


def _timeline(detail: Any) -> list[dict[str, Any]]:
    """Outcomes and analyst actions, oldest first; an outcome contradicting another is marked, never merged."""
    entries = [{"at": o.reported_at, "what": o.kind, "who": o.source or "", "note": "",
                "contradicts": o.contradicts} for o in detail.outcomes]
    entries += [{"at": a.at, "what": a.action, "who": a.analyst, "note": a.note, "contradicts": []}
                for a in detail.actions]
    return sorted(entries, key=lambda entry: entry["at"])


