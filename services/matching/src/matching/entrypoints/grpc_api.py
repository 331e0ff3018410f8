"""Matching's gRPC API: callers from context, requests to handlers, domain errors to statuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date
from decimal import Decimal
from typing import TypeVar

import grpc

from matching.domain.activity import ProviderRecord
from matching.domain.auction import amount_band
from matching.domain.clock import Clock
from matching.domain.errors import InvalidField
from matching.domain.events import ActionReported
from matching.domain.matching import CaseMatching, Status
from matching.domain.providers import Provider, new_provider
from matching.service_layer.handlers import Matching
from matching.service_layer.outgoing import timestamp
from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.errors import PermissionDenied, Unauthenticated

R = TypeVar("R")


def caller_tenant(kind: str) -> str:
    """The id of the calling provider or creditor; refused for anyone else."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind != kind or not caller.tenant_id:
        raise PermissionDenied(f"caller: only a {kind} may call this")
    return caller.tenant_id


def require_operator() -> None:
    """Only internal services (the gateway's back office) onboard providers."""
    caller = caller_var.get()
    if caller is not None and caller.kind not in ("service", "operator"):
        raise PermissionDenied("caller: only an operator may call this")


async def run(
    database: Database,
    context: grpc.aio.ServicerContext,
    work: Callable[[UnitOfWork], Awaitable[R]],
) -> R:
    """One command in one unit of work; a refusal reaches the caller as its status."""
    async with database.unit_of_work() as uow:
        result = await work(uow)
        await uow.commit()
        return result


def _case_id(raw: str) -> str:
    case_id = raw.strip()
    if not case_id:
        raise InvalidField("case_id", "is required")
    return case_id


def _assignment_reply(matching: CaseMatching) -> pb.AssignmentReply:
    reply = pb.AssignmentReply(
        case_id=matching.case.case_id, round=matching.round, status=matching.status.value
    )
    if matching.assignment is not None and matching.assignment.window_ends_at is not None:
        reply.window_ends_at.CopyFrom(timestamp(matching.assignment.window_ends_at))
    return reply


def _money(currency: str, minor: int) -> Money:
    return Money(currency=currency, minor_units=minor)


def _record(record: ProviderRecord) -> pb.ProviderRecord:
    return pb.ProviderRecord(
        segment=record.segment,
        cases_finished=record.finished,
        cases_recovered=record.recovered,
        recovery_rate=record.recovery_rate,
        amount_recovered_share=record.amount_recovered_share,
        average_days_to_recover=record.average_days_to_recover,
        offers_received=record.offers,
        offers_answered_in_time=record.offers_in_time,
    )


def _held_case(matching: CaseMatching) -> pb.HeldCase:
    assignment = matching.assignment
    assert assignment is not None
    currency = matching.case.currency
    held = pb.HeldCase(
        case_id=matching.case.case_id,
        round=matching.round,
        status=matching.status.value,
        fee_percent=str(assignment.fee_percent),
        fixed_fee=_money(currency, assignment.fixed_fee_minor),
        amount=_money(currency, matching.case.amount_minor),
        recovered=_money(currency, matching.recovered_minor),
    )
    if matching.status is Status.OFFERED:
        held.accept_by.CopyFrom(timestamp(assignment.accept_by))
    if assignment.window_ends_at is not None:
        held.window_ends_at.CopyFrom(timestamp(assignment.window_ends_at))
    return held


def _activity(matching: CaseMatching, actions: list[ActionReported]) -> pb.CaseActivity:
    currency = matching.case.currency
    activity = pb.CaseActivity(
        case_id=matching.case.case_id,
        status=matching.status.value,
        round=matching.round,
        recovered=_money(currency, matching.recovered_minor),
    )
    for action in actions:
        view = activity.actions.add(
            action_id=action.action_id,
            round=action.round,
            provider_id=action.provider_id,
            kind=action.kind,
            occurred_at=timestamp(action.occurred_at),
            note=action.note,
            promised_on="" if action.promised_on is None else action.promised_on.isoformat(),
        )
        if action.promised_amount_minor:
            view.promised_amount.CopyFrom(_money(currency, action.promised_amount_minor))
    for payment in matching.payments:
        activity.payments.add(
            payment_id=payment.payment_id,
            amount=_money(currency, payment.amount_minor),
            paid_on=payment.paid_on.isoformat(),
            source=payment.source,
            provider_id=payment.provider_id,
            round=payment.round,
        )
    return activity


def _quote_reply(
    matching: CaseMatching, provider: Provider | None, record: ProviderRecord | None = None
) -> pb.QuoteReply:
    reply = pb.QuoteReply(
        case_id=matching.case.case_id, round=matching.round, status=matching.status.value
    )
    quote = matching.quote
    if quote is not None:
        currency = matching.case.currency
        reply.provider_id = quote.provider_id
        reply.fee_percent = str(quote.fee_percent)
        reply.fixed_fee.CopyFrom(Money(currency=currency, minor_units=quote.fixed_fee_minor))
        reply.cost_on_full_recovery.CopyFrom(
            Money(currency=currency, minor_units=quote.cost_on_full_recovery_minor)
        )
        reply.expected_net_recovery.CopyFrom(
            Money(currency=currency, minor_units=quote.expected_net_minor)
        )
        reply.why = quote.why
        reply.provider_cases_finished = quote.cases_finished
        reply.provider_cases_recovered = quote.cases_recovered
        reply.recovery_probability = str(quote.recovery_probability.quantize(Decimal("0.0001")))
    if provider is not None:
        reply.provider_name = provider.name
        reply.provider_kind = provider.kind.value
    if record is not None:
        reply.provider_record.CopyFrom(_record(record))
    return reply


class BiddingApi(pb_grpc.BiddingServiceServicer):
    """The provider's side of the marketplace."""

    def __init__(
        self, database: Database, matching: Matching, clock: Clock, watch_poll_seconds: float = 0.5
    ) -> None:
        self.database = database
        self.matching = matching
        self.clock = clock
        self.watch_poll_seconds = watch_poll_seconds

    async def _open_auctions(self, uow: UnitOfWork, provider_id: str) -> list[pb.OpenAuction]:
        return self._views(await self.matching.open_auctions(uow, provider_id), provider_id)

    def _views(self, auctions: list[CaseMatching], provider_id: str) -> list[pb.OpenAuction]:
        today = self.clock.now().date()
        views = []
        for m in auctions:
            case = m.case
            overdue = (today - date.fromisoformat(case.due_date)).days if case.due_date else 0
            mine = m.bids.get(provider_id)
            views.append(
                pb.OpenAuction(
                    case_id=case.case_id,
                    round=m.round,
                    amount_band=amount_band(case.amount_minor, case.currency),
                    days_overdue=max(0, overdue),
                    segment=case.segment,
                    trustscore=case.trustscore,
                    reason_codes=list(case.reason_codes),
                    region=case.region,
                    debtor_type="business" if case.debtor_is_business else "consumer",
                    closes_at=timestamp(m.closes_at),
                    my_fee_percent="" if mine is None else str(mine.fee_percent),
                )
            )
        return views

    async def ListOpenAuctions(
        self, request: pb.ListOpenAuctionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOpenAuctionsResponse:
        async def work(uow: UnitOfWork) -> pb.ListOpenAuctionsResponse:
            auctions = await self._open_auctions(uow, caller_tenant("provider"))
            return pb.ListOpenAuctionsResponse(auctions=auctions)

        return await run(self.database, context, work)

    async def WatchAuctions(
        self, request: pb.ListOpenAuctionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.OpenAuction]:
        # Polls the database rather than this process's memory: an auction opened by any
        # replica reaches every watcher. Each poll reads only the keys of open auctions and
        # loads the state of the new ones.
        seen: set[tuple[str, int]] = set()
        provider_id = caller_tenant("provider")
        while True:
            async with self.database.unit_of_work() as uow:
                fresh, open_keys = await self.matching.auctions_opened_since(uow, provider_id, seen)
            # Forget closed rounds, so a long-lived stream does not grow without bound; a
            # round that opened between the two reads is remembered by what was sent.
            seen = open_keys | {(m.case.case_id, m.round) for m in fresh}
            for auction in self._views(fresh, provider_id):
                yield auction
            await asyncio.sleep(self.watch_poll_seconds)

    async def _bid(
        self, request: pb.BidRequest, context: grpc.aio.ServicerContext, *, replace: bool
    ) -> pb.BidReply:
        async def work(uow: UnitOfWork) -> pb.BidReply:
            provider_id = caller_tenant("provider")
            m = await self.matching.place_bid(
                uow,
                provider_id,
                _case_id(request.case_id),
                request.fee_percent,
                request.fixed_fee.minor_units,
                request.fixed_fee.currency,
                replace=replace,
            )
            bid = m.bids[provider_id]
            return pb.BidReply(
                case_id=m.case.case_id,
                round=m.round,
                fee_percent=str(bid.fee_percent),
                fixed_fee=Money(currency=m.case.currency, minor_units=bid.fixed_fee_minor),
                closes_at=timestamp(m.closes_at),
            )

        return await run(self.database, context, work)

    async def PlaceBid(
        self, request: pb.BidRequest, context: grpc.aio.ServicerContext
    ) -> pb.BidReply:
        return await self._bid(request, context, replace=False)

    async def ReplaceBid(
        self, request: pb.BidRequest, context: grpc.aio.ServicerContext
    ) -> pb.BidReply:
        return await self._bid(request, context, replace=True)

    async def WithdrawBid(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawBidReply:
        async def work(uow: UnitOfWork) -> pb.WithdrawBidReply:
            case_id = _case_id(request.case_id)
            await self.matching.withdraw_bid(uow, caller_tenant("provider"), case_id)
            return pb.WithdrawBidReply(case_id=case_id)

        return await run(self.database, context, work)

    async def SetAutoBidRule(
        self, request: pb.SetAutoBidRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetAutoBidRuleReply:
        async def work(uow: UnitOfWork) -> pb.SetAutoBidRuleReply:
            await self.matching.set_auto_bid_rule(
                uow,
                caller_tenant("provider"),
                request.name,
                fee_percent=request.fee_percent,
                fixed_fee_minor=request.fixed_fee_minor,
                segments=list(request.segments),
                min_trustscore=request.min_trustscore,
                min_amount_minor=request.min_amount_minor,
                max_amount_minor=request.max_amount_minor or None,
                debtor_types=list(request.debtor_types),
            )
            return pb.SetAutoBidRuleReply(name=request.name.strip())

        return await run(self.database, context, work)

    async def _assignment(
        self,
        request: pb.CaseRef,
        context: grpc.aio.ServicerContext,
        action: Callable[[UnitOfWork, str, str], Awaitable[CaseMatching]],
    ) -> pb.AssignmentReply:
        async def work(uow: UnitOfWork) -> pb.AssignmentReply:
            m = await action(uow, caller_tenant("provider"), _case_id(request.case_id))
            return _assignment_reply(m)

        return await run(self.database, context, work)

    async def AcceptAssignment(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        return await self._assignment(request, context, self.matching.accept_assignment)

    async def DeclineAssignment(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        return await self._assignment(request, context, self.matching.decline_assignment)

    async def ReportPromiseToPay(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        return await self._assignment(request, context, self.matching.promise_to_pay)

    async def ReleaseCase(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        return await self._assignment(request, context, self.matching.release_case)

    async def ReportAction(
        self, request: pb.ReportActionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportActionReply:
        async def work(uow: UnitOfWork) -> pb.ReportActionReply:
            m, action_id = await self.matching.report_action(
                uow,
                caller_tenant("provider"),
                _case_id(request.case_id),
                kind=request.kind,
                occurred_at=(
                    request.occurred_at.ToDatetime(tzinfo=UTC)
                    if request.HasField("occurred_at")
                    else None
                ),
                note=request.note,
                promised_amount_minor=request.promised_amount.minor_units,
                promised_currency=request.promised_amount.currency,
                promised_on=request.promised_on,
            )
            reply = pb.ReportActionReply(case_id=m.case.case_id, action_id=action_id, round=m.round)
            if m.assignment is not None and m.assignment.window_ends_at is not None:
                reply.window_ends_at.CopyFrom(timestamp(m.assignment.window_ends_at))
            return reply

        return await run(self.database, context, work)

    async def ReportPayment(
        self, request: pb.ReportPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportPaymentReply:
        async def work(uow: UnitOfWork) -> pb.ReportPaymentReply:
            m, payment = await self.matching.report_payment(
                uow,
                caller_tenant("provider"),
                _case_id(request.case_id),
                amount_minor=request.amount.minor_units,
                currency=request.amount.currency,
                paid_on=request.paid_on,
                settles_in_full=request.settles_in_full,
                reference=request.reference,
            )
            return pb.ReportPaymentReply(
                case_id=m.case.case_id,
                payment_id=payment.payment_id,
                attributed_to=payment.provider_id,
                status=m.status.value,
            )

        return await run(self.database, context, work)

    async def ListAssignments(
        self, request: pb.ListAssignmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssignmentsResponse:
        async def work(uow: UnitOfWork) -> pb.ListAssignmentsResponse:
            held = await self.matching.assignments(uow, caller_tenant("provider"))
            return pb.ListAssignmentsResponse(cases=[_held_case(m) for m in held])

        return await run(self.database, context, work)


class QuoteApi(pb_grpc.QuoteServiceServicer):
    """The creditor's side: quotes and standing policy."""

    def __init__(self, database: Database, matching: Matching) -> None:
        self.database = database
        self.matching = matching

    async def GetQuote(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.QuoteReply:
        async def work(uow: UnitOfWork) -> pb.QuoteReply:
            creditor_id = caller_tenant("creditor")
            m = await self.matching.quote(uow, creditor_id, _case_id(request.case_id))
            return _quote_reply(
                m,
                await self.matching.quoted_provider(uow, m),
                await self.matching.quoted_record(uow, m),
            )

        return await run(self.database, context, work)

    async def _answer(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext, *, accept: bool
    ) -> pb.QuoteReply:
        async def work(uow: UnitOfWork) -> pb.QuoteReply:
            creditor_id = caller_tenant("creditor")
            m = await self.matching.answer_quote(
                uow, creditor_id, _case_id(request.case_id), accept=accept
            )
            return _quote_reply(
                m,
                await self.matching.quoted_provider(uow, m),
                await self.matching.quoted_record(uow, m),
            )

        return await run(self.database, context, work)

    async def AcceptQuote(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.QuoteReply:
        return await self._answer(request, context, accept=True)

    async def DeclineQuote(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.QuoteReply:
        return await self._answer(request, context, accept=False)

    async def SetCreditorPolicy(
        self, request: pb.SetCreditorPolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetCreditorPolicyReply:
        async def work(uow: UnitOfWork) -> pb.SetCreditorPolicyReply:
            await self.matching.set_policy(
                uow,
                caller_tenant("creditor"),
                max_fee_percent=request.max_fee_percent,
                auto_accept_below_percent=request.auto_accept_below_percent,
                window_days=request.window_days,
                excluded_providers=list(request.excluded_providers),
            )
            return pb.SetCreditorPolicyReply()

        return await run(self.database, context, work)

    async def GetCaseActivity(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.CaseActivity:
        async def work(uow: UnitOfWork) -> pb.CaseActivity:
            m, actions = await self.matching.case_activity(
                uow, caller_tenant("creditor"), _case_id(request.case_id)
            )
            return _activity(m, actions)

        return await run(self.database, context, work)


class ProviderDirectoryApi(pb_grpc.ProviderDirectoryServiceServicer):
    """Onboarding of providers by operators."""

    def __init__(self, database: Database, matching: Matching) -> None:
        self.database = database
        self.matching = matching

    async def RegisterProvider(
        self, request: pb.RegisterProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterProviderReply:
        async def work(uow: UnitOfWork) -> pb.RegisterProviderReply:
            require_operator()
            provider = new_provider(
                provider_id=request.provider_id,
                name=request.name,
                kind=request.kind,
                siren=request.siren,
                regions=list(request.regions),
                serves_business=request.serves_business,
                serves_consumer=request.serves_consumer,
                min_amount_minor=request.min_amount_minor,
                max_amount_minor=request.max_amount_minor,
                judicial=request.judicial,
                capacity=request.capacity,
            )
            await self.matching.register_provider(uow, provider)
            return pb.RegisterProviderReply(provider_id=provider.provider_id)

        return await run(self.database, context, work)
