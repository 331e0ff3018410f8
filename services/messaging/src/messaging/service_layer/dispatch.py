"""Sends a message the plan decided on, once: recorded before and after the channel is called.

After a crash between the send and its record, the next attempt first asks the channel for the
message id; it sends again only when the channel has no copy, so at most one duplicate exists,
and one found afterwards is counted on the record.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from html import unescape

from messaging.domain.content import MessageFacts, absent_mentions
from messaging.domain.outgoing import Channel, DispatchResult, MessageToSend
from messaging.domain.sent_once import SendRecord, SendState, new_record
from messaging.service_layer.channels import (
    EvidenceStore,
    OutgoingChannel,
    Rendered,
    Renderer,
    Undeliverable,
)
from messaging.service_layer.compose import FactSources, PortalLinks, compose
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.errors import InvalidRequest

log = logging.getLogger(__name__)


def recipient_of(facts: MessageFacts) -> str:
    """Where the message goes on its channel; empty when the debtor has no such address."""
    channel = facts.message.channel
    if channel is Channel.EMAIL:
        return facts.debtor.email.strip().lower()
    if channel is Channel.SMS:
        return facts.debtor.phone.strip()
    party = facts.debtor.party
    if not party.has_address:
        return ""
    return "\n".join([party.name, *party.address_lines, f"{party.postal_code} {party.city}"])


UNDER_WAY = DispatchResult(
    sent=False, reason="another dispatch of this message is under way", under_way=True
)


class EvidenceMissing(Exception):
    """The channel took a letter but holds no copy of it to keep as evidence."""


@dataclass
class ChannelDispatcher:
    """The `Dispatcher` the contact plan calls."""

    units: Callable[[], MessagingUnitOfWork]
    sources: FactSources
    portal: PortalLinks
    renderer: Renderer
    channels: Mapping[Channel, OutgoingChannel]
    evidence: EvidenceStore
    now: Callable[[], datetime]
    # How long an attempt may take before a record left `sending` counts as a crash.
    lease: timedelta = timedelta(minutes=2)
    # Rendering (WeasyPrint's PDF above all) is CPU work: done on a thread of its own, so the
    # event loop serves the other messages' database and vault round trips meanwhile. One
    # thread: WeasyPrint is not known to be safe to run twice at once in one process.
    rendering: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="messaging-render")
    )

    async def dispatch(self, message: MessageToSend) -> DispatchResult:
        """Send `message` unless it already went; say what happened."""
        async with self.units() as uow:
            record = await uow.sent.get(message.message_id)
        if record is not None and record.state is not SendState.SENDING:
            return _result(record)
        if (
            record is not None
            and record.interrupted
            and self.now() - record.updated_at < self.lease
        ):
            # Another dispatch may be sending it now: a crash only once the lease ran out.
            return UNDER_WAY
        record = record or new_record(
            message.message_id, message.case_id, message.channel.value, self.now()
        )
        try:
            facts = await compose(message, self.sources, self.portal, self.now)
        except InvalidRequest as refusal:
            return await self._refuse(record, f"unlawful content: {refusal}")
        recipient = recipient_of(facts)
        if not recipient:
            return await self._refuse(record, f"the debtor has no {message.channel.value} address")
        async with self.units() as uow:
            if await uow.suppressions.is_suppressed(message.channel.value, recipient):
                return await self._refuse(record, f"{message.channel.value} address suppressed")
        channel = self.channels[message.channel]
        if record.interrupted and await channel.copies(message.message_id) > 0:
            # The earlier attempt reached the channel: keep what it was handed as evidence,
            # then record it instead of sending again.
            if pdf := await self._copy_held(channel, record):
                await self._keep(record, facts.message.creditor_id, f"{facts.reference}.pdf", pdf)
            return await self._record(record.sent(message.message_id, 1, self.now()))
        was_interrupted = record.interrupted
        record = _with_recipient(record, recipient).attempt(self.now())
        async with self.units() as uow:  # recorded before the channel is called
            claimed = await uow.sent.claim(record, record.attempts - 1)
            await uow.commit()
        if not claimed:
            return UNDER_WAY
        rendered = await asyncio.get_running_loop().run_in_executor(
            self.rendering, self.renderer.render, facts
        )
        if message.step == 1 and (missing := _absent_mentions(rendered, facts)):
            return await self._refuse(record, f"the template lacks R124-4 mentions: {missing}")
        try:
            reference = await channel.send(message.message_id, recipient, rendered)
        except Undeliverable as refused:
            async with self.units() as uow:
                await uow.suppressions.suppress(message.channel.value, recipient, refused.reason)
                await uow.sent.save(record.refused(f"undeliverable: {refused.reason}", self.now()))
                await uow.commit()
            return DispatchResult(sent=False, reason=f"undeliverable: {refused.reason}")
        copies = await channel.copies(message.message_id) if was_interrupted else 1
        if copies > 1:
            log.warning(
                "message %s reached the %s channel %d times after a crash",
                message.message_id,
                message.channel.value,
                copies,
                extra={"case_id": message.case_id, "duplicates": copies - 1},
            )
        if rendered.pdf:  # a letter or a formal notice: kept as evidence of what was sent
            await self._keep(
                record, facts.message.creditor_id, f"{facts.reference}.pdf", rendered.pdf
            )
        return await self._record(record.sent(reference, max(copies, 1), self.now()))

    async def outcome(self, message_id: str, channel: Channel) -> DispatchResult | None:
        """What became of an earlier dispatch of this message, sending nothing: the plan asks
        before it gives up a message whose plan stopped, so that a letter that went out is
        never recorded as not sent."""
        async with self.units() as uow:
            record = await uow.sent.get(message_id)
        if record is None:
            return None
        if record.state is not SendState.SENDING:
            return _result(record)
        outgoing = self.channels[channel]
        copies = await outgoing.copies(message_id)
        if copies == 0:
            return None
        if pdf := await self._copy_held(outgoing, record):
            case = await self.sources.cases.case(record.case_id)
            await self._keep(record, case.creditor_id, f"{message_id}.pdf", pdf)
        return await self._record(record.sent(message_id, copies, self.now()))

    async def _copy_held(self, channel: OutgoingChannel, record: SendRecord) -> bytes | None:
        """The PDF the channel holds of an attempt cut off before its record: the very bytes
        handed over, kept as evidence before the letter is recorded sent. A letter whose copy is
        missing raises: it stays `sending` rather than be recorded sent without its evidence."""
        pdf = await channel.copy_of(record.message_id)
        if pdf is None and record.channel == Channel.LETTER.value:
            raise EvidenceMissing(f"the letter channel holds no PDF of message {record.message_id}")
        return pdf

    async def _keep(self, record: SendRecord, creditor_id: str, filename: str, pdf: bytes) -> None:
        """Store the PDF in the vault, idempotent on the message id; raises (the record stays
        `sending`, tried again once its lease ran out) while the vault does not answer."""
        await self.evidence.keep_pdf(
            case_id=record.case_id,
            creditor_id=creditor_id,
            message_id=record.message_id,
            filename=filename,
            pdf=pdf,
        )

    async def _save(self, record: SendRecord) -> None:
        async with self.units() as uow:
            await uow.sent.save(record)
            await uow.commit()

    async def _record(self, record: SendRecord) -> DispatchResult:
        await self._save(record)
        return _result(record)

    async def _refuse(self, record: SendRecord, reason: str) -> DispatchResult:
        return await self._record(record.refused(reason, self.now()))


def _absent_mentions(rendered: Rendered, facts: MessageFacts) -> list[str]:
    """Every mention must show in each part the debtor may read (text, HTML)."""
    parts = [rendered.text] + ([visible_text(rendered.html)] if rendered.html else [])
    return sorted({m.value for part in parts for m in absent_mentions(part, facts)})


def visible_text(html: str) -> str:
    """What a reader sees of an HTML part: tags, styles and comments removed, entities decoded."""
    html = re.sub(r"(?is)<(style|head)\b.*?</\1>|<!--.*?-->", " ", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _with_recipient(record: SendRecord, recipient: str) -> SendRecord:
    return replace(record, recipient=recipient)


def _result(record: SendRecord) -> DispatchResult:
    if record.state is SendState.SENT:
        return DispatchResult(sent=True, channel_reference=record.channel_reference)
    return DispatchResult(sent=False, reason=record.reason)
