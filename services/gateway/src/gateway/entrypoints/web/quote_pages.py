"""A case's quote on the creditor's pages: who would collect it, at what fee, the provider's
measured record in the case's segment, and accept or decline; matching's QuoteService through
the same client as /v1/cases/{id}/quote, as the creditor the API's authorisation found (another
creditor's quote answers 404, like a case that does not exist)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.entrypoints.api.deps import ActingCaller, CaseId, GatewayServices, Intake, Quotes
from gateway.entrypoints.web.page_deps import PageCaller, page_request, pages_of
from gateway.schemas.quotes import QuoteView
from recouvra_shared.errors import NotFound, Unavailable

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])


async def quote_of(
    services: GatewayServices, caller: ActingCaller, case_id: str
) -> dict[str, object]:
    """What the case page shows of the quote: the quote, or why there is none to show."""
    if services.quotes is None:
        return {"quote": None, "quote_state": "unavailable"}
    try:
        quote = await services.quotes.quote(caller.as_creditor, case_id)
    except NotFound:
        return {"quote": None, "quote_state": "not-yet"}
    except Unavailable:
        return {"quote": None, "quote_state": "unavailable"}
    return {"quote": quote, "quote_state": "shown"}


@router.get("/cases/{case_id}/quote")
async def quote_page(
    request: Request, case_id: CaseId, caller: PageCaller, intake: Intake, quotes: Quotes
) -> HTMLResponse:
    """The quote on a page of its own (the case page shows it too)."""
    case = await intake.get_case(caller.caller, caller.creditor_id, case_id)
    quote: QuoteView = await quotes.quote(caller.as_creditor, case_id)
    return pages_of(request).render(
        request, "quote.html", {"case": case, "quote": quote, "quote_state": "shown"}
    )


@router.post("/cases/{case_id}/quote/accept")
async def accept_quote(case_id: CaseId, caller: PageCaller, quotes: Quotes) -> Response:
    """Accept: the quoted provider is asked to take the case (409 when none is waiting)."""
    await quotes.accept_quote(caller.as_creditor, case_id)
    return RedirectResponse(f"/cases/{case_id}#quote", status_code=303)


@router.post("/cases/{case_id}/quote/decline")
async def decline_quote(case_id: CaseId, caller: PageCaller, quotes: Quotes) -> Response:
    """Decline the quote (409 when none is waiting)."""
    await quotes.decline_quote(caller.as_creditor, case_id)
    return RedirectResponse(f"/cases/{case_id}#quote", status_code=303)
