"""Payees' bank details: entered by one operator, usable once a second one confirmed them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from recouvra_shared.errors import Conflict
from settlement.domain.payee_accounts import (
    PayeeAccount,
    bank_details,
    checked_mandate,
    checked_operator,
    checked_party,
    confirmation,
)
from settlement.domain.payout_commands import ConfirmPayeeAccount, SetPayeeAccount
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def _now() -> datetime:
    return datetime.now(UTC)


async def set_payee_account(
    command: SetPayeeAccount, uow: SettlementUnitOfWork, now: Callable[[], datetime] = _now
) -> PayeeAccount:
    """Keep a new version of the party's bank details, unconfirmed: its payouts are on hold."""
    operator = checked_operator(command.operator)
    kind, party_id = checked_party(command.party_kind, command.party_id)
    holder, iban, bic = bank_details(command.holder, command.iban, command.bic)
    at = now()
    mandate = checked_mandate(command.mandate_id, command.mandate_signed_on, at.date())
    async with uow:
        versions = await uow.payouts.payee_versions(kind, party_id)
        payee = PayeeAccount(
            kind, party_id, len(versions) + 1, holder, iban, bic, operator, at, mandate
        )
        if not await uow.payouts.add_payee_version(payee):
            raise Conflict("bank details: another change of this party's details came first")
        await uow.commit()
    return payee


async def confirm_payee_account(
    command: ConfirmPayeeAccount, uow: SettlementUnitOfWork, now: Callable[[], datetime] = _now
) -> PayeeAccount:
    """Confirm the party's latest bank details, as an operator who did not enter them."""
    operator = checked_operator(command.operator)
    kind, party_id = checked_party(command.party_kind, command.party_id)
    async with uow:
        versions = await uow.payouts.payee_versions(kind, party_id)
        confirmed = confirmation(versions[-1] if versions else None, operator, now())
        await uow.payouts.confirm_payee_version(confirmed)
        await uow.commit()
    return confirmed
