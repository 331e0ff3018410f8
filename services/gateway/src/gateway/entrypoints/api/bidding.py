"""The provider's bidding: the REST mirror of matching's BiddingService for open auctions, sealed
bids and auto-bid rules, always as the provider."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from gateway.adapters.matching import NO_AUCTION
from gateway.domain.errors import NotFound
from gateway.entrypoints.api.deps import Bidding, CaseId, CurrentProvider, Services
from gateway.entrypoints.api.idempotency import Idempotent
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.bidding import (
    AuctionList,
    AuctionView,
    AutoBidRuleIn,
    AutoBidRuleList,
    AutoBidRuleView,
    BidIn,
    BidView,
    BidWithdrawn,
)
from gateway.schemas.quotes import ProviderRecordList

router = APIRouter(prefix="/v1/provider", tags=["bidding"], responses=problem_responses(422))

EVENT_STREAM = "text/event-stream"
# Matching's stream has no end of its own; a bounded one frees the gateway's resources.
WATCH_SECONDS = 3600.0
# Each server-sent event: its name, and its data, one AuctionView in JSON.
EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"const": "auction"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/AuctionView"},
        },
    },
}
STREAM_EXAMPLE = (
    'event: auction\ndata: {"case_id": "7b0e8c9e-2f4d-4b7a-9d51", "round": 1, '
    '"amount_band": "1000-5000 EUR", ...}\n\n'
)
PROVIDER_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


@router.get(
    "/auctions",
    summary="Open auctions you may bid in, anonymised",
    response_model=AuctionList,
    responses=problem_responses(401, 403, 404, 503),
)
async def list_auctions(provider: CurrentProvider, bidding: Bidding) -> AuctionList:
    """Amount band, days overdue, segment, Trustscore and reason codes, region and debtor type:
    never the debtor's identity or contacts before the case is assigned to you. Each auction
    stays open for bids 15 minutes after it opens (the platform's bidding window); its
    `closes_at` says exactly when."""
    return AuctionList(items=await bidding.open_auctions(provider.caller))


@router.get(
    "/auctions/stream",
    summary="Open auctions as server-sent events: those open now, then each one as it opens",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One `auction` event per open auction (data: an AuctionView)",
            "content": {EVENT_STREAM: {"schema": EVENT_SCHEMA, "example": STREAM_EXAMPLE}},
        },
        **problem_responses(401, 403, 404, 429, 503),
    },
)
async def watch_auctions(
    provider: CurrentProvider, bidding: Bidding, services: Services
) -> StreamingResponse:
    """Each auction stays open for bids 15 minutes after it opens (its `closes_at`). The stream
    ends after an hour or when matching goes away: reconnect, and the auctions open then are
    sent again first. At most 3 streams per provider are open at once (429 beyond, with
    Retry-After)."""
    slot = services.auction_streams.take(provider.caller.tenant_id or "")
    try:
        # Asked once before streaming, so that an unknown provider or an unreachable matching
        # answers a problem, not a stream that silently never starts.
        opened = await bidding.open_auctions(provider.caller)
    except BaseException:
        slot.release()
        raise
    watched = bidding.watch_auctions(provider.caller, WATCH_SECONDS)

    async def events() -> AsyncIterator[str]:
        sent: set[tuple[str, int]] = set()
        try:
            async with contextlib.aclosing(watched):
                for auction in opened:
                    sent.add((auction.case_id, auction.round))
                    yield _event(auction)
                async for auction in watched:
                    if (auction.case_id, auction.round) not in sent:
                        sent.add((auction.case_id, auction.round))
                        yield _event(auction)
        finally:
            slot.release()

    stream = events()
    slot.tie_to(stream)
    return StreamingResponse(stream, media_type=EVENT_STREAM, headers={"Cache-Control": "no-store"})


def _event(auction: AuctionView) -> str:
    return f"event: auction\ndata: {auction.model_dump_json()}\n\n"


@router.get(
    "/auctions/{case_id}",
    summary="One open auction you may bid in, anonymised",
    response_model=AuctionView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_auction(case_id: CaseId, provider: CurrentProvider, bidding: Bidding) -> AuctionView:
    """Bidding is open 15 minutes from the auction's opening (until `closes_at`); 404 once it is
    over, and for any case you may not bid on, exactly like a case that does not exist."""
    for auction in await bidding.open_auctions(provider.caller, not_found=NO_AUCTION):
        if auction.case_id == case_id:
            return auction
    raise NotFound(NO_AUCTION)


@router.post(
    "/auctions/{case_id}/bid",
    summary="Place your sealed bid: a success fee, optionally a fixed fee",
    status_code=status.HTTP_201_CREATED,
    response_model=BidView,
    responses=PROVIDER_ERRORS,
)
async def place_bid(
    case_id: CaseId, body: BidIn, provider: CurrentProvider, bidding: Bidding, once: Idempotent
) -> JSONResponse:
    """One bid per provider and round, within the bidding window: 15 minutes from the auction's
    opening (until its `closes_at`); 409 when you already bid (replace it instead) or when
    bidding has closed. Matching states the platform's bounds on the fee when it refuses one."""
    return await once.relay_keyed(
        provider.provider_id,
        body.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        lambda: bidding.place_bid(provider.caller, case_id, body),
    )


@router.post(
    "/auctions/{case_id}/bid/replacement",
    summary="Replace your bid while the auction is open",
    response_model=BidView,
    responses=PROVIDER_ERRORS,
)
async def replace_bid(
    case_id: CaseId, body: BidIn, provider: CurrentProvider, bidding: Bidding, once: Idempotent
) -> JSONResponse:
    """Until the auction's `closes_at`, 15 minutes after it opened; 404 when you have no bid in
    this case's open auction."""
    return await once.relay_keyed(
        provider.provider_id,
        body.model_dump(mode="json"),
        status.HTTP_200_OK,
        lambda: bidding.replace_bid(provider.caller, case_id, body),
    )


@router.post(
    "/auctions/{case_id}/bid/withdrawal",
    summary="Withdraw your bid while the auction is open",
    response_model=BidWithdrawn,
    responses=PROVIDER_ERRORS,
)
async def withdraw_bid(
    case_id: CaseId, provider: CurrentProvider, bidding: Bidding, once: Idempotent
) -> JSONResponse:
    """You may bid again afterwards, while bidding is open (15 minutes from the auction's
    opening, until its `closes_at`)."""
    return await once.relay_keyed(
        provider.provider_id,
        {},
        status.HTTP_200_OK,
        lambda: bidding.withdraw_bid(provider.caller, case_id),
    )


@router.post(
    "/auto-bid-rules",
    summary="Set a standing auto-bid rule (criteria -> fee); the same name replaces it",
    response_model=AutoBidRuleView,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def set_auto_bid_rule(
    body: AutoBidRuleIn, provider: CurrentProvider, bidding: Bidding, once: Idempotent
) -> JSONResponse:
    """Every auction opened from now on that meets the criteria gets this bid the moment it
    opens, well within the bidding window (15 minutes from the opening), so most cases are
    priced within seconds."""
    rule = body.checked()
    return await once.relay_keyed(
        provider.provider_id,
        body.model_dump(mode="json"),
        status.HTTP_200_OK,
        lambda: bidding.set_auto_bid_rule(provider.caller, rule),
    )


RuleName = Annotated[str, Path(min_length=1, max_length=100, description="The rule's name")]


@router.get(
    "/auto-bid-rules",
    summary="Your standing auto-bid rules, by name",
    response_model=AutoBidRuleList,
    responses=problem_responses(401, 403, 404, 503),
)
async def list_auto_bid_rules(provider: CurrentProvider, bidding: Bidding) -> AutoBidRuleList:
    """Each rule as stored: its fee and criteria. Each bids on an auction the moment it opens,
    well within its bidding window (15 minutes from the opening)."""
    return AutoBidRuleList(items=await bidding.auto_bid_rules(provider.caller))


@router.delete(
    "/auto-bid-rules/{name:path}",
    summary="Remove a standing auto-bid rule",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 503),
)
async def delete_auto_bid_rule(
    name: RuleName, provider: CurrentProvider, bidding: Bidding
) -> Response:
    """Auctions opened from now on get no bid from it; bids it already placed stay, like bids
    you placed yourself (withdraw them while bidding is open: 15 minutes from an auction's
    opening). A name you have no rule by: 404."""
    await bidding.delete_auto_bid_rule(provider.caller, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/record",
    summary="Your measured record per segment: what creditors see in your quotes",
    response_model=ProviderRecordList,
    responses=problem_responses(401, 403, 404, 503),
)
async def own_record(provider: CurrentProvider, bidding: Bidding) -> ProviderRecordList:
    """Per segment: cases finished and recovered in full, the share of the amounts recovered,
    the mean days to recover, offers answered in time. Creditors weigh it with your fee when a
    quote is made at the close of bidding (15 minutes from an auction's opening)."""
    return ProviderRecordList(items=await bidding.own_record(provider.caller))
