"""A collection provider's pages: sign up (pending an operator's approval), the marketplace of
open auctions (refreshed every few seconds by htmx; a reload without JavaScript), a sealed bid,
and the cases it holds or is offered (a held case has its page in provider_case_pages). The
same use cases and the same check as /v1/provider: a provider still pending sees why, and
nothing else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.adapters.rate_limits import SIGN_UP
from gateway.domain.model import SignUpProvider
from gateway.entrypoints.api.deps import (
    ActingProvider,
    Bidding,
    CaseId,
    Providers,
    Services,
    current_provider,
    rate_limited,
)
from gateway.entrypoints.web.page_deps import (
    form_page,
    page_request,
    pages_of,
    session_principal,
    validated,
)
from gateway.schemas.bidding import BidIn
from gateway.schemas.providers import ProviderSignUpRequest
from gateway.service_layer.providers import sign_up_provider
from recouvra_shared.errors import NotFound

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

KINDS = ("agency", "commissaire", "lawyer")
REFRESH_SECONDS = 5


async def page_provider(request: Request, services: Services) -> ActingProvider:
    """The provider at the browser, approved by an operator (the API's own check)."""
    principal = await session_principal(request, services)
    return await current_provider(principal, services)


PageProvider = Annotated[ActingProvider, Depends(page_provider)]


def _signup_context() -> dict[str, Any]:
    return {"kinds": KINDS}


@router.get("/provider/signup")
async def provider_signup_form(request: Request) -> HTMLResponse:
    """The provider's sign-up form: the organisation, its first user and what it takes on."""
    return pages_of(request).render(
        request, "provider_signup.html", {**_signup_context(), "values": {"capacity": "20"}}
    )


def _euros(value: str) -> dict[str, str] | None:
    value = value.strip().replace(",", ".")
    return {"amount": value, "currency": "EUR"} if value else None


@router.post(
    "/provider/signup",
    dependencies=[form_page("provider_signup.html", kinds=KINDS), rate_limited(SIGN_UP)],
)
async def provider_sign_up(request: Request, services: Services, directory: Providers) -> Response:
    """Opens the account (pending) and registers the profile with matching, both or neither."""
    form = await request.form()
    text = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    body: ProviderSignUpRequest = validated(
        ProviderSignUpRequest,
        {
            "organisation_name": text.get("organisation_name", ""),
            "siren": text.get("siren", ""),
            "email": text.get("email", ""),
            "password": form.get("password") or "",
            "profile": {
                "kind": text.get("profile.kind", ""),
                "regions": [r for r in text.get("profile.regions", "").split(",") if r.strip()],
                "serves_business": "profile.serves_business" in form,
                "serves_consumer": "profile.serves_consumer" in form,
                "min_amount": _euros(text.get("profile.min_amount", "")),
                "max_amount": _euros(text.get("profile.max_amount", "")),
                "judicial": "profile.judicial" in form,
                "capacity": text.get("profile.capacity", ""),
            },
        },
    )
    command = SignUpProvider(
        organisation_name=body.organisation_name,
        siren=body.siren,
        email=str(body.email),
        password=body.password,
        profile=body.profile.checked(),
    )
    async with services.unit_of_work() as uow:
        await sign_up_provider(
            command,
            uow,
            services.passwords,
            directory,
            services.companies,
            services.unit_of_work,
        )
        await uow.commit()
    return RedirectResponse("/provider/signup/pending", status_code=303)


@router.get("/provider/signup/pending")
async def provider_pending(request: Request) -> HTMLResponse:
    """What happens next: an operator checks the provider before it sees any auction."""
    return pages_of(request).render(request, "provider_pending.html")


async def _market(provider: ActingProvider, bidding: Bidding) -> dict[str, Any]:
    auctions = await bidding.open_auctions(provider.caller)
    held = await bidding.assignments(provider.caller)
    return {"auctions": auctions, "held": held.items, "refresh": REFRESH_SECONDS}


@router.get("/provider")
async def marketplace(request: Request, provider: PageProvider, bidding: Bidding) -> HTMLResponse:
    """Open auctions, anonymised, with a bid form each; then the cases held or offered."""
    return pages_of(request).render(
        request, "provider_market.html", await _market(provider, bidding)
    )


@router.get("/provider/live")
async def marketplace_live(
    request: Request, provider: PageProvider, bidding: Bidding
) -> HTMLResponse:
    """The auctions and held cases again, for htmx to swap in every few seconds."""
    return pages_of(request).render(request, "provider_live.html", await _market(provider, bidding))


@router.post("/provider/auctions/{case_id}/bid")
async def bid(
    case_id: CaseId,
    provider: PageProvider,
    bidding: Bidding,
    fee_percent: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A sealed bid, as POST /v1/provider/auctions/{id}/bid: one per round; matching states
    the platform's bounds when it refuses a fee."""
    body: BidIn = validated(BidIn, {"fee_percent": fee_percent.strip().replace(",", ".")})
    await bidding.place_bid(provider.caller, case_id, body)
    return RedirectResponse("/provider#auctions", status_code=303)


@router.post("/provider/cases/{case_id}/{answer}")
async def answer_offer(
    case_id: CaseId, answer: str, provider: PageProvider, bidding: Bidding
) -> Response:
    """Accept or decline a case offered after the auction."""
    if answer == "accept":
        await bidding.accept_assignment(provider.caller, case_id)
        return RedirectResponse(f"/provider/cases/{case_id}", status_code=303)
    if answer == "decline":
        await bidding.decline_assignment(provider.caller, case_id)
        return RedirectResponse("/provider#held", status_code=303)
    raise NotFound("page: no such page")
