"""The debtor portal's use cases: open it with a signed link and a second factor, then read the
claim and act on the one case the session names.

Wrong answers are counted per link in their own transaction before the answer is checked (a
right one is given back), so concurrent guesses cannot exceed the bound.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from messaging.domain import portal_links
from messaging.domain.contact_limits import channel_allowed_to_refuse
from messaging.domain.content import CaseFacts, PaymentDetails
from messaging.domain.debtor_actions import Dispute, PaymentDeclaration, Promise
from messaging.domain.instalments import InstalmentPlan, Period, Proposal
from messaging.domain.outgoing import Channel
from messaging.domain.portal_sessions import (
    MAX_WRONG_ANSWERS,
    link_fingerprint,
    open_session,
    second_factor_matches,
)
from messaging.service_layer import contact_settings, debtor_actions, holdings
from messaging.service_layer.channels import CaseFactsSource, PaymentInstructionsSource
from messaging.service_layer.evidence import check_case_documents
from messaging.service_layer.thread_ports import CaseDocumentsSource
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.errors import InvalidField, PermissionDenied

Units = Callable[[], MessagingUnitOfWork]


@dataclass(frozen=True)
class PortalSources:
    """Where the portal reads the case (intake), how to pay it (settlement) and the case's
    documents (the vault: evidence and proofs must be there)."""

    cases: CaseFactsSource
    payments: PaymentInstructionsSource
    documents: CaseDocumentsSource


async def open_portal(
    units: Units,
    cases: CaseFactsSource,
    *,
    token: str,
    answer: str,
    now: datetime,
    secret: bytes,
) -> str:
    """A session for the link's case once the second factor is right; refused when the link is
    not valid, is locked, or the answer is wrong (each wrong answer counted)."""
    case_id = portal_links.verify(token, now, secret)
    fingerprint = link_fingerprint(token)
    async with units() as uow:
        attempts = await uow.portal_attempts.take(fingerprint, case_id, now)
        await uow.commit()
    if attempts > MAX_WRONG_ANSWERS:
        raise PermissionDenied(
            f"token: locked after {MAX_WRONG_ANSWERS} wrong answers; ask for a new letter"
        )
    facts = await cases.case(case_id)
    expected = [invoice.number for invoice in facts.invoices] + [facts.debtor.party.postal_code]
    if not second_factor_matches(answer, expected):
        left = MAX_WRONG_ANSWERS - attempts
        raise PermissionDenied(
            f"second_factor: not an invoice number or the postal code of this claim "
            f"({left} attempts left)"
        )
    async with units() as uow:
        await uow.portal_attempts.give_back(fingerprint)
        await uow.commit()
    return open_session(case_id, now, secret)


@dataclass(frozen=True)
class ClaimView:
    """What the debtor sees: the claim, how to pay, and what was recorded so far."""

    facts: CaseFacts
    payment: PaymentDetails
    plans: list[InstalmentPlan]
    promises: list[Promise]
    disputes: list[Dispute]
    declarations: list[PaymentDeclaration]
    refused_channels: frozenset[Channel]


@dataclass(frozen=True)
class RecordedActions:
    """What the debtor and the holder recorded on a case."""

    plans: list[InstalmentPlan]
    promises: list[Promise]
    disputes: list[Dispute]
    declarations: list[PaymentDeclaration]


async def recorded_actions(uow: MessagingUnitOfWork, case_id: str) -> RecordedActions:
    """Every plan, promise, dispute and declaration of the case, oldest first."""
    return RecordedActions(
        plans=await uow.instalments.of_case(case_id),
        promises=await uow.debtor_actions.promises_of(case_id),
        disputes=await uow.debtor_actions.disputes_of(case_id),
        declarations=await uow.debtor_actions.declarations_of(case_id),
    )


async def claim(units: Units, sources: PortalSources, case_id: str) -> ClaimView:
    """The claim itemised from intake, how to pay it from settlement, and the case's actions."""
    facts = await sources.cases.case(case_id)
    total = facts.amounts.total_minor
    payment = await sources.payments.instructions(case_id, total, facts.amounts.currency)
    async with units() as uow:
        recorded = await recorded_actions(uow, case_id)
        contact = await uow.contacts.get(case_id)
        refused = await uow.preferences.refused_channels(contact.debtor) if contact else None
    return ClaimView(
        facts=facts,
        payment=payment,
        plans=recorded.plans,
        promises=recorded.promises,
        disputes=recorded.disputes,
        declarations=recorded.declarations,
        refused_channels=refused or frozenset(),
    )


async def _still_held(uow: MessagingUnitOfWork, case_id: str, holder_id: str) -> None:
    """For the holder recording for the debtor: it holds the case in this very transaction (the
    row is held shared, so a recall waits for it)."""
    if holder_id:
        await holdings.held_by(uow, case_id, holder_id)


def parse_day(value: str, field: str) -> date:
    """An ISO 8601 date from a request, refused naming the field."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidField(field, "an ISO 8601 date (YYYY-MM-DD)") from None


def parse_period(value: str) -> Period:
    """A plan's period from a request."""
    try:
        return Period(value or Period.MONTHLY.value)
    except ValueError:
        raise InvalidField("period", "weekly, fortnightly or monthly") from None


async def propose(
    units: Units,
    cases: CaseFactsSource,
    *,
    case_id: str,
    count: int,
    first_due_on: date,
    period: Period,
    now: datetime,
    by: str = "debtor",
    holder_id: str = "",
) -> InstalmentPlan:
    """The debtor (or the holder for it) proposes to pay what is owed today in `count`
    instalments."""
    facts = await cases.case(case_id)
    proposal = Proposal(
        total_minor=facts.amounts.total_minor,
        currency=facts.amounts.currency,
        count=count,
        first_on=first_due_on,
        period=period,
    )
    async with units() as uow:
        await _still_held(uow, case_id, holder_id)
        return await debtor_actions.propose_plan(
            uow,
            case_id=case_id,
            creditor_id=facts.creditor_id,
            proposal=proposal,
            proposed_by=by,
            now=now,
        )


async def promise(
    units: Units,
    cases: CaseFactsSource,
    *,
    case_id: str,
    amount_minor: int,
    currency: str,
    promised_on: date,
    now: datetime,
    by: str = "debtor",
    holder_id: str = "",
) -> Promise:
    """The debtor promises (or the holder records its promise) to pay part or all of what is
    owed by a day."""
    facts = await cases.case(case_id)
    if currency and currency != facts.amounts.currency:
        raise InvalidField("amount.currency", f"the claim's currency, {facts.amounts.currency}")
    async with units() as uow:
        await _still_held(uow, case_id, holder_id)
        return await debtor_actions.make_promise(
            uow,
            case_id=case_id,
            creditor_id=facts.creditor_id,
            amount_minor=amount_minor,
            currency=facts.amounts.currency,
            owed_minor=facts.amounts.total_minor,
            promised_on=promised_on,
            made_by=by,
            now=now,
        )


async def dispute(
    units: Units,
    sources: PortalSources,
    *,
    case_id: str,
    reason: str,
    text: str,
    evidence_ids: tuple[str, ...],
    now: datetime,
    by: str = "debtor",
    holder_id: str = "",
) -> Dispute:
    """The debtor contests the claim (or the holder records that it does); the evidence must be
    the case's documents in the vault."""
    facts = await sources.cases.case(case_id)
    await check_case_documents(
        sources.documents,
        case_id=case_id,
        creditor_id=facts.creditor_id,
        document_ids=evidence_ids,
        field="evidence_document_ids",
    )
    async with units() as uow:
        await _still_held(uow, case_id, holder_id)
        return await debtor_actions.open_dispute(
            uow,
            case_id=case_id,
            creditor_id=facts.creditor_id,
            reason=reason,
            text=text,
            evidence_ids=evidence_ids,
            opened_by=by,
            now=now,
        )


async def declare(
    units: Units,
    sources: PortalSources,
    *,
    case_id: str,
    amount_minor: int,
    currency: str,
    paid_on: date,
    proof_document_id: str,
    now: datetime,
    method: str = "",
    reference: str = "",
) -> PaymentDeclaration:
    """The debtor says it paid already, with a proof: a document of the case in the vault."""
    facts = await sources.cases.case(case_id)
    if currency and currency != facts.amounts.currency:
        raise InvalidField("amount.currency", f"the claim's currency, {facts.amounts.currency}")
    await check_case_documents(
        sources.documents,
        case_id=case_id,
        creditor_id=facts.creditor_id,
        document_ids=(proof_document_id,) if proof_document_id else (),
        field="proof_document_id",
    )
    async with units() as uow:
        return await debtor_actions.declare_payment(
            uow,
            case_id=case_id,
            creditor_id=facts.creditor_id,
            amount_minor=amount_minor,
            currency=facts.amounts.currency,
            paid_on=paid_on,
            proof_document_id=proof_document_id,
            now=now,
            method=method,
            reference=reference,
        )


async def refuse_channels(
    units: Units, *, case_id: str, channels: list[Channel], now: datetime
) -> frozenset[Channel]:
    """The debtor refuses channels for every case of its own; what it refuses now."""
    async with units() as uow:
        contact = await contact_settings.case_for(uow, case_id, any_party=True)
        for channel in channels:
            await uow.preferences.refuse_channel(
                contact.debtor, channel_allowed_to_refuse(channel), now
            )
        refused = await uow.preferences.refused_channels(contact.debtor)
        await uow.commit()
        return refused
