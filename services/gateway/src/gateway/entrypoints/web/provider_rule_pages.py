"""A provider's standing auto-bid rules on a page: its rules listed, one set (criteria -> fee)
under a name, the same name changing it, one removed; over the bidding API's own calls
(/v1/provider/auto-bid-rules), as the provider."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.adapters.matching import BiddingClient
from gateway.entrypoints.api.deps import Bidding
from gateway.entrypoints.web.page_deps import form_page, page_request, pages_of, validated
from gateway.entrypoints.web.provider_forms import amounts_by_their_field, euros
from gateway.entrypoints.web.provider_pages import PageProvider
from gateway.schemas.bidding import AutoBidRuleIn
from recouvra_shared.context import Caller

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

# Scoring's segments (scoring.domain.scorecard.SEGMENTS): the gateway imports no other service.
SEGMENTS = (
    "good-faith-in-difficulty",
    "disputing",
    "bad-faith",
    "not-enough-information",
)
DEBTOR_TYPES = ("business", "consumer")


def _choices() -> dict[str, Any]:
    return {"segments": SEGMENTS, "debtor_types": DEBTOR_TYPES}


async def _with_rules(bidding: BiddingClient, provider: Caller) -> dict[str, Any]:
    return _choices() | {"rules": await bidding.auto_bid_rules(provider)}


@router.get("/provider/rules")
async def rule_form(request: Request, provider: PageProvider, bidding: Bidding) -> HTMLResponse:
    """The provider's rules, and the form of a new one (or of a change: the same name)."""
    context = await _with_rules(bidding, provider.caller)
    return pages_of(request).render(request, "provider_rules.html", context)


@router.post("/provider/rules/{name:path}/delete")
async def delete_rule(name: str, provider: PageProvider, bidding: Bidding) -> Response:
    """Remove the rule; auctions opened from now on get no bid from it."""
    await bidding.delete_auto_bid_rule(provider.caller, name[:100])
    return RedirectResponse("/provider/rules", status_code=303)


@router.post("/provider/rules", dependencies=[form_page("provider_rules.html", **_choices())])
async def set_rule(request: Request, provider: PageProvider, bidding: Bidding) -> HTMLResponse:
    """Stores the rule with matching; every auction opened from now on that meets it gets its
    bid at once."""
    request.state.form_context = await _with_rules(bidding, provider.caller)
    form = await request.form()
    text = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    with amounts_by_their_field("fixed_fee", "min_amount", "max_amount"):
        body: AutoBidRuleIn = validated(
            AutoBidRuleIn,
            {
                "name": text.get("name", ""),
                "fee_percent": text.get("fee_percent", "").replace(",", "."),
                "fixed_fee": euros(text.get("fixed_fee", "")),
                "segments": [s for s in form.getlist("segments") if isinstance(s, str)],
                "min_trustscore": text.get("min_trustscore") or 0,
                "min_amount": euros(text.get("min_amount", "")),
                "max_amount": euros(text.get("max_amount", "")),
                "debtor_types": [t for t in form.getlist("debtor_types") if isinstance(t, str)],
            },
        )
        saved = await bidding.set_auto_bid_rule(provider.caller, body.checked())
    context = await _with_rules(bidding, provider.caller) | {"saved": saved}
    return pages_of(request).render(request, "provider_rules.html", context)
