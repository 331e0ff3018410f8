"""The case thread on fakes: each party sees what it wrote and what was addressed to it; a
recalled holder loses the thread and the next holder does not read its predecessor's; attachments
are the case's documents in the vault (shareable when the debtor receives them); each recipient
is told by e-mail once, without the words. And the holder records disputes, promises and plan
proposals, only while it holds the case."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from messaging.domain.plans import PlanStatus
from messaging.domain.portal_sessions import open_session
from messaging.domain.thread import ThreadParty
from messaging.domain.thread_notices import NoticeState
from messaging.entrypoints.debtor_action_api import DebtorActionApi
from messaging.entrypoints.plan_events import PlanEventConsumers
from messaging.entrypoints.thread_api import CaseThreadApi, PortalThreadApi
from messaging.service_layer import plan_lifecycle, portal
from messaging.service_layer.case_thread import send_next_notice
from messaging.service_layer.debtor_actions import DECLARED_PAYMENT_WAIT
from messaging.service_layer.plan_lifecycle import promise_check_at
from messaging.service_layer.portal import PortalSources
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseRecalled
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.messaging.v1 import portal_pb2
from recouvra.messaging.v1 import thread_pb2 as pb
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidRequest, NotFound
from services.messaging.tests.unit.channel_fakes import CASE, NOW, PAYMENT
from services.messaging.tests.unit.fakes import TestClock, Units
from services.messaging.tests.unit.thread_fakes import FakeAddresses, FakeVault, RecordingMailer

SECRET = b"s" * 32
CASE_ID = CASE.case_id
CREDITOR, OTHER_CREDITOR = CASE.creditor_id, "creditor-2"
HOLDER, NEXT_HOLDER, OTHER_PROVIDER = "provider-1", "provider-2", "provider-9"
GATEWAY = Caller(kind="service", subject="gateway")
SHAREABLE = "11111111-1111-4111-8111-111111111111"
INTERNAL = "22222222-2222-4222-8222-222222222222"
FOREIGN = "33333333-3333-4333-8333-333333333333"


class Facts:
    async def case(self, case_id: str) -> Any:
        return CASE

    async def instructions(self, case_id: str, amount_minor: int, currency: str) -> Any:
        return replace(PAYMENT, amount_minor=amount_minor)


@pytest.fixture(autouse=True)
def no_caller() -> Iterator[None]:
    token = caller_var.set(None)
    yield
    caller_var.reset(token)


class World:
    def __init__(self) -> None:
        self.units = Units()
        self.clock = TestClock(NOW)
        self.vault = FakeVault()
        self.vault.keep(CASE_ID, SHAREABLE, CREDITOR, shareable=True)
        self.vault.keep(CASE_ID, INTERNAL, CREDITOR)
        self.vault.keep("another-case", FOREIGN, CREDITOR, shareable=True)
        self.thread = CaseThreadApi(self.units, self.vault, self.clock)
        self.portal = PortalThreadApi(self.units, self.vault, self.clock, lambda: SECRET)
        sources = PortalSources(cases=Facts(), payments=Facts(), documents=self.vault)
        self.actions = DebtorActionApi(self.units, self.clock, sources)
        self.events = PlanEventConsumers(self.clock)
        self.mailer = RecordingMailer()
        self.addresses = FakeAddresses(
            {
                (ThreadParty.CREDITOR, CREDITOR): "recouvrement@acme.example",
                (ThreadParty.HOLDER, HOLDER): "dossiers@etude.example",
                (ThreadParty.DEBTOR, CASE_ID): "debiteur@example.fr",
            }
        )

    async def event(self, handler: str, event: Any) -> None:
        async with self.units() as uow:
            envelope = EventEnvelope(tenant_id=CREDITOR)
            await getattr(self.events, handler)(event, envelope, uow)
            await uow.commit()

    async def assigned(self, holder: str, round: int) -> None:
        await self.event(
            "on_case_assigned", CaseAssigned(case_id=CASE_ID, provider_id=holder, round=round)
        )

    async def as_(self, kind: str, tenant: str, rpc: str, request: Any) -> Any:
        caller_var.set(Caller(kind=kind, subject=f"someone@{tenant}", tenant_id=tenant))
        api = self.actions if rpc.startswith("Record") else self.thread
        try:
            return await getattr(api, rpc)(request, None)
        finally:
            caller_var.set(None)

    async def post(self, kind: str, tenant: str, to: list[str], text: str, **kw: Any) -> Any:
        request = pb.PostThreadMessageRequest(case_id=CASE_ID, to=to, text=text, **kw)
        return await self.as_(kind, tenant, "PostThreadMessage", request)

    async def texts(self, kind: str, tenant: str) -> list[str]:
        request = pb.ListThreadMessagesRequest(case_id=CASE_ID)
        return [
            m.text for m in (await self.as_(kind, tenant, "ListThreadMessages", request)).messages
        ]

    def session(self) -> str:
        return open_session(CASE_ID, self.clock.now(), SECRET)

    async def debtor_post(self, to: list[str], text: str, **kw: Any) -> Any:
        caller_var.set(GATEWAY)
        try:
            request = pb.PostPortalMessageRequest(session=self.session(), to=to, text=text, **kw)
            return await self.portal.PostPortalMessage(request, None)  # type: ignore[arg-type]
        finally:
            caller_var.set(None)

    async def debtor_texts(self) -> list[str]:
        caller_var.set(GATEWAY)
        try:
            request = pb.ListPortalMessagesRequest(session=self.session())
            answer = await self.portal.ListPortalMessages(request, None)  # type: ignore[arg-type]
            return [m.text for m in answer.messages]
        finally:
            caller_var.set(None)


async def world() -> World:
    w = World()
    async with w.units() as uow:
        await plan_lifecycle.case_submitted(
            uow, case_id=CASE_ID, creditor_id=CREDITOR, debtor_key="d-1", region="FR-IDF"
        )
        await uow.commit()
    await w.assigned(HOLDER, 1)
    return w


async def test_each_party_sees_what_it_wrote_and_what_was_addressed_to_it() -> None:
    w = await world()
    first = await w.post("creditor", CREDITOR, ["holder", "debtor"], "Merci de régler sous 8 jours")
    await w.post("provider", HOLDER, ["creditor"], "Le débiteur conteste la facture 57")
    await w.debtor_post(["creditor"], "Je souhaite parler au créancier seulement")
    await w.debtor_post(["holder"], "Je paierai fin du mois")
    assert (first.author, list(first.to)) == ("creditor", ["holder", "debtor"])
    assert await w.texts("creditor", CREDITOR) == [
        "Merci de régler sous 8 jours",
        "Le débiteur conteste la facture 57",
        "Je souhaite parler au créancier seulement",
    ]
    assert await w.texts("provider", HOLDER) == [
        "Merci de régler sous 8 jours",
        "Le débiteur conteste la facture 57",
        "Je paierai fin du mois",
    ]
    assert await w.debtor_texts() == [
        "Merci de régler sous 8 jours",
        "Je souhaite parler au créancier seulement",
        "Je paierai fin du mois",
    ]


async def test_strangers_see_nothing_and_a_message_needs_another_party_and_words() -> None:
    w = await world()
    await w.post("creditor", CREDITOR, ["holder"], "Bonjour")
    for kind, tenant in (("creditor", OTHER_CREDITOR), ("provider", OTHER_PROVIDER)):
        with pytest.raises(NotFound):
            await w.texts(kind, tenant)
        with pytest.raises(NotFound):
            await w.post(kind, tenant, ["debtor"], "Payez")
    for to, text, field in (
        ([], "x", "to"),
        (["creditor"], "x", "to"),
        (["judge"], "x", "to"),
        (["holder"], "   ", "text"),
        (["holder"], "x" * 4001, "text"),
    ):
        with pytest.raises(InvalidRequest, match=field):
            await w.post("creditor", CREDITOR, to, text)


async def test_a_recalled_holder_loses_the_thread_and_the_next_does_not_read_it() -> None:
    w = await world()
    await w.post("creditor", CREDITOR, ["holder"], "Pour le premier cabinet")
    await w.post("provider", HOLDER, ["creditor", "debtor"], "Relance du premier cabinet")
    await w.event("on_case_recalled", CaseRecalled(case_id=CASE_ID, provider_id=HOLDER, round=1))
    with pytest.raises(NotFound):
        await w.texts("provider", HOLDER)
    with pytest.raises(NotFound):
        await w.post("provider", HOLDER, ["creditor"], "Encore moi")
    with pytest.raises(InvalidRequest, match="to"):  # nobody holds it: no holder to write to
        await w.post("creditor", CREDITOR, ["holder"], "Personne")
    await w.assigned(NEXT_HOLDER, 2)
    assert await w.texts("provider", NEXT_HOLDER) == []
    await w.post("creditor", CREDITOR, ["holder"], "Pour le second cabinet")
    assert await w.texts("provider", NEXT_HOLDER) == ["Pour le second cabinet"]
    assert await w.debtor_texts() == ["Relance du premier cabinet"]
    assert len(await w.texts("creditor", CREDITOR)) == 3


async def test_attachments_are_the_cases_documents_and_shareable_when_the_debtor_reads_them() -> (
    None
):
    w = await world()
    for document in (FOREIGN, "44444444-4444-4444-8444-444444444444"):
        with pytest.raises(InvalidRequest, match="attachment_document_ids"):
            await w.post(
                "creditor", CREDITOR, ["holder"], "Pièce", attachment_document_ids=[document]
            )
    with pytest.raises(InvalidRequest, match="shareable"):
        await w.post("creditor", CREDITOR, ["debtor"], "Pièce", attachment_document_ids=[INTERNAL])
    to_holder = await w.post(
        "creditor", CREDITOR, ["holder"], "Interne", attachment_document_ids=[INTERNAL]
    )
    to_debtor = await w.debtor_post(["holder"], "Ma preuve", attachment_document_ids=[SHAREABLE])
    assert list(to_holder.attachment_document_ids) == [INTERNAL]
    assert list(to_debtor.attachment_document_ids) == [SHAREABLE]
    assert len(await w.texts("creditor", CREDITOR)) == 1  # the refused ones were not written


async def test_each_recipient_is_told_once_by_email_without_the_words() -> None:
    w = await world()
    message = await w.post("provider", HOLDER, ["creditor", "debtor"], "Secret: facture 57")
    await w.debtor_post(["holder"], "Réponse")
    while await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now()):
        pass
    told = sorted((n.party.value, n.case_id, address) for n, address in w.mailer.sent)
    assert told == [
        ("creditor", CASE_ID, "recouvrement@acme.example"),
        ("debtor", CASE_ID, "debiteur@example.fr"),
        ("holder", CASE_ID, "dossiers@etude.example"),
    ]
    w.clock.advance(timedelta(hours=1))  # past every lease: nothing is sent twice
    assert not await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now())
    async with w.units() as uow:
        notices = await uow.thread_notices.of_message(message.message_id)
    assert {n.state for n in notices} == {NoticeState.SENT}


async def test_a_notice_lost_in_a_crash_is_sent_again_after_its_lease() -> None:
    w = await world()
    await w.post("creditor", CREDITOR, ["holder"], "Bonjour")
    async with w.units() as uow:  # the crash: claimed, never finished
        assert await uow.thread_notices.claim(w.clock.now(), timedelta(minutes=2)) is not None
        await uow.commit()
    assert not await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now())
    w.clock.advance(timedelta(minutes=3))
    assert await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now())
    assert [(n.party, n.attempts) for n, _ in w.mailer.sent] == [(ThreadParty.HOLDER, 2)]


async def test_a_notice_that_arrived_before_the_crash_is_not_sent_again() -> None:
    w = await world()
    message = await w.post("creditor", CREDITOR, ["holder"], "Bonjour")
    async with w.units() as uow:  # the crash: claimed and sent, never recorded
        claimed = await uow.thread_notices.claim(w.clock.now(), timedelta(minutes=2))
        await uow.commit()
    assert claimed is not None
    w.mailer.delivered.append(claimed.notice_id)
    w.clock.advance(timedelta(minutes=3))
    assert await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now())
    assert w.mailer.sent == []  # the log showed it: recorded sent, not sent twice
    async with w.units() as uow:
        (notice,) = await uow.thread_notices.of_message(message.message_id)
    assert (notice.state, notice.duplicates) == (NoticeState.SENT, 0)


async def test_a_party_without_an_address_is_recorded_not_told() -> None:
    w = await world()
    w.addresses.known.clear()
    message = await w.post("creditor", CREDITOR, ["holder"], "Bonjour")
    assert await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now())
    assert w.mailer.sent == []
    async with w.units() as uow:
        notices = await uow.thread_notices.of_message(message.message_id)
    assert [n.state for n in notices] == [NoticeState.NO_ADDRESS]


async def test_the_holder_records_disputes_promises_and_plans_while_it_holds_the_case() -> None:
    w = await world()
    w.vault.keep(CASE_ID, "55555555-5555-4555-8555-555555555555", CREDITOR)
    dispute = await w.as_(
        "provider",
        HOLDER,
        "RecordDispute",
        portal_pb2.RecordDisputeRequest(
            case_id=CASE_ID,
            reason="defective",
            text="Le débiteur dit la marchandise abîmée",
            evidence_document_ids=["55555555-5555-4555-8555-555555555555"],
        ),
    )
    promise = await w.as_(
        "provider",
        HOLDER,
        "RecordPromise",
        portal_pb2.RecordPromiseRequest(
            case_id=CASE_ID,
            amount=Money(minor_units=10_000, currency="EUR"),
            promised_on="2026-12-20",
        ),
    )
    plan = await w.as_(
        "provider",
        HOLDER,
        "RecordPlanProposal",
        portal_pb2.RecordPlanProposalRequest(
            case_id=CASE_ID, count=3, first_due_on="2026-12-15", period="monthly"
        ),
    )
    assert (dispute.reason, promise.made_by, plan.proposed_by) == ("defective", "holder", "holder")
    async with w.units() as uow:
        plans = await uow.plans.of_case(CASE_ID)
    assert [p.status for p in plans] == [PlanStatus.PAUSED]  # the dispute holds contact
    topics = [event.topic for event in w.units.platform.outbox]
    assert {"messaging.dispute-opened.v1", "messaging.promise-made.v1"} <= set(topics)
    assert "messaging.plan-proposed.v1" in topics  # the creditor is told of each
    with pytest.raises(InvalidRequest, match="evidence_document_ids"):
        await w.as_(
            "provider",
            HOLDER,
            "RecordDispute",
            portal_pb2.RecordDisputeRequest(
                case_id=CASE_ID, reason="defective", evidence_document_ids=[FOREIGN]
            ),
        )
    for kind, tenant in (("provider", OTHER_PROVIDER), ("creditor", CREDITOR)):
        with pytest.raises(NotFound):
            await w.as_(
                kind,
                tenant,
                "RecordPromise",
                portal_pb2.RecordPromiseRequest(
                    case_id=CASE_ID,
                    amount=Money(minor_units=100, currency="EUR"),
                    promised_on="2026-12-20",
                ),
            )
    await w.event("on_case_recalled", CaseRecalled(case_id=CASE_ID, provider_id=HOLDER, round=1))
    with pytest.raises(NotFound):
        await w.as_(
            "provider",
            HOLDER,
            "RecordDispute",
            portal_pb2.RecordDisputeRequest(case_id=CASE_ID, reason="defective"),
        )


async def test_a_declared_payment_tells_creditor_and_holder_and_holds_contact_for_the_money() -> (
    None
):
    w = await world()
    sources = PortalSources(cases=Facts(), payments=Facts(), documents=w.vault)
    declaration = await portal.declare(
        w.units,
        sources,
        case_id=CASE_ID,
        amount_minor=12_345,
        currency="EUR",
        paid_on=NOW.date(),
        proof_document_id=SHAREABLE,
        now=NOW,
    )
    for kind, tenant in (("creditor", CREDITOR), ("provider", HOLDER)):
        listed = await w.as_(
            kind, tenant, "ListThreadMessages", pb.ListThreadMessagesRequest(case_id=CASE_ID)
        )
        (told,) = listed.messages
        assert (told.author, list(told.attachment_document_ids)) == ("debtor", [SHAREABLE])
        assert "123.45 EUR" in told.text
    assert declaration.proof_document_id == SHAREABLE
    async with w.units() as uow:
        (plan,) = await uow.plans.of_case(CASE_ID)
    assert plan.status is PlanStatus.PAUSED
    assert plan.due_at == promise_check_at((NOW + DECLARED_PAYMENT_WAIT).date())
    while await send_next_notice(w.units, w.addresses, w.mailer, w.clock.now()):
        pass
    assert sorted(address for _, address in w.mailer.sent) == [
        "dossiers@etude.example",
        "recouvrement@acme.example",
    ]
