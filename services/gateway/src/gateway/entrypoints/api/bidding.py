"""The provider's door: sign-up, and the REST mirror of matching's BiddingService."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import grpc
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, StreamingResponse

from gateway.domain.errors import InvalidField, NotFound
from gateway.domain.model import SignUpProvider
from gateway.entrypoints.api.accounts import answer_once
from gateway.entrypoints.api.bidding_schemas import (
    ActionIn,
    ActionReported,
    AssignmentView,
    AuctionList,
    AuctionView,
    AutoBidRuleIn,
    AutoBidRuleView,
    BidIn,
    BidView,
    BidWithdrawn,
    HeldCaseList,
    HeldCaseView,
    MoneyIn,
    PaymentIn,
    PaymentReported,
    ProviderProfileView,
    ProviderSignUpRequest,
    ProviderSignUpResponse,
    euros,
    minor_units,
)
from gateway.entrypoints.api.deps import (
    ActingProvider,
    CurrentProvider,
    GatewayServices,
    IdempotencyKey,
    Services,
)
from gateway.entrypoints.api.marketplace import CaseId, idempotent, matching_call
from gateway.entrypoints.api.problems import problem_responses
from gateway.entrypoints.api.schemas import minor_exponent
from gateway.service_layer.idempotency import Outcome
from gateway.service_layer.providers import sign_up_provider
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2 as pb

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/provider", responses=problem_responses(422))

NO_AUCTION = "auction: no such open auction for you"
NOT_REGISTERED = "provider: not registered with the marketplace"
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
NO_BID = "bid: no such bid of yours in an open auction"
NO_ASSIGNMENT = "case: no such case offered to or held by you"
BID_FIELDS = {"fixed_fee.minor_units": "fixed_fee.amount"}
RULE_FIELDS = {
    "fixed_fee.minor_units": "fixed_fee",
    "min_amount_minor": "min_amount",
    "max_amount_minor": "max_amount",
}
PROVIDER_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)


@router.post(
    "/accounts",
    tags=["providers"],
    summary="Sign up as a collection provider (agency, commissaire de justice, lawyer)",
    status_code=status.HTTP_201_CREATED,
    response_model=ProviderSignUpResponse,
    responses=problem_responses(409, 422, 503),
)
async def sign_up(
    body: ProviderSignUpRequest,
    request: Request,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Opens the account and registers the profile with the marketplace, both or neither; log
    in with POST /v1/auth/token afterwards. The organisation id is your provider id."""
    profile = body.profile.checked()
    command = SignUpProvider(
        organisation_name=body.organisation_name,
        siren=body.siren,
        email=str(body.email),
        password=body.password,
        profile=profile,
    )
    directory = services.providers
    if directory is None:
        raise RuntimeError("the provider directory is not wired")

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        organisation, user = await sign_up_provider(command, uow, services.passwords, directory)
        view = ProviderSignUpResponse(
            id=organisation.organisation_id,
            name=organisation.name,
            siren=organisation.siren or "",
            created_at=organisation.created_at,
            user_id=user.user_id,
            email=user.email,
            profile=ProviderProfileView(
                kind=body.profile.kind,
                regions=list(profile.regions),
                serves_business=profile.serves_business,
                serves_consumer=profile.serves_consumer,
                min_amount=euros(profile.min_amount_minor),
                max_amount=euros(profile.max_amount_minor),
                judicial=profile.judicial,
                capacity=profile.capacity,
            ),
        )
        return Outcome(status.HTTP_201_CREATED, view.model_dump(mode="json"))

    return await answer_once(
        services, request, "anonymous", idempotency_key, body.model_dump(mode="json"), effect
    )


@router.get(
    "/auctions",
    tags=["bidding"],
    summary="Open auctions you may bid in, anonymised",
    response_model=AuctionList,
    responses=problem_responses(401, 403, 404, 503),
)
async def list_auctions(provider: CurrentProvider, services: Services) -> AuctionList:
    """Amount band, days overdue, segment, Trustscore and reason codes, region and debtor type:
    never the debtor's identity or contacts before the case is assigned to you."""
    with provider.calling():
        reply = await matching_call(
            services.bidding.ListOpenAuctions(pb.ListOpenAuctionsRequest()),
            NOT_REGISTERED,
        )
    return AuctionList(items=[AuctionView.of(a) for a in reply.auctions])


@router.get(
    "/auctions/stream",
    tags=["bidding"],
    summary="Open auctions as server-sent events: those open now, then each one as it opens",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One `auction` event per open auction (data: an AuctionView)",
            "content": {EVENT_STREAM: {"schema": EVENT_SCHEMA, "example": STREAM_EXAMPLE}},
        },
        **problem_responses(401, 403, 404, 503),
    },
)
async def watch_auctions(provider: CurrentProvider, services: Services) -> StreamingResponse:
    """The stream ends after an hour or when matching goes away: reconnect, and the auctions
    open then are sent again first."""
    # Asked once before streaming, so that an unknown provider or an unreachable matching
    # answers a problem, not a stream that silently never starts.
    with provider.calling():
        opened = await matching_call(
            services.bidding.ListOpenAuctions(pb.ListOpenAuctionsRequest()), NOT_REGISTERED
        )
    call = services.bidding.WatchAuctions(
        pb.ListOpenAuctionsRequest(), metadata=provider.metadata(), timeout=WATCH_SECONDS
    )

    async def events() -> AsyncIterator[str]:
        sent: set[tuple[str, int]] = set()
        try:
            for auction in [*opened.auctions]:
                sent.add((auction.case_id, auction.round))
                yield _event(auction)
            async for auction in call:
                if (auction.case_id, auction.round) not in sent:
                    sent.add((auction.case_id, auction.round))
                    yield _event(auction)
        except grpc.aio.AioRpcError as exc:
            # Headers are gone already: the end of the stream is the only answer left.
            log.info("auction stream ended: %s", exc.code())
        finally:
            call.cancel()

    return StreamingResponse(
        events(), media_type=EVENT_STREAM, headers={"Cache-Control": "no-store"}
    )


def _event(auction: pb.OpenAuction) -> str:
    return f"event: auction\ndata: {AuctionView.of(auction).model_dump_json()}\n\n"


@router.get(
    "/auctions/{case_id}",
    tags=["bidding"],
    summary="One open auction you may bid in, anonymised",
    response_model=AuctionView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_auction(
    case_id: CaseId, provider: CurrentProvider, services: Services
) -> AuctionView:
    """404 once bidding is over, and for any case you may not bid on, exactly like a case that
    does not exist."""
    with provider.calling():
        reply = await matching_call(
            services.bidding.ListOpenAuctions(pb.ListOpenAuctionsRequest()), NO_AUCTION
        )
    for auction in reply.auctions:
        if auction.case_id == case_id:
            return AuctionView.of(auction)
    raise NotFound(NO_AUCTION)


def _bid_request(case_id: str, body: BidIn) -> pb.BidRequest:
    request = pb.BidRequest(case_id=case_id, fee_percent=body.fee_percent)
    if body.fixed_fee is not None:
        fee = body.fixed_fee
        scaled = Decimal(fee.amount) * 10 ** minor_exponent(fee.currency)
        if scaled != scaled.to_integral_value():
            raise InvalidField("fixed_fee.amount", f"has more decimals than {fee.currency} allows")
        request.fixed_fee.CopyFrom(Money(currency=fee.currency, minor_units=int(scaled)))
    return request


async def _bid(
    case_id: str,
    body: BidIn,
    request: Request,
    provider: ActingProvider,
    services: GatewayServices,
    idempotency_key: str,
    *,
    replace: bool,
) -> JSONResponse:
    message = _bid_request(case_id, body)

    async def effect() -> BidView:
        method = services.bidding.ReplaceBid if replace else services.bidding.PlaceBid
        with provider.calling():
            reply = await matching_call(
                method(message), NO_BID if replace else NO_AUCTION, BID_FIELDS
            )
        return BidView.of(reply)

    return await idempotent(
        services,
        request,
        provider.provider_id,
        idempotency_key,
        body.model_dump(mode="json"),
        status.HTTP_201_CREATED if not replace else status.HTTP_200_OK,
        effect,
    )


@router.post(
    "/auctions/{case_id}/bid",
    tags=["bidding"],
    summary="Place your sealed bid: a success fee, optionally a fixed fee",
    status_code=status.HTTP_201_CREATED,
    response_model=BidView,
    responses=PROVIDER_ERRORS,
)
async def place_bid(
    case_id: CaseId,
    body: BidIn,
    request: Request,
    provider: CurrentProvider,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """One bid per provider and round; 409 when you already bid (replace it instead) or when
    bidding has closed."""
    return await _bid(case_id, body, request, provider, services, idempotency_key, replace=False)


@router.post(
    "/auctions/{case_id}/bid/replacement",
    tags=["bidding"],
    summary="Replace your bid while the auction is open",
    response_model=BidView,
    responses=PROVIDER_ERRORS,
)
async def replace_bid(
    case_id: CaseId,
    body: BidIn,
    request: Request,
    provider: CurrentProvider,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """404 when you have no bid in this case's open auction."""
    return await _bid(case_id, body, request, provider, services, idempotency_key, replace=True)


@router.post(
    "/auctions/{case_id}/bid/withdrawal",
    tags=["bidding"],
    summary="Withdraw your bid while the auction is open",
    response_model=BidWithdrawn,
    responses=PROVIDER_ERRORS,
)
async def withdraw_bid(
    case_id: CaseId,
    request: Request,
    provider: CurrentProvider,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """You may bid again afterwards, while bidding is open."""

    async def effect() -> BidWithdrawn:
        with provider.calling():
            reply = await matching_call(
                services.bidding.WithdrawBid(pb.CaseRef(case_id=case_id)), NO_BID
            )
        return BidWithdrawn(case_id=reply.case_id)

    return await idempotent(
        services, request, provider.provider_id, idempotency_key, {}, status.HTTP_200_OK, effect
    )


@router.post(
    "/auto-bid-rules",
    tags=["bidding"],
    summary="Set a standing auto-bid rule (criteria -> fee); the same name replaces it",
    response_model=AutoBidRuleView,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def set_auto_bid_rule(
    body: AutoBidRuleIn,
    request: Request,
    provider: CurrentProvider,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Every auction opened from now on that meets the criteria gets this bid the moment it
    opens, so most cases are priced within seconds."""
    rule = body.checked()
    message = pb.SetAutoBidRuleRequest(
        name=rule.name,
        fee_percent=rule.fee_percent,
        fixed_fee_minor=minor_units(rule.fixed_fee),
        segments=rule.segments,
        min_trustscore=rule.min_trustscore,
        min_amount_minor=minor_units(rule.min_amount),
        max_amount_minor=minor_units(rule.max_amount) if rule.max_amount is not None else 0,
        debtor_types=list(rule.debtor_types),
    )

    async def effect() -> AutoBidRuleView:
        with provider.calling():
            await matching_call(
                services.bidding.SetAutoBidRule(message),
                NOT_REGISTERED,
                RULE_FIELDS,
            )
        return AutoBidRuleView(**rule.model_dump())

    return await idempotent(
        services,
        request,
        provider.provider_id,
        idempotency_key,
        body.model_dump(mode="json"),
        status.HTTP_200_OK,
        effect,
    )


def _assignment_route(path: str, rpc: str, summary: str, doc: str) -> None:
    async def route(
        case_id: CaseId,
        request: Request,
        provider: CurrentProvider,
        services: Services,
        idempotency_key: IdempotencyKey,
    ) -> JSONResponse:
        async def effect() -> AssignmentView:
            with provider.calling():
                reply = await matching_call(
                    getattr(services.bidding, rpc)(pb.CaseRef(case_id=case_id)), NO_ASSIGNMENT
                )
            return AssignmentView.of(reply)

        return await idempotent(
            services, request, provider.provider_id, idempotency_key, {}, 200, effect
        )

    route.__doc__ = doc
    route.__name__ = f"assignment_{rpc}"
    router.add_api_route(
        f"/assignments/{{case_id}}/{path}",
        route,
        methods=["POST"],
        tags=["assignments"],
        summary=summary,
        response_model=AssignmentView,
        responses=PROVIDER_ERRORS,
    )


_assignment_route(
    "acceptance",
    "AcceptAssignment",
    "Accept the case offered to you: your exclusive window starts",
    "Answer within the agreed time, or the next offer is quoted.",
)
_assignment_route(
    "decline",
    "DeclineAssignment",
    "Decline the case offered to you: the next offer is quoted",
    "Declining costs nothing but the case.",
)
_assignment_route(
    "promise-to-pay",
    "ReportPromiseToPay",
    "Report a promise to pay or a partial payment: your window is extended",
    "Extended up to the platform's cap; 409 once the cap is reached.",
)
_assignment_route(
    "release",
    "ReleaseCase",
    "Give the case back early: it is recalled and rotates to another provider",
    "Your access to the case's data ends at once.",
)


@router.get(
    "/assignments",
    tags=["assignments"],
    summary="The cases you hold, and those you are asked to accept now",
    response_model=HeldCaseList,
    responses=problem_responses(401, 403, 404, 503),
)
async def list_assignments(provider: CurrentProvider, services: Services) -> HeldCaseList:
    """An offered case shows when to answer by (accept_by); an assigned one, when your window
    ends and how much was recovered so far."""
    with provider.calling():
        reply = await matching_call(
            services.bidding.ListAssignments(pb.ListAssignmentsRequest()), NOT_REGISTERED
        )
    return HeldCaseList(items=[HeldCaseView.of(held) for held in reply.cases])


def _money(amount: MoneyIn) -> Money:
    return Money(currency=amount.currency, minor_units=amount.minor_units)


def _action_request(case_id: str, body: ActionIn) -> pb.ReportActionRequest:
    action = body.checked()
    request = pb.ReportActionRequest(
        case_id=case_id,
        kind=action.kind,
        note=action.note,
        promised_on=action.promised_on.isoformat() if action.promised_on is not None else "",
    )
    if action.occurred_at is not None:
        request.occurred_at.FromDatetime(action.occurred_at)
    if action.promised_amount is not None:
        request.promised_amount.CopyFrom(_money(action.promised_amount))
    return request


@router.post(
    "/assignments/{case_id}/actions",
    tags=["assignments"],
    summary="Report what you did on a case you hold: a letter, a call, a promise to pay...",
    status_code=status.HTTP_201_CREATED,
    response_model=ActionReported,
    responses=PROVIDER_ERRORS,
)
async def report_action(
    case_id: CaseId,
    body: ActionIn,
    request: Request,
    provider: CurrentProvider,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """The creditor sees it on the case. A promise-to-pay also extends your window, up to the
    platform's cap. 404 for a case you do not hold, exactly like a case that does not exist."""
    message = _action_request(case_id, body)

    async def effect() -> ActionReported:
        with provider.calling():
            reply = await matching_call(services.bidding.ReportAction(message), NO_ASSIGNMENT)
        return ActionReported.of(reply)

    return await idempotent(
        services,
        request,
        provider.provider_id,
        idempotency_key,
        body.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        effect,
    )


@router.post(
    "/assignments/{case_id}/payments",
    tags=["assignments"],
    summary="Report money the debtor paid you on a case",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentReported,
    responses=PROVIDER_ERRORS,
)
async def report_payment(
    case_id: CaseId,
    body: PaymentIn,
    request: Request,
    provider: CurrentProvider,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """Attributed to whoever held the case on paid_on (see attributed_to); the same reference
    twice is the same payment; status is the case's matching status afterwards."""
    message = pb.ReportPaymentRequest(
        case_id=case_id,
        amount=_money(body.amount),
        paid_on=body.paid_on.isoformat(),
        settles_in_full=body.settles_in_full,
        reference=body.reference,
    )

    async def effect() -> PaymentReported:
        with provider.calling():
            reply = await matching_call(services.bidding.ReportPayment(message), NO_ASSIGNMENT)
        return PaymentReported.of(reply)

    return await idempotent(
        services,
        request,
        provider.provider_id,
        idempotency_key,
        body.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        effect,
    )
