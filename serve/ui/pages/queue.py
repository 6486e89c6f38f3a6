"""The review queue: sort, filter, page, and decide many orders of one pattern at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from risk.errors import InvalidInput
from risk.money import minor_unit_exponent
from serve.reviews.models import QueueFilter
from serve.ui.app import PREFIX
from serve.ui.pages.deps import CsrfChecked, UiDep, UserDep

router = APIRouter()
PAGE_SIZE = 50
FILTERS = ("seller", "reason", "rule", "country", "currency", "min_amount", "max_amount")


@dataclass(frozen=True)
class QueueQuery:
    """The queue's address: sort, filters (as typed in the form) and page; also what its links keep."""

    sort: Literal["due", "amount", "score"] = "due"
    seller: str = ""
    reason: str = ""
    rule: str = ""
    country: str = ""
    currency: str = ""
    min_amount: str = ""
    max_amount: str = ""
    page: int = 1

    def filters(self) -> QueueFilter:
        """The review queue's filter; amounts typed in major units (49.99) become minor units."""
        return QueueFilter(seller=self.seller or None, reason=self.reason or None, rule=self.rule or None,
                           country=self.country.upper() or None, currency=self.currency.upper() or None,
                           min_amount=_minor(self.min_amount, "min amount", self.currency),
                           max_amount=_minor(self.max_amount, "max amount", self.currency))

    def link(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        kept = {key: value for key, value in values.items() if value not in ("", None) and
                not (key == "page" and value == 1) and not (key == "sort" and value == "due")}
        return f"{PREFIX}/queue" + (f"?{urlencode(kept)}" if kept else "")


def _minor(text: str, what: str, currency: str) -> int | None:
    """An amount typed as 49.99 in minor units (4999), by the currency filter's unit (2 decimals without one)."""
    if not text.strip():
        return None
    try:
        return round(float(text.replace(",", "")) * 10 ** minor_unit_exponent(currency))
    except ValueError:
        raise InvalidInput(f"{what}: a number like 49.99, got {text!r}") from None


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, ui: UiDep, user: UserDep,
               sort: Literal["due", "amount", "score"] = "due", seller: str = "", reason: str = "", rule: str = "",
               country: str = "", currency: str = "", min_amount: str = "", max_amount: str = "",
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Open reviews, most urgent first by default; each row opens (and claims) the order."""
    query = QueueQuery(sort, seller.strip(), reason.strip(), rule.strip(), country.strip(), currency.strip(),
                       min_amount.strip(), max_amount.strip(), page)
    result = ui.reviews.queue(sort=sort, filters=query.filters(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-result.total // PAGE_SIZE))
    request.session["queue"] = query.link()  # the order pages' next / previous and "back" follow this view
    return ui.page(request, "queue.html", user, query=query, result=result, page=page, pages=pages,
                   first=(page - 1) * PAGE_SIZE + 1 if result.items else 0,
                   last=(page - 1) * PAGE_SIZE + len(result.items))


@router.post("/queue/decide", dependencies=[CsrfChecked])
def decide_selected(request: Request, ui: UiDep, user: UserDep,
                    verdict: Annotated[Literal["approve", "decline"], Form()],
                    order_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
                    note: Annotated[str, Form(max_length=2000)] = "",
                    back: Annotated[str, Form()] = "") -> Response:
    """Approve or decline every ticked order (one pattern, one note); orders another analyst holds are skipped."""
    if not order_ids:
        request.session["notice"] = "tick the orders to decide first"
    else:
        result = ui.reviews.decide_many(order_ids, user.name, verdict, note)
        done = "approved" if verdict == "approve" else "declined"
        skipped = "; ".join(f"{skip.order_id}: {skip.reason}" for skip in result.skipped[:5])
        request.session["notice"] = (f"{len(result.decided)} {done}" +
                                     (f", {len(result.skipped)} skipped ({skipped})" if result.skipped else ""))
    target = back if back.startswith(f"{PREFIX}/queue") else f"{PREFIX}/queue"
    return RedirectResponse(target, status_code=303)
