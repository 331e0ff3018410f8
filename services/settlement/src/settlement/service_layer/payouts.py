"""Payout batches: proposed from the ledger, approved by two operators, released once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from recouvra_shared.errors import Conflict, InvalidField, NotFound, PermissionDenied
from settlement.domain.accounts import CREDITOR_RECEIVABLES, PartyKind, account
from settlement.domain.documents import Reader
from settlement.domain.invoices import PartyRole
from settlement.domain.payee_accounts import checked_operator, payable_account
from settlement.domain.payment_instructions import ClientMoneyAccount
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    CancelPayoutBatch,
    ProposePayoutBatch,
    ReleasePayoutBatch,
)
from settlement.domain.payouts import (
    LIABILITY_OF,
    BankDetailsChanged,
    BatchState,
    LineKind,
    NotEnoughHeld,
    PaidOut,
    PayoutBatch,
    PayoutLine,
    Skipped,
    approved_by,
    check_cancellable,
    check_releasable,
    compose,
    hold_cutoff,
    posting_of,
)
from settlement.domain.sepa_files import credit_transfers, direct_debits
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

FILE_KINDS = ("pain.001", "pain.008")
LATEST = date.max


@dataclass(frozen=True)
class PayoutPolicy:
    """The rules an operator configures: the hold after receipt, the smallest amount sent."""

    hold_business_days: int = 3
    minimum: int = 100  # cents; smaller amounts stay for a later batch
    # Without a SEPA creditor identifier the platform cannot collect: fees owed are receivables.
    direct_debits: bool = True


@dataclass(frozen=True)
class BankSide:
    """The platform's side of the bank files: the client-money account, its SEPA creditor id
    (None: direct debits are not offered)."""

    account: ClientMoneyAccount
    creditor_id: str | None


@dataclass(frozen=True)
class Proposal:
    """A proposed batch, and the parties it leaves for later with the reason."""

    batch: PayoutBatch
    skipped: list[Skipped]


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


async def _batch(uow: SettlementUnitOfWork, batch_id: str) -> PayoutBatch:
    found = await uow.payouts.batch(batch_id)
    if found is None:
        raise NotFound(f"batch: no payout batch {batch_id}")
    return found


async def propose_batch(
    command: ProposePayoutBatch,
    uow: SettlementUnitOfWork,
    policy: PayoutPolicy,
    now: Callable[[], datetime] = _now,
    new_id: Callable[[], str] = _new_id,
) -> Proposal:
    """Everything payable on the date, per party, in one batch; one open batch at a time, so
    that no amount is in two batches before the first is booked."""
    operator = checked_operator(command.operator)
    at = now()
    if command.value_date < at.date():
        raise InvalidField("value_date", "today or later (the requested execution date)")
    async with uow:
        positions = await uow.payouts.positions(
            hold_cutoff(command.value_date, policy.hold_business_days)
        )
        payees = {
            (p.party_kind, p.party_id): payable_account(
                await uow.payouts.payee_versions(p.party_kind, p.party_id)
            )
            for p in positions
        }
        if not policy.direct_debits:
            payees = {k: replace(v, mandate=None) if v else None for k, v in payees.items()}
        lines, skipped = compose(positions, payees, policy.minimum, new_id)
        batch = PayoutBatch(
            new_id(), command.value_date, operator, at, BatchState.PROPOSED, tuple(lines)
        )
        if not await uow.payouts.add_batch(batch):
            # Named, so that an operator whose proposal's answer was lost finds it again.
            raise Conflict(
                f"batch: another batch is open ({await uow.payouts.open_batch()}); "
                "release or cancel it first"
            )
        await uow.commit()
    return Proposal(batch, skipped)


async def approve_batch(command: ApprovePayoutBatch, uow: SettlementUnitOfWork) -> PayoutBatch:
    """One operator's approval; the proposer may approve too, the same operator twice may not."""
    operator = checked_operator(command.operator)
    async with uow:
        approved = approved_by(await _batch(uow, command.batch_id), operator)
        await uow.payouts.add_approval(approved.batch_id, operator, approved.state)
        await uow.commit()
    return approved


async def cancel_batch(command: CancelPayoutBatch, uow: SettlementUnitOfWork) -> PayoutBatch:
    """Drop a batch that was not released; nothing of it was booked."""
    operator = checked_operator(command.operator)
    async with uow:
        batch = await _batch(uow, command.batch_id)
        check_cancellable(batch)
        await uow.payouts.mark(batch.batch_id, BatchState.CANCELLED, operator)
        await uow.commit()
    return await _reread(uow, batch.batch_id)


async def _reread(uow: SettlementUnitOfWork, batch_id: str) -> PayoutBatch:
    async with uow:
        return await _batch(uow, batch_id)


async def _check_line(uow: SettlementUnitOfWork, line: PayoutLine) -> None:
    """Refuse a line whose payee's details changed, or whose money the ledger no longer has."""
    if line.kind in (LineKind.TRANSFER, LineKind.DIRECT_DEBIT):
        payee = payable_account(await uow.payouts.payee_versions(line.party_kind, line.party_id))
        if payee is None or payee.version != line.account_version:
            raise BankDetailsChanged(
                f"bank details: {line.party_kind} {line.party_id}'s changed since the batch "
                "was proposed; cancel it and propose again"
            )
    if await uow.ledger.entry_for_fact(line.fact_key) is not None:
        return  # booked by an earlier release that stopped half-way
    liability = account(LIABILITY_OF[line.party_kind], line.party_id).code
    checks = [(liability, line.gross)]
    if line.offset:
        checks.append((account(CREDITOR_RECEIVABLES, line.party_id).code, line.offset))
    for code, needed in checks:
        found = await uow.ledger.balances(LATEST, account=code)
        if (found[0].amount if found else 0) < needed:
            raise NotEnoughHeld(
                f"batch: {code} no longer holds {needed} cents (booked since the proposal); "
                "cancel the batch and propose again"
            )


async def release_batch(
    command: ReleasePayoutBatch,
    units: Callable[[], SettlementUnitOfWork],
    bank: BankSide,
) -> PayoutBatch:
    """Book every line (once, by its fact) and keep the bank files; releasing again answers the
    released batch, and a release that stopped half-way books only what it had not."""
    operator = checked_operator(command.operator)
    uow = units()
    async with uow:
        batch = await _batch(uow, command.batch_id)
        check_releasable(batch)
        if batch.state is BatchState.RELEASED:
            return batch
        for line in batch.lines:
            await _check_line(uow, line)
    files = {
        "pain.001": credit_transfers(batch.batch_id, batch.value_date, bank.account, batch.lines),
        "pain.008": direct_debits(
            batch.batch_id, batch.value_date, bank.account, bank.creditor_id, batch.lines
        ),
    }
    for line in batch.lines:
        posting = posting_of(line, batch.value_date, batch.batch_id)
        if posting is not None:
            await post_entry(posting, units())
    uow = units()
    async with uow:
        for kind, content in files.items():
            if content is not None:
                await uow.payouts.store_file(batch.batch_id, kind, content)
        await uow.payouts.mark(batch.batch_id, BatchState.RELEASED, operator)
        await uow.commit()
    return await _reread(units(), batch.batch_id)


async def batch_file(batch_id: str, kind: str, uow: SettlementUnitOfWork) -> bytes:
    """A released batch's pain.001 or pain.008, byte for byte as built at release."""
    if kind not in FILE_KINDS:
        raise InvalidField("kind", "pain.001 or pain.008")
    async with uow:
        batch = await _batch(uow, batch_id)
        content = await uow.payouts.file(batch_id, kind)
    if content is None:
        raise NotFound(
            f"file: batch {batch_id} ({batch.state}) has no {kind}"
            + ("" if batch.state is BatchState.RELEASED else "; it is built at release")
        )
    return content


async def payouts_for(uow: SettlementUnitOfWork, reader: Reader) -> list[PaidOut]:
    """What released batches paid a creditor or provider (or collected from it), newest first;
    operators read whole batches instead."""
    if reader.role not in (PartyRole.CREDITOR, PartyRole.PROVIDER) or not reader.party_id:
        raise PermissionDenied("payouts are listed to the creditor or provider they paid")
    async with uow:
        return await uow.payouts.released_to(PartyKind(reader.role.value), reader.party_id)


async def batch_of(batch_id: str, uow: SettlementUnitOfWork) -> PayoutBatch:
    """A batch, its lines and approvals."""
    return await _reread(uow, batch_id)
