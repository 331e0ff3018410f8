"""PortalService over gRPC: the gateway's portal pages call it for a debtor holding a signed link.

Only the gateway may call (as itself, or naming a debtor). The debtor is known by the link and
then by the session, never by the caller's token: each request's session names the one case it
may touch. The case's facts are read from intake and settlement as messaging itself (the caller
is cleared for those calls: only the gateway names a person).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import grpc

from messaging.domain.clock import Clock
from messaging.domain.outgoing import Channel
from messaging.domain.portal_sessions import session_case, session_expiry
from messaging.entrypoints.debtor_replies import (
    declaration_reply,
    dispute_reply,
    money,
    plan_reply,
    promise_reply,
)
from messaging.service_layer import portal
from messaging.service_layer.portal import PortalSources, Units, parse_day, parse_period
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra.messaging.v1 import portal_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import InvalidField, PermissionDenied, Unauthenticated

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PortalService"].full_name
# Services that serve the debtor portal's pages.
SERVICES_SERVING_THE_PORTAL = frozenset({"gateway"})
DEBTOR = "debtor"
CHANNELS = {channel.value: channel for channel in Channel}


@asynccontextmanager
async def as_messaging() -> AsyncIterator[None]:
    """Checks the caller is the gateway, then clears it: the facts are read as messaging."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    gateway = caller.kind == "service" and caller.subject in SERVICES_SERVING_THE_PORTAL
    if not gateway and caller.kind != DEBTOR:
        raise PermissionDenied("caller: only the gateway serves the debtor portal")
    token = caller_var.set(None)
    try:
        yield
    finally:
        caller_var.reset(token)


class PortalApi(portal_pb2_grpc.PortalServiceServicer):
    """The PortalService servicer."""

    def __init__(
        self, units: Units, sources: PortalSources, clock: Clock, secret: Callable[[], bytes]
    ) -> None:
        self.units, self.sources, self.clock, self.secret = units, sources, clock, secret

    def _case(self, session: str, now: datetime) -> str:
        if not session:
            raise PermissionDenied("session: required; open the portal link first")
        return session_case(session, now, self.secret())

    async def OpenPortal(
        self, request: pb.OpenPortalRequest, context: grpc.aio.ServicerContext
    ) -> pb.PortalSession:
        async with as_messaging():
            session = await portal.open_portal(
                self.units,
                self.sources.cases,
                token=request.token,
                answer=request.second_factor,
                now=self.clock.now(),
                secret=self.secret(),
            )
        return pb.PortalSession(session=session, expires_at=session_expiry(session).isoformat())

    async def GetClaim(
        self, request: pb.GetClaimRequest, context: grpc.aio.ServicerContext
    ) -> pb.Claim:
        async with as_messaging():
            case_id = self._case(request.session, self.clock.now())
            view = await portal.claim(self.units, self.sources, case_id)
        facts, pay = view.facts, view.payment
        currency = facts.amounts.currency
        return pb.Claim(
            case_id=case_id,
            creditor_id=facts.creditor_id,
            debtor_name=facts.debtor.party.name,
            invoices=[
                pb.ClaimInvoice(
                    number=i.number,
                    issue_date=i.issue_date,
                    due_date=i.due_date,
                    amount_due=money(i.amount_due_minor, currency),
                )
                for i in facts.invoices
            ],
            as_of=facts.amounts.as_of,
            principal=money(facts.amounts.principal_minor, currency),
            interest=money(facts.amounts.interest_minor, currency),
            other_sums=money(facts.amounts.other_sums_minor, currency),
            total=money(facts.amounts.total_minor, currency),
            how_to_pay=pb.PaymentInstructions(
                beneficiary=pay.beneficiary,
                iban=pay.iban,
                iban_formatted=pay.iban_formatted,
                bic=pay.bic,
                reference=pay.reference,
                reference_formatted=pay.reference_formatted,
                amount=money(pay.amount_minor, pay.currency),
                epc_qr_payload=pay.epc_qr_payload,
            ),
            plans=[plan_reply(p) for p in view.plans],
            promises=[promise_reply(p) for p in view.promises],
            disputes=[dispute_reply(d) for d in view.disputes],
            declarations=[declaration_reply(d) for d in view.declarations],
            refused_channels=sorted(c.value for c in view.refused_channels),
        )

    async def ProposePlan(
        self, request: pb.ProposePlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.InstalmentPlan:
        async with as_messaging():
            now = self.clock.now()
            case_id = self._case(request.session, now)
            plan = await portal.propose(
                self.units,
                self.sources.cases,
                case_id=case_id,
                count=request.count,
                first_due_on=parse_day(request.first_due_on, "first_due_on"),
                period=parse_period(request.period),
                now=now,
            )
        return plan_reply(plan)

    async def PromisePayment(
        self, request: pb.PromisePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Promise:
        async with as_messaging():
            now = self.clock.now()
            case_id = self._case(request.session, now)
            promise = await portal.promise(
                self.units,
                self.sources.cases,
                case_id=case_id,
                amount_minor=request.amount.minor_units,
                currency=request.amount.currency,
                promised_on=parse_day(request.promised_on, "promised_on"),
                now=now,
            )
        return promise_reply(promise)

    async def OpenDispute(
        self, request: pb.OpenDisputeRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dispute:
        async with as_messaging():
            now = self.clock.now()
            case_id = self._case(request.session, now)
            dispute = await portal.dispute(
                self.units,
                self.sources,
                case_id=case_id,
                reason=request.reason,
                text=request.text,
                evidence_ids=tuple(request.evidence_document_ids),
                now=now,
            )
        return dispute_reply(dispute)

    async def DeclarePayment(
        self, request: pb.DeclarePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.PaymentDeclaration:
        async with as_messaging():
            now = self.clock.now()
            case_id = self._case(request.session, now)
            declaration = await portal.declare(
                self.units,
                self.sources,
                case_id=case_id,
                amount_minor=request.amount.minor_units,
                currency=request.amount.currency,
                paid_on=parse_day(request.paid_on, "paid_on"),
                proof_document_id=request.proof_document_id,
                now=now,
                method=request.method,
                reference=request.reference,
            )
        return declaration_reply(declaration)

    async def SetContactPreferences(
        self, request: pb.SetContactPreferencesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ContactPreferences:
        async with as_messaging():
            now = self.clock.now()
            case_id = self._case(request.session, now)
            unknown = [c for c in request.refused_channels if c not in CHANNELS]
            if unknown:
                raise InvalidField("refused_channels", "email or sms")
            refused = await portal.refuse_channels(
                self.units,
                case_id=case_id,
                channels=[CHANNELS[c] for c in request.refused_channels],
                now=now,
            )
        return pb.ContactPreferences(refused_channels=sorted(c.value for c in refused))


def register(api: PortalApi) -> Callable[[grpc.aio.Server], None]:
    """Adds the servicer to a server (for `ServiceParts.grpc_services`)."""
    return lambda server: portal_pb2_grpc.add_PortalServiceServicer_to_server(api, server)
