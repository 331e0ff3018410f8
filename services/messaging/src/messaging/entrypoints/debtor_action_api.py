"""DebtorActionService over gRPC: the case's creditor and holder read what the debtor recorded,
decide pending instalment plans; the creditor sets its instalment policy.

Who calls is the verified token (`caller_var`): a creditor (tenant = its id) or a provider
(tenant = its id, holding the case now). Anyone else, and a foreign case or plan, is NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc

from messaging.domain.clock import Clock
from messaging.domain.instalments import DEFAULT_POLICY, InstalmentPlan, InstalmentPolicy
from messaging.entrypoints.debtor_replies import (
    actions_reply,
    dispute_reply,
    plan_reply,
    policy_reply,
    promise_reply,
)
from messaging.service_layer import debtor_actions, holdings, portal
from messaging.service_layer.portal import (
    PortalSources,
    Units,
    parse_day,
    parse_period,
    recorded_actions,
)
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra.messaging.v1 import portal_pb2_grpc
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import NotFound, PermissionDenied, Unauthenticated

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DebtorActionService"].full_name
HOLDER = "holder"


def _party() -> Caller:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind not in ("creditor", "provider") or not caller.tenant_id:
        raise NotFound("case_id: no such case")
    return caller


async def part_on_case(uow: MessagingUnitOfWork, caller: Caller, case_id: str) -> str | None:
    """ "creditor" or "holder" when the caller is that on the case now; None otherwise."""
    contact = await uow.contacts.get(case_id)
    if contact is None:
        return None
    if caller.kind == "creditor" and contact.creditor_id == caller.tenant_id:
        return "creditor"
    if caller.kind == "provider":
        holding = await uow.holders.current(case_id)
        if holding is not None and holding.holder_id == caller.tenant_id:
            return HOLDER
    return None


def _provider() -> str:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind != "provider" or not caller.tenant_id:
        raise NotFound("case_id: no such case")
    return caller.tenant_id


@contextmanager
def _as_messaging() -> Iterator[None]:
    """The case's facts (intake) and documents (the vault) are read as messaging itself."""
    token = caller_var.set(None)
    try:
        yield
    finally:
        caller_var.reset(token)


class DebtorActionApi(portal_pb2_grpc.DebtorActionServiceServicer):
    """The DebtorActionService servicer."""

    def __init__(self, units: Units, clock: Clock, sources: PortalSources) -> None:
        self.units, self.clock, self.sources = units, clock, sources

    async def _holds(self, case_id: str) -> str:
        """Only the provider holding the case now, as matching's facts say; else NOT_FOUND (checked
        again where the action is recorded)."""
        provider_id = _provider()
        async with self.units() as uow:
            await holdings.held_by(uow, case_id, provider_id)
        return provider_id

    async def RecordDispute(
        self, request: pb.RecordDisputeRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dispute:
        holder_id = await self._holds(request.case_id)
        with _as_messaging():
            dispute = await portal.dispute(
                self.units,
                self.sources,
                case_id=request.case_id,
                reason=request.reason,
                text=request.text,
                evidence_ids=tuple(request.evidence_document_ids),
                now=self.clock.now(),
                by=HOLDER,
                holder_id=holder_id,
            )
        return dispute_reply(dispute)

    async def RecordPromise(
        self, request: pb.RecordPromiseRequest, context: grpc.aio.ServicerContext
    ) -> pb.Promise:
        holder_id = await self._holds(request.case_id)
        with _as_messaging():
            promise = await portal.promise(
                self.units,
                self.sources.cases,
                case_id=request.case_id,
                amount_minor=request.amount.minor_units,
                currency=request.amount.currency,
                promised_on=parse_day(request.promised_on, "promised_on"),
                now=self.clock.now(),
                by=HOLDER,
                holder_id=holder_id,
            )
        return promise_reply(promise)

    async def RecordPlanProposal(
        self, request: pb.RecordPlanProposalRequest, context: grpc.aio.ServicerContext
    ) -> pb.InstalmentPlan:
        holder_id = await self._holds(request.case_id)
        with _as_messaging():
            plan = await portal.propose(
                self.units,
                self.sources.cases,
                case_id=request.case_id,
                count=request.count,
                first_due_on=parse_day(request.first_due_on, "first_due_on"),
                period=parse_period(request.period),
                now=self.clock.now(),
                by=HOLDER,
                holder_id=holder_id,
            )
        return plan_reply(plan)

    async def ListDebtorActions(
        self, request: pb.ListDebtorActionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.DebtorActions:
        caller = _party()
        async with self.units() as uow:
            if await part_on_case(uow, caller, request.case_id) is None:
                raise NotFound("case_id: no such case")
            return actions_reply(await recorded_actions(uow, request.case_id))

    async def DecidePlan(
        self, request: pb.DecidePlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.InstalmentPlan:
        caller = _party()

        async def callers_part(uow: MessagingUnitOfWork, plan: InstalmentPlan) -> str | None:
            return await part_on_case(uow, caller, plan.case_id)

        async with self.units() as uow:
            plan = await debtor_actions.decide_plan(
                uow,
                plan_id=request.plan_id,
                may_decide=callers_part,
                accept=request.accept,
                now=self.clock.now(),
            )
        return plan_reply(plan)

    async def ResolveDispute(
        self, request: pb.ResolveDisputeRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dispute:
        caller = _party()
        async with self.units() as uow:
            if await part_on_case(uow, caller, request.case_id) is None:
                raise NotFound("case_id: no such case")
            dispute = await debtor_actions.resolve_dispute(
                uow, case_id=request.case_id, dispute_id=request.dispute_id, now=self.clock.now()
            )
        return dispute_reply(dispute)

    async def GetInstalmentPolicy(
        self, request: pb.GetInstalmentPolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.InstalmentPolicy:
        creditor_id = _creditor()
        async with self.units() as uow:
            return policy_reply(await uow.instalments.policy(creditor_id) or DEFAULT_POLICY)

    async def SetInstalmentPolicy(
        self, request: pb.InstalmentPolicy, context: grpc.aio.ServicerContext
    ) -> pb.InstalmentPolicy:
        creditor_id = _creditor()
        policy = InstalmentPolicy(
            max_instalments=request.max_instalments,
            min_instalment_minor=request.min_instalment.minor_units,
            max_first_delay_days=request.max_first_delay_days,
            grace_days=request.grace_days,
        ).checked()
        async with self.units() as uow:
            await uow.instalments.set_policy(creditor_id, policy)
            await uow.commit()
        return policy_reply(policy)


def _creditor() -> str:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind != "creditor" or not caller.tenant_id:
        raise PermissionDenied("caller: only a creditor sets its instalment policy")
    return caller.tenant_id


def register(api: DebtorActionApi) -> Callable[[grpc.aio.Server], None]:
    """Adds the servicer to a server (for `ServiceParts.grpc_services`)."""
    return lambda server: portal_pb2_grpc.add_DebtorActionServiceServicer_to_server(api, server)
