"""The debtor portal's back ends as the gateway's portal pages use them: messaging's
PortalService (called as the gateway itself: the debtor is known by its link, then by the
session messaging gave, never by the gateway's token) and settlement's PaymentLinks (called as
the debtor of the one case a valid session named, so settlement applies its own rule: a debtor
gets links for its own case only)."""

from __future__ import annotations

from typing import Any

from gateway.adapters.calls import unary
from recouvra.common.v1.money_pb2 import Money
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller

AS_GATEWAY = Caller(kind="service", subject="gateway")
NO_CASE = "case: no such case"


def as_debtor(case_id: str, creditor_id: str = "") -> Caller:
    """The debtor of `case_id` (subject: the case), as settlement's payment links and the vault
    know it; the vault shows it the documents `creditor_id` shares on that case only."""
    return Caller(kind="debtor", subject=case_id, tenant_id=creditor_id or None)


class PortalClient:
    """PortalService (generated stub, untyped) and PaymentLinks (idem) for the portal pages."""

    def __init__(self, portal: Any, payment_links: Any, debtor_actions: Any = None) -> None:
        self.portal = portal
        self.payment_links = payment_links
        self.debtor_actions = debtor_actions  # DebtorActionService, for the creditor's case page

    async def actions(self, caller: Caller, case_id: str) -> pb.DebtorActions:
        """What the debtor recorded on a case, for its creditor (anyone else: NOT_FOUND)."""
        request = pb.ListDebtorActionsRequest(case_id=case_id)
        found: pb.DebtorActions = await unary(
            self.debtor_actions.ListDebtorActions, request, caller, NO_CASE
        )
        return found

    async def open(self, token: str, second_factor: str) -> pb.PortalSession:
        """A 30-minute session for the link's case once the second factor is right."""
        request = pb.OpenPortalRequest(token=token, second_factor=second_factor)
        found: pb.PortalSession = await unary(self.portal.OpenPortal, request, AS_GATEWAY)
        return found

    async def claim(self, session: str) -> pb.Claim:
        """What is owed, how to pay, and what the debtor recorded so far."""
        request = pb.GetClaimRequest(session=session)
        found: pb.Claim = await unary(self.portal.GetClaim, request, AS_GATEWAY, NO_CASE)
        return found

    async def propose_plan(
        self, session: str, count: int, first_due_on: str, period: str
    ) -> pb.InstalmentPlan:
        """An instalment plan, agreed at once inside the creditor's policy."""
        request = pb.ProposePlanRequest(
            session=session, count=count, first_due_on=first_due_on, period=period
        )
        found: pb.InstalmentPlan = await unary(
            self.portal.ProposePlan, request, AS_GATEWAY, NO_CASE
        )
        return found

    async def promise(
        self, session: str, currency: str, minor_units: int, promised_on: str
    ) -> pb.Promise:
        """A promise to pay an amount on a day."""
        request = pb.PromisePaymentRequest(
            session=session,
            amount=Money(currency=currency, minor_units=minor_units),
            promised_on=promised_on,
        )
        found: pb.Promise = await unary(self.portal.PromisePayment, request, AS_GATEWAY, NO_CASE)
        return found

    async def dispute(
        self, session: str, reason: str, text: str, evidence: list[str]
    ) -> pb.Dispute:
        """A dispute with its reason, the debtor's words and proof documents."""
        request = pb.OpenDisputeRequest(
            session=session, reason=reason, text=text, evidence_document_ids=evidence
        )
        found: pb.Dispute = await unary(self.portal.OpenDispute, request, AS_GATEWAY, NO_CASE)
        return found

    async def declare_payment(
        self,
        session: str,
        currency: str,
        minor_units: int,
        paid_on: str,
        proof: str,
        method: str = "",
        reference: str = "",
    ) -> pb.PaymentDeclaration:
        """A payment the debtor says it made already, how, with its reference and proof."""
        request = pb.DeclarePaymentRequest(
            session=session,
            amount=Money(currency=currency, minor_units=minor_units),
            paid_on=paid_on,
            proof_document_id=proof,
            method=method,
            reference=reference,
        )
        found: pb.PaymentDeclaration = await unary(
            self.portal.DeclarePayment, request, AS_GATEWAY, NO_CASE
        )
        return found

    async def refuse_channels(self, session: str, channels: list[str]) -> pb.ContactPreferences:
        """The channels the debtor refuses from now on."""
        request = pb.SetContactPreferencesRequest(session=session, refused_channels=channels)
        found: pb.ContactPreferences = await unary(
            self.portal.SetContactPreferences, request, AS_GATEWAY, NO_CASE
        )
        return found

    async def payment_link(
        self, case_id: str, currency: str, minor_units: int, payer_company_name: str
    ) -> settlement_pb2.PaymentLink:
        """A pay-by-bank link for the case and the amount, asked as the case's debtor."""
        request = settlement_pb2.CreatePaymentLinkRequest(
            case_id=case_id,
            amount=Money(currency=currency, minor_units=minor_units),
            payer_company_name=payer_company_name,
        )
        found: settlement_pb2.PaymentLink = await unary(
            self.payment_links.CreatePaymentLink, request, as_debtor(case_id), NO_CASE
        )
        return found
