"""The case thread's use cases: write a message (attachments checked against the vault, each
other party told by e-mail through a notice recorded in the same transaction), read the thread
as one's role allows, and send the pending notices.

Who the caller is comes from the entrypoint: a creditor or a provider by its verified token, the
debtor by its portal session (which names the case). A case the caller has no part in, or no
longer holds, reads exactly like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from messaging.domain.case_contacts import CaseContact
from messaging.domain.thread import (
    Reader,
    ThreadMessage,
    ThreadParty,
    others,
    visible_to,
    write,
)
from messaging.domain.thread_notices import NoticeState, ThreadNotice
from messaging.service_layer.evidence import check_case_documents
from messaging.service_layer.thread_ports import (
    CaseDocumentsSource,
    NoticeMailer,
    PartyAddresses,
)
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.errors import InvalidField, NotFound

Units = Callable[[], MessagingUnitOfWork]
NOTICE_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Writer:
    """Who writes or reads: a party and, for the creditor or a provider, its verified id."""

    party: ThreadParty
    party_id: str = ""


async def _reader(
    uow: MessagingUnitOfWork, case_id: str, writer: Writer
) -> tuple[CaseContact, Reader, str]:
    """The case, the caller as a reader of it, and who holds it now; NOT_FOUND unless the
    caller is the case's creditor, its holder now, or its debtor."""
    contact = await uow.contacts.get(case_id)
    holding = await uow.holders.current(case_id)
    holder_id = holding.holder_id if holding else ""
    if contact is None:
        raise NotFound("case_id: no such case")
    if writer.party is ThreadParty.CREDITOR and writer.party_id == contact.creditor_id:
        return contact, Reader(ThreadParty.CREDITOR), holder_id
    if writer.party is ThreadParty.HOLDER and writer.party_id and writer.party_id == holder_id:
        return contact, Reader(ThreadParty.HOLDER, holder_id), holder_id
    if writer.party is ThreadParty.DEBTOR:
        return contact, Reader(ThreadParty.DEBTOR), holder_id
    raise NotFound("case_id: no such case")


async def post_message(
    units: Units,
    documents: CaseDocumentsSource,
    *,
    case_id: str,
    writer: Writer,
    to: frozenset[ThreadParty],
    text: str,
    attachment_ids: tuple[str, ...],
    now: datetime,
) -> ThreadMessage:
    """Writes the message and records a notice to each recipient; the attachments must be
    documents of the case in the vault, and those sent to the debtor shareable with it."""
    async with units() as uow:
        contact, _, _ = await _reader(uow, case_id, writer)
    await check_case_documents(
        documents,
        case_id=case_id,
        creditor_id=contact.creditor_id,
        document_ids=attachment_ids,
        field="attachment_document_ids",
        shareable=ThreadParty.DEBTOR in to,
    )
    async with units() as uow:
        contact, _, holder_id = await _reader(uow, case_id, writer)  # still theirs to write
        message = write(
            str(uuid.uuid4()),
            case_id=case_id,
            author=writer.party,
            holder_id=holder_id,
            to=to,
            text=text,
            attachment_ids=attachment_ids,
            now=now,
        )
        await record(uow, message, contact.creditor_id)
        await uow.commit()
    return message


async def record(uow: MessagingUnitOfWork, message: ThreadMessage, creditor_id: str) -> None:
    """Keeps the message and a pending notice to each recipient, in the caller's transaction."""
    await uow.thread.add(message)
    ids = {
        ThreadParty.CREDITOR: creditor_id,
        ThreadParty.HOLDER: message.holder_id,
        ThreadParty.DEBTOR: message.case_id,
    }
    for party in others(message):
        await uow.thread_notices.add(
            ThreadNotice(
                notice_id=str(uuid.uuid4()),
                message_id=message.message_id,
                case_id=message.case_id,
                party=party,
                party_id=ids[party],
                created_at=message.written_at,
            )
        )


async def read_thread(units: Units, *, case_id: str, writer: Writer) -> list[ThreadMessage]:
    """The messages the caller may see, oldest first."""
    async with units() as uow:
        _, reader, _ = await _reader(uow, case_id, writer)
        return [m for m in await uow.thread.of_case(case_id) if visible_to(m, reader)]


async def send_next_notice(
    units: Units,
    addresses: PartyAddresses,
    mailer: NoticeMailer,
    now: datetime,
    lease: timedelta = NOTICE_LEASE,
) -> bool:
    """Sends one pending notice (claimed under a lease, so replicas share the work and a crash
    sends it again once the lease ran out); False when none was due."""
    async with units() as uow:
        notice = await uow.thread_notices.claim(now, lease)
        await uow.commit()
    if notice is None:
        return False
    retried = notice.attempts > 1  # an earlier attempt died between its send and its record
    duplicates = 0
    address = await addresses.email(notice.case_id, notice.party, notice.party_id)
    if address and not (retried and await mailer.copies(notice) > 0):
        await mailer.send(notice, address)
        if retried:
            duplicates = max(0, await mailer.copies(notice) - 1)
    async with units() as uow:
        state = NoticeState.SENT if address else NoticeState.NO_ADDRESS
        await uow.thread_notices.finish(notice.notice_id, state, now, duplicates)
        await uow.commit()
    return True


def recipients(values: list[str]) -> frozenset[ThreadParty]:
    """The request's `to`, refused naming it."""
    try:
        return frozenset(ThreadParty(value) for value in values)
    except ValueError:
        raise InvalidField("to", "creditor, holder or debtor") from None
