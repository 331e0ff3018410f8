"""A message goes out once: recorded before and after sending; a crash in between costs at most one
duplicate, which is counted; a bounced address is not written to again."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from messaging.adapters.rendering import JinjaRenderer
from messaging.domain.outgoing import Channel
from messaging.domain.sent_once import SendState, new_record
from messaging.service_layer.channels import Rendered, Undeliverable
from messaging.service_layer.compose import FactSources, PortalLinks
from messaging.service_layer.dispatch import ChannelDispatcher, EvidenceMissing

from .channel_fakes import (
    DEBTOR,
    HOLDER,
    NOW,
    FakeChannel,
    FakeEvidence,
    FakeFacts,
    FakeMessagingUnitOfWork,
    Tables,
    VaultDown,
)
from .test_messaging_content import message

clock = [NOW]  # moved on by the tests that wait out an attempt's lease


@pytest.fixture(autouse=True)
def _reset_clock() -> None:
    clock[0] = NOW


def after_the_lease() -> None:
    clock[0] += timedelta(minutes=3)


def dispatcher(
    tables: Tables, channel: FakeChannel, evidence: FakeEvidence | None = None, **facts: object
) -> ChannelDispatcher:
    sources = FakeFacts(**facts)  # type: ignore[arg-type]
    return ChannelDispatcher(
        units=lambda: FakeMessagingUnitOfWork(tables),
        sources=FactSources(cases=sources, parties=sources, payments=sources),
        portal=PortalLinks(base_url="https://portal.example", secret=b"k" * 32),
        renderer=JinjaRenderer(),
        channels={Channel.EMAIL: channel, Channel.LETTER: channel, Channel.SMS: channel},
        evidence=evidence or FakeEvidence(),
        now=lambda: clock[0],
    )


async def test_a_message_is_sent_once_and_a_replay_sends_nothing() -> None:
    tables, channel = Tables(), FakeChannel()
    first = await dispatcher(tables, channel).dispatch(message())
    again = await dispatcher(tables, channel).dispatch(message())
    assert first.sent
    assert again == first
    assert [(m, to) for m, to, _ in channel.delivered] == [(message().message_id, DEBTOR.email)]
    record = tables.sent[message().message_id]
    assert (record.state, record.attempts, record.duplicates) == (SendState.SENT, 1, 0)


async def test_the_record_exists_before_the_channel_is_called() -> None:
    tables, channel = Tables(), FakeChannel(crash_after_send=True)
    with pytest.raises(SystemExit):
        await dispatcher(tables, channel).dispatch(message())
    record = tables.sent[message().message_id]
    assert (record.state, record.attempts) == (SendState.SENDING, 1)


async def test_after_a_crash_a_message_the_channel_holds_is_not_sent_again() -> None:
    tables, channel = Tables(), FakeChannel(crash_after_send=True)
    with pytest.raises(SystemExit):
        await dispatcher(tables, channel).dispatch(message())
    after_the_lease()
    result = await dispatcher(tables, channel).dispatch(message())
    assert result.sent
    assert len(channel.delivered) == 1
    assert tables.sent[message().message_id].duplicates == 0


async def test_a_crash_the_channel_log_missed_gives_one_duplicate_counted() -> None:
    tables, channel = Tables(), FakeChannel(crash_after_send=True)
    with pytest.raises(SystemExit):
        await dispatcher(tables, channel).dispatch(message())
    channel.hide_copies = True  # the search ran before the first copy showed
    after_the_lease()
    result = await dispatcher(tables, channel).dispatch(message())
    assert result.sent
    assert len(channel.delivered) == 2
    record = tables.sent[message().message_id]
    assert (record.attempts, record.duplicates) == (2, 1)
    units = FakeMessagingUnitOfWork(tables)
    async with units as uow:
        assert await uow.sent.duplicates() == 1


async def test_a_suppressed_address_is_not_written_to_and_the_reason_is_recorded() -> None:
    tables, channel = Tables(), FakeChannel()
    tables.suppressed[("email", DEBTOR.email)] = "bounced: 5.1.1 user unknown"
    result = await dispatcher(tables, channel).dispatch(message())
    assert not result.sent
    assert result.reason == "email address suppressed"
    assert channel.delivered == []
    assert tables.sent[message().message_id].state is SendState.NOT_SENT


async def test_a_first_letter_missing_a_mention_is_not_sent_and_says_why() -> None:
    tables, channel = Tables(), FakeChannel()
    no_address = replace(HOLDER, address_lines=(), city="", postal_code="")
    result = await dispatcher(tables, channel, holder=no_address).dispatch(message())
    assert not result.sent
    assert "holder.address" in result.reason
    assert channel.delivered == []


async def test_an_overridden_template_that_drops_l111_8_is_not_sent() -> None:
    tables, channel = Tables(), FakeChannel()
    d = dispatcher(tables, channel)
    d.renderer = JinjaRenderer(
        overrides={"fr/message.txt.j2": "Payez {{ money(f.amounts.total_minor) }}"}
    )
    result = await d.dispatch(message())
    assert not result.sent
    assert "l111_8_text" in result.reason
    assert channel.delivered == []


async def test_a_letter_goes_as_a_pdf_to_the_postal_address_and_is_kept_as_evidence() -> None:
    tables, channel, evidence = Tables(), FakeChannel(), FakeEvidence()
    result = await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    assert result.sent
    ((_, recipient, rendered),) = channel.delivered
    assert recipient.splitlines() == ["ACME SARL", "12 rue des Lilas", "69003 Lyon"]
    assert rendered.pdf.startswith(b"%PDF")
    assert [(case, pdf) for case, _, pdf in evidence.kept] == [(message().case_id, rendered.pdf)]


async def test_an_address_the_channel_refuses_for_good_is_suppressed() -> None:
    tables = Tables()

    class Refusing(FakeChannel):
        async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str:
            raise Undeliverable(recipient, "550 5.1.1 user unknown")

    result = await dispatcher(tables, Refusing()).dispatch(message())
    assert not result.sent
    assert "550 5.1.1" in result.reason
    assert ("email", DEBTOR.email) in tables.suppressed
    assert tables.sent[message().message_id].state is SendState.NOT_SENT


async def test_a_second_dispatch_during_the_first_sends_nothing() -> None:
    tables, sending = Tables(), asyncio.Event()

    class Slow(FakeChannel):
        async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str:
            sending.set()
            await asyncio.sleep(0.05)
            return await super().send(message_id, recipient, rendered)

    channel = Slow()
    first = asyncio.create_task(dispatcher(tables, channel).dispatch(message()))
    await sending.wait()
    second = await dispatcher(tables, channel).dispatch(message())
    assert not second.sent
    assert second.reason == "another dispatch of this message is under way"
    assert second.under_way  # the plan keeps the message pending, not "not sent" for good
    assert (await first).sent
    assert len(channel.delivered) == 1


async def test_two_first_attempts_at_once_claim_the_message_once() -> None:
    tables = Tables()
    units = FakeMessagingUnitOfWork(tables)
    record = new_record(message().message_id, message().case_id, "email", NOW).attempt(NOW)
    async with units as uow:
        assert await uow.sent.claim(record, 0)
        await uow.commit()
    async with units as uow:
        assert not await uow.sent.claim(record, 0)


async def test_what_became_of_a_message_is_told_without_sending_it() -> None:
    tables, channel = Tables(), FakeChannel(crash_after_send=True)
    never = await dispatcher(tables, FakeChannel()).outcome(message().message_id, Channel.EMAIL)
    assert never is None  # no attempt: nothing to tell
    with pytest.raises(SystemExit):
        await dispatcher(tables, channel).dispatch(message())
    told = await dispatcher(tables, channel).outcome(message().message_id, Channel.EMAIL)
    assert told is not None  # cut off after the channel took it
    assert told.sent
    assert len(channel.delivered) == 1
    record = tables.sent[message().message_id]
    assert record.state is SendState.SENT
    again = await dispatcher(tables, channel).outcome(message().message_id, Channel.EMAIL)
    assert again == told


async def test_an_attempt_that_never_reached_the_channel_is_told_as_none() -> None:
    tables = Tables()
    tables.sent[message().message_id] = new_record(
        message().message_id, message().case_id, Channel.EMAIL.value, NOW
    ).attempt(NOW)
    told = await dispatcher(tables, FakeChannel()).outcome(message().message_id, Channel.EMAIL)
    assert told is None


async def letter_handed_over_while_the_vault_is_down(
    tables: Tables, channel: FakeChannel, evidence: FakeEvidence
) -> bytes:
    """A first letter the channel took, whose evidence the vault refused: left `sending`."""
    with pytest.raises(VaultDown):
        await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    ((_, _, handed_over),) = channel.delivered
    assert tables.sent[message().message_id].state is SendState.SENDING
    assert evidence.kept == []
    return handed_over.pdf


async def test_a_letter_whose_evidence_the_vault_missed_keeps_the_channel_copy_on_retry() -> None:
    tables, channel, evidence = Tables(), FakeChannel(), FakeEvidence(failures=1)
    pdf = await letter_handed_over_while_the_vault_is_down(tables, channel, evidence)
    after_the_lease()
    result = await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    assert result.sent
    assert len(channel.delivered) == 1  # not posted twice
    assert [(case, kept) for case, _, kept in evidence.kept] == [(message().case_id, pdf)]
    assert evidence.creditors == [message().creditor_id]
    record = tables.sent[message().message_id]
    assert (record.state, record.duplicates) == (SendState.SENT, 0)


async def test_a_letter_stays_sending_while_the_vault_still_does_not_answer() -> None:
    tables, channel, evidence = Tables(), FakeChannel(), FakeEvidence(failures=2)
    pdf = await letter_handed_over_while_the_vault_is_down(tables, channel, evidence)
    after_the_lease()
    with pytest.raises(VaultDown):
        await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    assert tables.sent[message().message_id].state is SendState.SENDING  # never sent unproven
    after_the_lease()
    result = await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    assert result.sent
    assert len(channel.delivered) == 1
    assert [kept for _, _, kept in evidence.kept] == [pdf]


async def test_a_letter_whose_plan_stopped_is_told_sent_only_with_its_evidence() -> None:
    tables, channel, evidence = Tables(), FakeChannel(), FakeEvidence(failures=2)
    pdf = await letter_handed_over_while_the_vault_is_down(tables, channel, evidence)
    after_the_lease()
    with pytest.raises(VaultDown):
        await dispatcher(tables, channel, evidence).outcome(message().message_id, Channel.LETTER)
    assert tables.sent[message().message_id].state is SendState.SENDING
    told = await dispatcher(tables, channel, evidence).outcome(message().message_id, Channel.LETTER)
    assert told is not None
    assert told.sent
    assert len(channel.delivered) == 1
    assert [(case, kept) for case, _, kept in evidence.kept] == [(message().case_id, pdf)]
    assert evidence.creditors == [message().creditor_id]
    assert tables.sent[message().message_id].state is SendState.SENT


async def test_a_letter_kept_before_a_crash_is_kept_once_on_retry() -> None:
    tables, evidence = Tables(), FakeEvidence()

    class CrashAfterEvidence(FakeEvidence):
        async def keep_pdf(self, **kept: str | bytes) -> str:  # type: ignore[override]
            await evidence.keep_pdf(**kept)  # type: ignore[arg-type]
            raise SystemExit("killed between the vault and the record")

    channel = FakeChannel()
    with pytest.raises(SystemExit):
        await dispatcher(tables, channel, CrashAfterEvidence()).dispatch(
            message(channel=Channel.LETTER)
        )
    after_the_lease()
    result = await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    assert result.sent
    assert len(channel.delivered) == 1
    assert [kept for _, _, kept in evidence.kept] == [channel.delivered[0][2].pdf]


async def test_a_letter_the_channel_holds_no_pdf_of_is_not_recorded_sent() -> None:
    tables, evidence = Tables(), FakeEvidence(failures=1)

    class LostFile(FakeChannel):
        async def copy_of(self, message_id: str) -> bytes | None:
            return None

    channel = LostFile()
    await letter_handed_over_while_the_vault_is_down(tables, channel, evidence)
    after_the_lease()
    with pytest.raises(EvidenceMissing, match="holds no PDF"):
        await dispatcher(tables, channel, evidence).dispatch(message(channel=Channel.LETTER))
    with pytest.raises(EvidenceMissing):
        await dispatcher(tables, channel, evidence).outcome(message().message_id, Channel.LETTER)
    assert tables.sent[message().message_id].state is SendState.SENDING
    assert len(channel.delivered) == 1


async def test_an_email_cut_off_after_sending_is_recorded_sent_with_no_evidence() -> None:
    tables, channel, evidence = Tables(), FakeChannel(crash_after_send=True), FakeEvidence()
    with pytest.raises(SystemExit):
        await dispatcher(tables, channel, evidence).dispatch(message())
    after_the_lease()
    assert (await dispatcher(tables, channel, evidence).dispatch(message())).sent
    assert evidence.kept == []  # an e-mail carries no PDF: nothing to keep
