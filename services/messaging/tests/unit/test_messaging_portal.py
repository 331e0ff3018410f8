"""The debtor portal on fakes: a signed link opens it only with a second factor, five wrong
answers lock the link, the session names one case and opens nothing of another; the claim is
itemised with how to pay; the debtor's actions land on its own case; only the gateway calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from messaging.domain import portal_links
from messaging.domain.content import CaseFacts, PaymentDetails
from messaging.domain.instalments import InstalmentPolicy
from messaging.entrypoints.debtor_action_api import DebtorActionApi
from messaging.entrypoints.portal_api import PortalApi
from messaging.service_layer import plan_lifecycle
from messaging.service_layer.portal import PortalSources
from recouvra.common.v1.money_pb2 import Money
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidRequest, NotFound, PermissionDenied
from services.messaging.tests.unit.channel_fakes import CASE, NOW, PAYMENT
from services.messaging.tests.unit.fakes import TestClock, Units
from services.messaging.tests.unit.thread_fakes import FakeVault

SECRET = b"s" * 32
CASE_A, CASE_B = "case-a", "case-b"
EVIDENCE = "0b6f9a55-6a57-4c55-9d8e-2f7d7b1c1a10"
EVIDENCE_OF_B = "7c1d2e3f-0000-4c55-9d8e-2f7d7b1c1a11"
GATEWAY = Caller(kind="service", subject="gateway")


class TwoCases:
    """Intake and settlement with two cases of two creditors and two debtors."""

    def __init__(self) -> None:
        self.cases = {
            CASE_A: replace(CASE, case_id=CASE_A, creditor_id="creditor-a"),
            CASE_B: replace(
                CASE,
                case_id=CASE_B,
                creditor_id="creditor-b",
                invoices=(replace(CASE.invoices[0], number="B-7"),),
                debtor=replace(CASE.debtor, party=replace(CASE.debtor.party, postal_code="13001")),
            ),
        }

    async def case(self, case_id: str) -> CaseFacts:
        return self.cases[case_id]

    async def instructions(self, case_id: str, amount_minor: int, currency: str) -> PaymentDetails:
        return replace(PAYMENT, amount_minor=amount_minor, reference=f"RF-{case_id}")


@pytest.fixture(autouse=True)
def as_gateway() -> Iterator[None]:
    token = caller_var.set(GATEWAY)
    yield
    caller_var.reset(token)


class World:
    def __init__(self) -> None:
        self.units = Units()
        self.clock = TestClock(NOW)
        facts = TwoCases()
        self.vault = FakeVault()
        self.vault.keep(CASE_A, EVIDENCE, "creditor-a")
        self.vault.keep(CASE_B, EVIDENCE_OF_B, "creditor-b")
        sources = PortalSources(cases=facts, payments=facts, documents=self.vault)
        self.api = PortalApi(self.units, sources, self.clock, lambda: SECRET)
        self.creditors = DebtorActionApi(self.units, self.clock, sources)

    async def known(self) -> World:
        for case_id, creditor, debtor in (
            (CASE_A, "creditor-a", "d-a"),
            (CASE_B, "creditor-b", "d-b"),
        ):
            async with self.units() as uow:
                await plan_lifecycle.case_submitted(
                    uow, case_id=case_id, creditor_id=creditor, debtor_key=debtor, region="FR-IDF"
                )
                await uow.commit()
        return self

    def link(self, case_id: str) -> str:
        return portal_links.sign(case_id, NOW + timedelta(days=30), SECRET)

    async def open(self, case_id: str, answer: str) -> str:
        reply = await self.api.OpenPortal(
            pb.OpenPortalRequest(token=self.link(case_id), second_factor=answer),
            None,  # type: ignore[arg-type]
        )
        return reply.session

    async def call(self, method: str, request: Any) -> Any:
        return await getattr(self.api, method)(request, None)


async def world() -> World:
    return await World().known()


@pytest.mark.parametrize("answer", ["F-2026-0042", " f 2026 0057 ", "69003"])
async def test_an_invoice_number_or_the_postal_code_opens_the_claim_itemised(answer: str) -> None:
    w = await world()
    session = await w.open(CASE_A, answer)
    claim = await w.call("GetClaim", pb.GetClaimRequest(session=session))
    assert claim.case_id == CASE_A
    assert claim.creditor_id == "creditor-a"  # the vault's tenant of the shared documents
    assert [i.number for i in claim.invoices] == ["F-2026-0042", "F-2026-0057"]
    assert (claim.principal.minor_units, claim.interest.minor_units) == (143_456, 2_874)
    assert (claim.other_sums.minor_units, claim.total.minor_units) == (8_000, 154_330)
    assert claim.how_to_pay.iban == PAYMENT.iban
    assert claim.how_to_pay.reference == f"RF-{CASE_A}"
    assert claim.how_to_pay.amount.minor_units == 154_330


async def test_another_cases_answer_opens_nothing() -> None:
    w = await world()
    for answer in ("B-7", "13001", "", "F-2026"):
        with pytest.raises(PermissionDenied, match="second_factor"):
            await w.open(CASE_A, answer)


async def test_five_wrong_answers_lock_the_link_even_for_the_right_one() -> None:
    w = await world()
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(PermissionDenied, match=f"{left} attempts left"):
            await w.open(CASE_A, "00000")
    with pytest.raises(PermissionDenied, match="locked"):
        await w.open(CASE_A, "69003")
    assert await w.open(CASE_B, "13001")  # another link is not locked


async def test_right_answers_do_not_count_towards_the_lock() -> None:
    w = await world()
    for _ in range(4):
        with pytest.raises(PermissionDenied):
            await w.open(CASE_A, "00000")
    for _ in range(3):
        assert await w.open(CASE_A, "69003")


async def test_a_session_opens_its_case_only_and_cannot_be_bent_to_another() -> None:
    w = await world()
    session_a = await w.open(CASE_A, "69003")
    forged = session_a.replace(CASE_A, CASE_B)
    for bad in (forged, w.link(CASE_B), "", session_a[:-3] + "AAA"):
        with pytest.raises(PermissionDenied, match="session"):
            await w.call("GetClaim", pb.GetClaimRequest(session=bad))
    await w.call(
        "ProposePlan",
        pb.ProposePlanRequest(session=session_a, count=3, first_due_on="2026-12-15"),
    )
    session_b = await w.open(CASE_B, "B-7")
    claim_b = await w.call("GetClaim", pb.GetClaimRequest(session=session_b))
    assert claim_b.case_id == CASE_B
    assert list(claim_b.plans) == []
    with pytest.raises(PermissionDenied):  # a session is not a link
        await w.api.OpenPortal(pb.OpenPortalRequest(token=session_a, second_factor="69003"), None)  # type: ignore[arg-type]


async def test_a_session_expires_after_thirty_minutes() -> None:
    w = await world()
    session = await w.open(CASE_A, "69003")
    w.clock.advance(timedelta(minutes=31))
    with pytest.raises(PermissionDenied, match="expired"):
        await w.call("GetClaim", pb.GetClaimRequest(session=session))


@pytest.mark.parametrize(
    "caller",
    [
        Caller(kind="creditor", subject="c@x", tenant_id="creditor-a"),
        Caller(kind="service", subject="matching"),
    ],
)
async def test_only_the_gateway_serves_the_portal(caller: Caller) -> None:
    w = await world()
    caller_var.set(caller)
    with pytest.raises(PermissionDenied, match="caller"):
        await w.open(CASE_A, "69003")


async def test_the_debtor_proposes_promises_disputes_declares_and_sees_it_all() -> None:
    w = await world()
    s = await w.open(CASE_A, "69003")
    plan = await w.call(
        "ProposePlan",
        pb.ProposePlanRequest(session=s, count=3, first_due_on="2026-12-15", period="monthly"),
    )
    assert (plan.state, plan.decided_by) == ("agreed", "policy")
    assert [(i.due_on, i.amount.minor_units) for i in plan.instalments] == [
        ("2026-12-15", 51_443),
        ("2027-01-15", 51_443),
        ("2027-02-15", 51_444),
    ]
    await w.call(
        "PromisePayment",
        pb.PromisePaymentRequest(
            session=s, amount=Money(minor_units=10_000, currency="EUR"), promised_on="2026-12-10"
        ),
    )
    await w.call(
        "OpenDispute",
        pb.OpenDisputeRequest(
            session=s,
            reason="wrong-amount",
            text="Facture 57 déjà avoirée",
            evidence_document_ids=[EVIDENCE],
        ),
    )
    await w.call(
        "DeclarePayment",
        pb.DeclarePaymentRequest(
            session=s,
            amount=Money(minor_units=20_000, currency="EUR"),
            paid_on="2026-11-30",
            proof_document_id=EVIDENCE,
            method="cheque",
            reference=" CHQ 0004512 ",
        ),
    )
    prefs = await w.call(
        "SetContactPreferences",
        pb.SetContactPreferencesRequest(session=s, refused_channels=["sms"]),
    )
    assert list(prefs.refused_channels) == ["sms"]
    claim = await w.call("GetClaim", pb.GetClaimRequest(session=s))
    assert [p.state for p in claim.plans] == ["agreed"]
    assert [p.amount.minor_units for p in claim.promises] == [10_000]
    assert [(d.reason, d.text) for d in claim.disputes] == [
        ("wrong-amount", "Facture 57 déjà avoirée")
    ]
    assert [(d.proof_document_id, d.method, d.reference) for d in claim.declarations] == [
        (EVIDENCE, "cheque", "CHQ 0004512")
    ]
    assert list(claim.refused_channels) == ["sms"]


async def test_bad_values_are_refused_naming_each_field() -> None:
    w = await world()
    s = await w.open(CASE_A, "69003")
    with pytest.raises(InvalidRequest, match="first_due_on"):
        await w.call("ProposePlan", pb.ProposePlanRequest(session=s, count=3, first_due_on="soon"))
    with pytest.raises(InvalidRequest, match="count"):
        await w.call(
            "ProposePlan", pb.ProposePlanRequest(session=s, count=1, first_due_on="2026-12-15")
        )
    with pytest.raises(InvalidRequest, match="amount"):
        await w.call(
            "PromisePayment",
            pb.PromisePaymentRequest(
                session=s,
                amount=Money(minor_units=10_000, currency="USD"),
                promised_on="2026-12-10",
            ),
        )
    with pytest.raises(InvalidRequest, match="proof_document_id"):
        await w.call(
            "DeclarePayment",
            pb.DeclarePaymentRequest(
                session=s, amount=Money(minor_units=1, currency="EUR"), paid_on="2026-11-30"
            ),
        )
    with pytest.raises(InvalidRequest, match="method: transfer, cheque or card"):
        await w.call(
            "DeclarePayment",
            pb.DeclarePaymentRequest(
                session=s,
                amount=Money(minor_units=1, currency="EUR"),
                paid_on="2026-11-30",
                proof_document_id=EVIDENCE,
                method="pigeon",
            ),
        )
    with pytest.raises(InvalidRequest):  # a letter cannot be refused: R124-4 needs one
        await w.call(
            "SetContactPreferences",
            pb.SetContactPreferencesRequest(session=s, refused_channels=["letter"]),
        )


async def test_only_the_cases_creditor_sees_and_decides_its_pending_plan() -> None:
    w = await world()
    async with w.units() as uow:
        await uow.instalments.set_policy("creditor-a", InstalmentPolicy(max_instalments=2))
        await uow.commit()
    s = await w.open(CASE_A, "69003")
    plan = await w.call(
        "ProposePlan", pb.ProposePlanRequest(session=s, count=3, first_due_on="2026-12-15")
    )
    assert plan.state == "pending"
    caller_var.set(Caller(kind="creditor", subject="b@x", tenant_id="creditor-b"))
    with pytest.raises(NotFound):
        await w.creditors.ListDebtorActions(pb.ListDebtorActionsRequest(case_id=CASE_A), None)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await w.creditors.DecidePlan(pb.DecidePlanRequest(plan_id=plan.plan_id, accept=True), None)  # type: ignore[arg-type]
    caller_var.set(Caller(kind="creditor", subject="a@x", tenant_id="creditor-a"))
    listed = await w.creditors.ListDebtorActions(pb.ListDebtorActionsRequest(case_id=CASE_A), None)  # type: ignore[arg-type]
    assert [p.plan_id for p in listed.plans] == [plan.plan_id]
    agreed = await w.creditors.DecidePlan(
        pb.DecidePlanRequest(plan_id=plan.plan_id, accept=True), None
    )  # type: ignore[arg-type]
    assert (agreed.state, agreed.decided_by) == ("agreed", "creditor")


async def test_evidence_and_proofs_must_be_documents_of_the_case_in_the_vault() -> None:
    w = await world()
    s = await w.open(CASE_A, "69003")
    for document in (EVIDENCE_OF_B, "0b6f9a55-0000-0000-0000-000000000000"):
        with pytest.raises(InvalidRequest, match="evidence_document_ids"):
            await w.call(
                "OpenDispute",
                pb.OpenDisputeRequest(
                    session=s, reason="defective", evidence_document_ids=[EVIDENCE, document]
                ),
            )
        with pytest.raises(InvalidRequest, match="proof_document_id"):
            await w.call(
                "DeclarePayment",
                pb.DeclarePaymentRequest(
                    session=s,
                    amount=Money(minor_units=1, currency="EUR"),
                    paid_on="2026-11-30",
                    proof_document_id=document,
                ),
            )
    shredded = w.vault.keep(
        CASE_A, "5a5a5a5a-0000-4000-8000-000000000001", "creditor-a", shredded=True
    )
    with pytest.raises(InvalidRequest, match="proof_document_id"):
        await w.call(
            "DeclarePayment",
            pb.DeclarePaymentRequest(
                session=s,
                amount=Money(minor_units=1, currency="EUR"),
                paid_on="2026-11-30",
                proof_document_id=shredded,
            ),
        )
    claim = await w.call("GetClaim", pb.GetClaimRequest(session=s))
    assert (list(claim.disputes), list(claim.declarations)) == ([], [])  # nothing was recorded
