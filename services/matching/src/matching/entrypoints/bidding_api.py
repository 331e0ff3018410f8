"""The provider's side of the marketplace over gRPC: requests to commands, results to replies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC

import grpc

from matching.domain.case_matching import CaseMatching
from matching.domain.case_state import PaymentClaim
from matching.domain.clock import Clock
from matching.domain.commands import (
    AcceptAssignment,
    DeclineAssignment,
    DeleteAutoBidRule,
    PlaceBid,
    PromiseToPay,
    ReleaseCase,
    ReportAction,
    ReportPayment,
    SetAutoBidRule,
    WithdrawBid,
)
from matching.domain.rules import MatchingConfig
from matching.entrypoints import replies
from matching.entrypoints.callers import caller_tenant, required_case_id
from matching.entrypoints.command_runner import CommandRunner
from matching.service_layer import provider_commands
from matching.service_layer.outgoing import timestamp
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.percentages import percent_field, to_percentage


class BiddingApi(pb_grpc.BiddingServiceServicer):
    """Bids, standing rules, the cases a provider is offered or holds, what it reports."""

    def __init__(
        self,
        units: Callable[[], MatchingUnitOfWork],
        clock: Clock,
        config: MatchingConfig,
        watch_poll_seconds: float = 0.5,
    ) -> None:
        self.units = units
        self.clock = clock
        self.run = CommandRunner(units, clock, config)
        self.watch_poll_seconds = watch_poll_seconds

    async def ListOpenAuctions(
        self, request: pb.ListOpenAuctionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOpenAuctionsResponse:
        provider_id = caller_tenant("provider")
        async with self.units() as uow:
            auctions = await provider_commands.open_auctions(provider_id, uow, clock=self.clock)
        return pb.ListOpenAuctionsResponse(
            auctions=replies.open_auctions(auctions, provider_id, self.clock.now().date())
        )

    async def WatchAuctions(
        self, request: pb.ListOpenAuctionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.OpenAuction]:
        # Polls the database rather than this process's memory: an auction opened by any
        # replica reaches every watcher. Each poll reads only the keys of open auctions and
        # loads the state of the new ones.
        seen: set[tuple[str, int]] = set()
        provider_id = caller_tenant("provider")
        while True:
            async with self.units() as uow:
                fresh, open_keys = await provider_commands.auctions_opened_since(
                    provider_id, seen, uow, clock=self.clock
                )
            # Forget closed rounds, so a long-lived stream does not grow without bound; a
            # round that opened between the two reads is remembered by what was sent.
            seen = open_keys | {(m.case.case_id, m.round) for m in fresh}
            for auction in replies.open_auctions(fresh, provider_id, self.clock.now().date()):
                yield auction
            await asyncio.sleep(self.watch_poll_seconds)

    async def _bid(self, request: pb.BidRequest, *, replace: bool) -> pb.BidReply:
        command = PlaceBid(
            provider_id=caller_tenant("provider"),
            case_id=required_case_id(request.case_id),
            fee_percent=percent_field(request, "fee"),
            fixed_fee_minor=request.fixed_fee.minor_units,
            fixed_fee_currency=request.fixed_fee.currency,
            replace=replace,
            fee_base=request.fee_base,
        )

        def reply(m: CaseMatching) -> pb.BidReply:
            bid = m.bids[command.provider_id]
            return pb.BidReply(
                case_id=m.case.case_id,
                round=m.round,
                fee=to_percentage(bid.fee_percent),
                fixed_fee=Money(currency=m.case.currency, minor_units=bid.fixed_fee_minor),
                closes_at=timestamp(m.closes_at),
                fee_base=bid.fee_base,
            )

        return await self.run.answer(
            provider_commands.place_bid, command, request, reply, pb.BidReply
        )

    async def PlaceBid(
        self, request: pb.BidRequest, context: grpc.aio.ServicerContext
    ) -> pb.BidReply:
        return await self._bid(request, replace=False)

    async def ReplaceBid(
        self, request: pb.BidRequest, context: grpc.aio.ServicerContext
    ) -> pb.BidReply:
        return await self._bid(request, replace=True)

    async def WithdrawBid(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawBidReply:
        case_id = required_case_id(request.case_id)
        command = WithdrawBid(provider_id=caller_tenant("provider"), case_id=case_id)
        return await self.run.answer(
            provider_commands.withdraw_bid,
            command,
            request,
            lambda _: pb.WithdrawBidReply(case_id=case_id),
            pb.WithdrawBidReply,
        )

    async def SetAutoBidRule(
        self, request: pb.SetAutoBidRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetAutoBidRuleReply:
        command = SetAutoBidRule(
            provider_id=caller_tenant("provider"),
            name=request.name,
            fee_percent=percent_field(request, "fee"),
            fixed_fee_minor=request.fixed_fee_minor,
            segments=tuple(request.segments),
            min_trustscore=request.min_trustscore,
            min_amount_minor=request.min_amount_minor,
            max_amount_minor=request.max_amount_minor or None,
            debtor_types=tuple(request.debtor_types),
        )
        return await self.run.answer(
            provider_commands.set_auto_bid_rule,
            command,
            request,
            lambda name: pb.SetAutoBidRuleReply(name=name),
            pb.SetAutoBidRuleReply,
        )

    async def ListAutoBidRules(
        self, request: pb.ListAutoBidRulesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAutoBidRulesReply:
        provider_id = caller_tenant("provider")
        async with self.units() as uow:
            named = await provider_commands.auto_bid_rules(provider_id, uow)
        return pb.ListAutoBidRulesReply(
            rules=[
                pb.AutoBidRule(
                    name=name,
                    fee=to_percentage(rule.fee_percent),
                    fixed_fee_minor=rule.fixed_fee_minor,
                    segments=sorted(rule.segments),
                    min_trustscore=rule.min_trustscore,
                    min_amount_minor=rule.min_amount_minor,
                    max_amount_minor=rule.max_amount_minor or 0,
                    debtor_types=sorted(rule.debtor_types),
                )
                for name, rule in named
            ]
        )

    async def GetOwnRecord(
        self, request: pb.GetOwnRecordRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOwnRecordReply:
        provider_id = caller_tenant("provider")
        async with self.units() as uow:
            records = await provider_commands.own_record(provider_id, uow)
        return pb.GetOwnRecordReply(records=[replies.provider_record(r) for r in records])

    async def DeleteAutoBidRule(
        self, request: pb.DeleteAutoBidRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAutoBidRuleReply:
        command = DeleteAutoBidRule(provider_id=caller_tenant("provider"), name=request.name)
        return await self.run.answer(
            provider_commands.delete_auto_bid_rule,
            command,
            request,
            lambda name: pb.DeleteAutoBidRuleReply(name=name),
            pb.DeleteAutoBidRuleReply,
        )

    async def AcceptAssignment(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        command = AcceptAssignment(caller_tenant("provider"), required_case_id(request.case_id))
        return await self.run.answer(
            provider_commands.accept_assignment,
            command,
            request,
            replies.assignment_reply,
            pb.AssignmentReply,
        )

    async def DeclineAssignment(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        command = DeclineAssignment(caller_tenant("provider"), required_case_id(request.case_id))
        return await self.run.answer(
            provider_commands.decline_assignment,
            command,
            request,
            replies.assignment_reply,
            pb.AssignmentReply,
        )

    async def ReportPromiseToPay(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        command = PromiseToPay(caller_tenant("provider"), required_case_id(request.case_id))
        return await self.run.answer(
            provider_commands.promise_to_pay,
            command,
            request,
            replies.assignment_reply,
            pb.AssignmentReply,
        )

    async def ReleaseCase(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.AssignmentReply:
        command = ReleaseCase(caller_tenant("provider"), required_case_id(request.case_id))
        return await self.run.answer(
            provider_commands.release_case,
            command,
            request,
            replies.assignment_reply,
            pb.AssignmentReply,
        )

    async def ReportAction(
        self, request: pb.ReportActionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportActionReply:
        command = ReportAction(
            provider_id=caller_tenant("provider"),
            case_id=required_case_id(request.case_id),
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

        def reply(reported: tuple[CaseMatching, str]) -> pb.ReportActionReply:
            m, action_id = reported
            answer = pb.ReportActionReply(
                case_id=m.case.case_id, action_id=action_id, round=m.round
            )
            if m.assignment is not None and m.assignment.window_ends_at is not None:
                answer.window_ends_at.CopyFrom(timestamp(m.assignment.window_ends_at))
            return answer

        return await self.run.answer(
            provider_commands.report_action, command, request, reply, pb.ReportActionReply
        )

    async def ReportPayment(
        self, request: pb.ReportPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportPaymentReply:
        command = ReportPayment(
            provider_id=caller_tenant("provider"),
            case_id=required_case_id(request.case_id),
            amount_minor=request.amount.minor_units,
            currency=request.amount.currency,
            paid_on=request.paid_on,
            settles_in_full=request.settles_in_full,
            reference=request.reference,
        )

        def reply(reported: tuple[CaseMatching, PaymentClaim]) -> pb.ReportPaymentReply:
            m, claim = reported
            return pb.ReportPaymentReply(
                case_id=m.case.case_id,
                payment_id=claim.claim_id,
                attributed_to=claim.provider_id,
                status=m.status.value,
                claim_state=claim.state.value,
            )

        return await self.run.answer(
            provider_commands.report_payment, command, request, reply, pb.ReportPaymentReply
        )

    async def ListPaymentClaims(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.ListPaymentClaimsResponse:
        provider_id = caller_tenant("provider")
        case_id = required_case_id(request.case_id)
        async with self.units() as uow:
            m, claims = await provider_commands.payment_claims(provider_id, case_id, uow)
        currency = m.case.currency
        return pb.ListPaymentClaimsResponse(
            claims=[replies.payment_claim(c, currency) for c in claims]
        )

    async def ListAssignments(
        self, request: pb.ListAssignmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssignmentsResponse:
        provider_id = caller_tenant("provider")
        async with self.units() as uow:
            held = await provider_commands.held_cases(provider_id, uow)
        return pb.ListAssignmentsResponse(cases=[replies.held_case(m) for m in held])
