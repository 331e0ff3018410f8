"""Booking facts in the ledger, and reversing what was booked."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from settlement.domain.accounts import account_of_code
from settlement.domain.commands import PostEntry, ReverseEntry
from settlement.domain.errors import AlreadyReversed, EntryNotFound, FactAlreadyBooked
from settlement.domain.ledger import JournalEntry, journal_entry, reversal
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


@dataclass(frozen=True)
class Posted:
    """The entry a fact caused, and whether this call booked it (False: booked before)."""

    entry: JournalEntry
    created: bool


def _new_id() -> str:
    return str(uuid.uuid4())


async def _book(uow: SettlementUnitOfWork, entry: JournalEntry) -> Posted:
    """Post `entry` in this unit of work, or answer the entry its fact caused before."""
    earlier = await uow.ledger.entry_for_fact(entry.fact_key)
    if earlier is None:
        await uow.ledger.open_accounts({account_of_code(line.account) for line in entry.lines})
        posted = await uow.ledger.add(entry)
        if posted is not None:
            return Posted(posted, created=True)
        # Another transaction booked the same fact between our read and our write.
        earlier = await uow.ledger.entry_for_fact(entry.fact_key)
        assert earlier is not None
    if not earlier.same_content(entry):
        raise FactAlreadyBooked(
            f"{entry.fact_key} was booked by entry {earlier.entry_no} with other content"
        )
    return Posted(earlier, created=False)


async def book(
    command: PostEntry, uow: SettlementUnitOfWork, new_id: Callable[[], str] = _new_id
) -> Posted:
    """`post_entry` inside a unit of work the caller holds and commits, so that what the entry
    records (a receipt, its event) commits with it or not at all."""
    entry = journal_entry(
        entry_id=new_id(),
        fact_key=command.fact_key,
        booked_on=command.booked_on,
        journal=command.journal,
        description=command.description,
        lines=command.lines,
    )
    return await _book(uow, entry)


async def reverse(
    command: ReverseEntry, uow: SettlementUnitOfWork, new_id: Callable[[], str] = _new_id
) -> Posted:
    """`reverse_entry` inside a unit of work the caller holds and commits."""
    original = await uow.ledger.entry(command.entry_id)
    if original is None:
        raise EntryNotFound(f"no journal entry {command.entry_id}")
    entry = reversal(
        original,
        entry_id=new_id(),
        fact_key=command.fact_key,
        booked_on=command.booked_on,
        description=command.description,
    )
    earlier = await uow.ledger.reversal_of(original.entry_id)
    if earlier is not None and earlier.fact_key != command.fact_key:
        raise AlreadyReversed(f"entry {original.entry_no} was reversed by entry {earlier.entry_no}")
    return await _book(uow, entry)


async def post_entry(
    command: PostEntry, uow: SettlementUnitOfWork, new_id: Callable[[], str] = _new_id
) -> Posted:
    """Book what a fact moved, once: a replay of the same fact answers the first entry, a replay
    with other content is refused."""
    async with uow:
        posted = await book(command, uow, new_id)
        await uow.commit()
    return posted


async def reverse_entry(
    command: ReverseEntry, uow: SettlementUnitOfWork, new_id: Callable[[], str] = _new_id
) -> Posted:
    """Cancel a posted entry by its mirror image, once; the original stays as it was."""
    async with uow:
        posted = await reverse(command, uow, new_id)
        await uow.commit()
    return posted
