"""Gathers the facts a message needs from their owners and checks it can be lawful."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from messaging.domain.content import (
    ClaimAmounts,
    MessageFacts,
    PayLink,
    message_reference,
    require_lawful,
)
from messaging.domain.outgoing import MessageToSend
from messaging.domain.portal_links import portal_url
from messaging.service_layer.channels import (
    CaseFactsSource,
    PartyDirectory,
    PaymentInstructionsSource,
    PaymentLinkSource,
)
from recouvra_shared.errors import Unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FactSources:
    """Where each fact comes from."""

    cases: CaseFactsSource
    parties: PartyDirectory
    payments: PaymentInstructionsSource
    links: PaymentLinkSource | None = None  # pay by link; None: messages carry no link


@dataclass(frozen=True)
class PortalLinks:
    """How the debtor's portal link is made."""

    base_url: str
    secret: bytes
    ttl: timedelta = timedelta(days=60)


async def _pay_link(sources: FactSources, case_id: str, amounts: ClaimAmounts) -> PayLink | None:
    """The whole amount's payment link, or none: a link is a convenience beside the IBAN and the
    EPC QR (the lawful way to pay), so a provider that does not answer never holds a message."""
    if sources.links is None or amounts.currency != "EUR" or amounts.total_minor <= 0:
        return None
    try:
        return await sources.links.whole_amount_link(case_id, amounts.total_minor, amounts.currency)
    except Unavailable:
        log.warning("no payment link for case %s: the provider did not answer", case_id)
        return None


async def compose(
    message: MessageToSend,
    sources: FactSources,
    portal: PortalLinks,
    now: Callable[[], datetime],
) -> MessageFacts:
    """The facts of `message`, refused (InvalidRequest naming each missing fact) when the
    message could not carry what R124-4 requires."""
    case = await sources.cases.case(message.case_id)
    holder = await sources.parties.holder(message.holder_id)
    creditor = await sources.parties.creditor(case.creditor_id or message.creditor_id)
    amounts = case.amounts
    payment = await sources.payments.instructions(
        message.case_id, amounts.total_minor, amounts.currency
    )
    moment = now()
    first_reference = (
        message_reference(message.case_id, message.round, 1) if message.step > 1 else ""
    )
    facts = MessageFacts(
        message=message,
        reference=message_reference(message.case_id, message.round, message.step),
        sent_on=moment.date(),
        debtor=case.debtor,
        holder=holder,
        creditor=creditor,
        invoices=case.invoices,
        amounts=amounts,
        payment=payment,
        portal_url=portal_url(portal.base_url, message.case_id, moment, portal.ttl, portal.secret),
        first_reference=first_reference,
        first_sent_on=message.first_sent_on.date() if message.first_sent_on else None,
        pay_link=await _pay_link(sources, message.case_id, amounts),
    )
    require_lawful(facts)
    return facts
