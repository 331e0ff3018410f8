"""DebtorActionService over gRPC: the case's creditor and holder read what the debtor recorded,
decide pending instalment plans; the creditor sets its instalment policy.

Who calls is the verified token (`caller_var`): a creditor (tenant = its id) or a provider
(tenant = its id, holding the case now). Anyone else, and a foreign case or plan, is NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from messaging.domain.clock import Clock
from messaging.domain.instalments import DEFAULT_POLICY, InstalmentPlan, InstalmentPolicy
from messaging.domain.plans import PlanStatus
from messaging.entrypoints.debtor_replies import (
    actions_reply,
    dispute_reply,
    plan_reply,
    policy_reply,
)
from messaging.service_layer import debtor_actions
from messaging.service_layer.portal import Units, recorded_actions
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra.messaging.v1 import portal_pb2_grpc
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import NotFound, PermissionDenied, Unauthenticated

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DebtorActionService"].full_name
LIVE = (PlanStatus.ACTIVE, PlanStatus.PAUSED)


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
        plans = await uow.plans.of_case(case_id)
        if any(p.holder_id == caller.tenant_id and p.status in LIVE for p in plans):
            return "holder"
    return None


class DebtorActionApi(portal_pb2_grpc.DebtorActionServiceServicer):
    """The DebtorActionService servicer."""

    def __init__(self, units: Units, clock: Clock) -> None:
        self.units, self.clock = units, clock

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
