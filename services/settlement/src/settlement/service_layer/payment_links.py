"""Giving a case a payment link: one live link per case and purpose, the same while its amount
holds. The provider is never called while a database transaction is open: the case's link is
read in one short transaction, the provider asked outside any, and the answer recorded in a
second one under the case's lock (a link made by a concurrent ask of the same amount wins and
ours is revoked; links replaced are revoked after the commit)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from settlement.domain.payment_instructions import ClientMoneyAccount, checked_case_id
from settlement.domain.payment_links import (
    LinkPurpose,
    LinkStatus,
    Payer,
    PaymentLink,
    check_may_ask_link,
    checked_link_amount,
    checked_payer,
    checked_purpose,
    expiry_of,
)
from settlement.service_layer.payment_instructions import reference_of
from settlement.service_layer.payment_link_ports import LinkRequest, PaymentInitiation
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatePaymentLink:
    """Give the case a link for this amount and purpose (the caller is the verified token's)."""

    case_id: str
    amount_minor: int | None
    currency: str
    caller_kind: str
    caller_subject: str
    payer: Payer = field(default_factory=Payer)
    purpose: str = LinkPurpose.WHOLE_AMOUNT.value


@dataclass(frozen=True)
class GivenLink:
    """The case's live link, whether this call made it, and the link it replaced."""

    link: PaymentLink
    created: bool
    replaced_link_id: str | None = None


@dataclass(frozen=True)
class LinkPolicy:
    """Where the money goes and how long a link lives."""

    account: ClientMoneyAccount
    expiry_days: int


def _label(reference: str) -> str:
    """What the debtor's bank shows on the transfer: the reference first, so it is never cut."""
    return f"{reference} Recouvra"


def _same(live: PaymentLink | None, amount: int, at: datetime) -> bool:
    return live is not None and live.amount_minor == amount and live.usable_at(at)


async def _revoke(initiation: PaymentInitiation, link_id: str) -> None:
    """Revoke a link no longer asked for; a provider that fails is logged, not fatal: the link
    was recorded replaced and expires on its own (money paid through it is still announced)."""
    try:
        await initiation.revoke_link(link_id)
    except Exception:
        log.warning("payment link %s could not be revoked at the provider", link_id, exc_info=True)


async def create_payment_link(
    command: CreatePaymentLink,
    units: Callable[[], SettlementUnitOfWork],
    initiation: PaymentInitiation,
    policy: LinkPolicy,
    now: Callable[[], datetime],
) -> GivenLink:
    """The case's live link for this amount and purpose: the same one while the amount is
    unchanged and the link usable; otherwise a new one, the old one revoked at the provider and
    marked replaced (or expired)."""
    case_id = checked_case_id(command.case_id)
    check_may_ask_link(command.caller_kind, command.caller_subject, case_id)
    amount = checked_link_amount(command.amount_minor, command.currency)
    purpose = checked_purpose(command.purpose)
    async with units() as uow:
        await uow.payment_links.lock_case(case_id)
        reference = await reference_of(uow, case_id)
        live = await uow.payment_links.live_link(case_id, purpose)
        if _same(live, amount, now()):
            assert live is not None
            return GivenLink(live, created=False)
        await uow.commit()  # the case's reference, if this gave it one
    at = now()
    created = await initiation.create_link(
        LinkRequest(
            case_id=case_id,
            amount_minor=amount,
            currency=command.currency,
            label=_label(reference),
            payer=checked_payer(command.payer, reference),
            reference=reference,
            beneficiary_name=policy.account.beneficiary,
            beneficiary_iban=policy.account.iban,
            expires_at=expiry_of(at, policy.expiry_days),
        )
    )
    link = PaymentLink(
        link_id=created.link_id,
        case_id=case_id,
        amount_minor=amount,
        currency=command.currency,
        reference=reference,
        url=created.url,
        expires_at=created.expires_at,
        created_at=at,
        purpose=purpose,
    )
    to_revoke: str | None = None
    async with units() as uow:
        await uow.payment_links.lock_case(case_id)
        live = await uow.payment_links.live_link(case_id, purpose)
        if _same(live, amount, now()):
            assert live is not None
            winner: GivenLink | None = GivenLink(live, created=False)
            to_revoke = link.link_id  # a concurrent ask of the same amount recorded its link
        else:
            winner = None
            if live is not None:
                if live.usable_at(at):
                    # The old amount is no longer what is asked: the old link must not be paid.
                    await uow.payment_links.set_link_status(
                        live.link_id, LinkStatus.REPLACED, replaced_by=link.link_id
                    )
                    to_revoke = live.link_id
                else:
                    await uow.payment_links.set_link_status(live.link_id, LinkStatus.EXPIRED)
            await uow.payment_links.add_link(link)
            await uow.commit()
    if to_revoke is not None:
        await _revoke(initiation, to_revoke)
    if winner is not None:
        return winner
    return GivenLink(link, created=True, replaced_link_id=live.link_id if live else None)
