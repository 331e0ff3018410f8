"""The creditor's side over gRPC: quotes, answers to them, standing policy, case activity and
its answers to the payments providers claim."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from matching.domain.case_state import ConfirmedBy
from matching.domain.clock import Clock
from matching.domain.commands import (
    AnswerQuote,
    ConfirmPayment,
    DisputePayment,
    SetCreditorPolicy,
)
from matching.domain.rules import MatchingConfig
from matching.entrypoints import replies
from matching.entrypoints.callers import caller_tenant, required_case_id
from matching.entrypoints.command_runner import CommandRunner
from matching.service_layer import creditor_commands, payment_claims
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.percentages import percent_field


class QuoteApi(pb_grpc.QuoteServiceServicer):
    """The creditor's side: quotes and standing policy."""

    def __init__(
        self, units: Callable[[], MatchingUnitOfWork], clock: Clock, config: MatchingConfig
    ) -> None:
        self.units = units
        self.clock = clock
        self.config = config
        self.run = CommandRunner(units, clock, config)

    async def GetQuote(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.QuoteReply:
        creditor_id = caller_tenant("creditor")
        case_id = required_case_id(request.case_id)
        async with self.units() as uow:
            view = await creditor_commands.quote(creditor_id, case_id, uow)
        return replies.quote_reply(view)

    async def ListProviderResults(
        self, request: pb.ListProviderResultsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListProviderResultsReply:
        creditor_id = caller_tenant("creditor")
        async with self.units() as uow:
            named, read = await creditor_commands.provider_results(creditor_id, uow)
        return pb.ListProviderResultsReply(
            results=[
                pb.ProviderResult(
                    provider_id=result.provider_id,
                    provider_name=name,
                    cases_finished=result.finished,
                    cases_recovered=result.recovered,
                    recovery_rate=result.recovery_rate,
                    average_days_to_recover=result.average_days_to_recover,
                    recovered=Money(currency="EUR", minor_units=result.recovered_minor),
                )
                for result, name in named
            ],
            cases_read=read,
        )

    async def _answer(self, request: pb.CaseRef, *, accept: bool) -> pb.QuoteReply:
        command = AnswerQuote(
            caller_tenant("creditor"), required_case_id(request.case_id), accept=accept
        )
        return await self.run.answer(
            creditor_commands.answer_quote, command, request, replies.quote_reply, pb.QuoteReply
        )

    async def AcceptQuote(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.QuoteReply:
        return await self._answer(request, accept=True)

    async def DeclineQuote(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.QuoteReply:
        return await self._answer(request, accept=False)

    async def SetCreditorPolicy(
        self, request: pb.SetCreditorPolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetCreditorPolicyReply:
        command = SetCreditorPolicy(
            creditor_id=caller_tenant("creditor"),
            max_fee_percent=percent_field(request, "max_fee"),
            auto_accept_below_percent=percent_field(request, "auto_accept_below"),
            window_days=request.window_days,
            excluded_providers=tuple(request.excluded_providers),
        )
        async with self.units() as uow:
            await creditor_commands.set_policy(command, uow, clock=self.clock, config=self.config)
            await uow.commit()
        return pb.SetCreditorPolicyReply()

    async def GetCaseActivity(
        self, request: pb.CaseRef, context: grpc.aio.ServicerContext
    ) -> pb.CaseActivity:
        creditor_id = caller_tenant("creditor")
        case_id = required_case_id(request.case_id)
        async with self.units() as uow:
            m, actions = await creditor_commands.case_activity(creditor_id, case_id, uow)
        return replies.case_activity(m, actions)

    async def ConfirmPayment(
        self, request: pb.PaymentClaimRef, context: grpc.aio.ServicerContext
    ) -> pb.PaymentClaimReply:
        command = ConfirmPayment(
            case_id=required_case_id(request.case_id),
            claim_id=request.claim_id,
            by=ConfirmedBy.CREDITOR,
            creditor_id=caller_tenant("creditor"),
        )
        return await self.run.answer(
            payment_claims.confirm_payment,
            command,
            request,
            lambda done: replies.payment_claim_reply(*done),
            pb.PaymentClaimReply,
        )

    async def DisputePayment(
        self, request: pb.DisputePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.PaymentClaimReply:
        command = DisputePayment(
            creditor_id=caller_tenant("creditor"),
            case_id=required_case_id(request.case_id),
            claim_id=request.claim_id,
            reason=request.reason,
        )
        return await self.run.answer(
            payment_claims.dispute_payment,
            command,
            request,
            lambda done: replies.payment_claim_reply(*done),
            pb.PaymentClaimReply,
        )
