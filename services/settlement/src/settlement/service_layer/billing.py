"""Operators set providers' VAT status and creditors' referring partners; every change audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from recouvra_shared.errors import InvalidField
from settlement.domain.billing import (
    BillingChange,
    CreditorBilling,
    ProviderBilling,
    creditor_billing,
    describe_creditor,
    describe_provider,
    provider_billing,
)
from settlement.domain.fee_commands import SetCreditorBilling, SetProviderBilling
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def _now() -> datetime:
    return datetime.now(UTC)


def _check_who(operator: str, reason: str) -> None:
    if not operator.strip() or len(operator) > 100:
        raise InvalidField("operator", "who makes the change: between 1 and 100 characters")
    if not reason.strip() or len(reason) > 500:
        raise InvalidField("reason", "why: between 1 and 500 characters")


async def set_provider_billing(
    command: SetProviderBilling,
    uow: SettlementUnitOfWork,
    now: Callable[[], datetime] = _now,
) -> ProviderBilling:
    """Set a provider's VAT status; the change (before and after) is audited with its operator.
    It applies to fees booked from then on, never to fees booked before."""
    _check_who(command.operator, command.reason)
    profile = provider_billing(command.provider_id, command.vat_status, command.vat_number)
    async with uow:
        before = await uow.billing.provider(profile.provider_id)
        if before != profile:
            change = BillingChange(
                "provider",
                profile.provider_id,
                command.operator,
                command.reason,
                describe_provider(before),
                describe_provider(profile),
                now(),
            )
            await uow.billing.save_provider(profile, change)
            await uow.commit()
    return profile


async def set_creditor_billing(
    command: SetCreditorBilling,
    uow: SettlementUnitOfWork,
    now: Callable[[], datetime] = _now,
) -> CreditorBilling:
    """Set or clear the partner that referred a creditor, audited like a provider's change."""
    _check_who(command.operator, command.reason)
    profile = creditor_billing(command.creditor_id, command.referring_partner_id)
    async with uow:
        before = await uow.billing.creditor(profile.creditor_id)
        if (before or CreditorBilling(profile.creditor_id)) != profile:
            change = BillingChange(
                "creditor",
                profile.creditor_id,
                command.operator,
                command.reason,
                describe_creditor(before),
                describe_creditor(profile),
                now(),
            )
            await uow.billing.save_creditor(profile, change)
            await uow.commit()
    return profile


async def billing_history(
    uow: SettlementUnitOfWork, party_id: str | None = None
) -> list[BillingChange]:
    """Every profile change, oldest first, of one party when asked."""
    async with uow:
        return await uow.billing.changes(party_id)
