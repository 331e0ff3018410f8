"""Giving a case a payment link: one live link per case, the same while its amount holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from settlement.domain.payment_instructions import ClientMoneyAccount, checked_case_id
from settlement.domain.payment_links import (
    LinkStatus,
    Payer,
    PaymentLink,
    check_may_ask_link,
    checked_link_amount,
    checked_payer,
    expiry_of,
)
from settlement.service_layer.payment_instructions import reference_of
from settlement.service_layer.payment_link_ports import LinkRequest, PaymentInitiation
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


@dataclass(frozen=True)
class CreatePaymentLink:
    """Give the case a link for this amount (the caller is the verified token's)."""

    case_id: str
    amount_minor: int | None
    currency: str
    caller_kind: str
    caller_subject: str
    payer: Payer = field(default_factory=Payer)


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


async def create_payment_link(
    command: CreatePaymentLink,
    units: Callable[[], SettlementUnitOfWork],
    initiation: PaymentInitiation,
    policy: LinkPolicy,
    now: Callable[[], datetime],
) -> GivenLink:
    """The case's live link for this amount: the same one while the amount is unchanged and the
    link usable; otherwise a new one, the old one revoked at the provider and marked replaced."""
    case_id = checked_case_id(command.case_id)
    check_may_ask_link(command.caller_kind, command.caller_subject, case_id)
    amount = checked_link_amount(command.amount_minor, command.currency)
    async with units() as uow:
        await uow.payment_links.lock_case(case_id)
        reference = await reference_of(uow, case_id)
        at = now()
        live = await uow.payment_links.live_link(case_id)
        if live is not None and live.amount_minor == amount and live.usable_at(at):
            return GivenLink(live, created=False)
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
        )
        replaced = None
        if live is not None:
            if live.usable_at(at):
                # The old amount is no longer what is asked: the old link must not be paid.
                await initiation.revoke_link(live.link_id)
                await uow.payment_links.set_link_status(
                    live.link_id, LinkStatus.REPLACED, replaced_by=link.link_id
                )
            else:
                await uow.payment_links.set_link_status(live.link_id, LinkStatus.EXPIRED)
            replaced = live.link_id
        await uow.payment_links.add_link(link)
        await uow.commit()
    return GivenLink(link, created=True, replaced_link_id=replaced)
