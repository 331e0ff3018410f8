"""The case file on fakes: the provider holding a case now reads the debtor's identity and
contacts, the invoices and what is owed, and each read is on the creditor's timeline; anyone
else, a past holder included, gets exactly the answer of a case that does not exist."""

from __future__ import annotations

import pytest

from intake.domain.case_life import Holder
from intake.domain.commands import GetCaseFile, GetCaseTimeline, Requester, SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import CaseNotFound
from intake.domain.invoices import InvoiceInput
from intake.domain.model import CaseWithAmounts
from intake.service_layer.case_file import read_case_file
from intake.service_layer.read_cases import case_timeline
from intake.service_layer.submit_case import submit_case
from recouvra.events.v1 import assignment_events_pb2 as assignment
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage
from services.intake.tests.unit.test_intake_case_life import A, assigned, deliver, rotated

HOLDER = Requester("provider", "prov-1")


async def a_company_case(storage: FakeIntakeStorage) -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(
            kind="company",
            name="Boulangerie Martin SARL",
            siren_or_siret="732829320",
            address_lines=("12 rue des Lilas",),
            postal_code="75011",
            city="Paris",
            email="compta@martin.example",
            phone="+33142000000",
        ),
        invoices=(InvoiceInput("F-9", "2026-03-01", "2026-03-31", "EUR", "1200.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


async def read(
    storage: FakeIntakeStorage, case_id: str, requester: Requester
) -> tuple[CaseWithAmounts, Holder]:
    async with storage.unit_of_work() as uow:
        return await read_case_file(GetCaseFile(case_id, requester), uow, TODAY)


async def test_the_holder_reads_whom_to_collect_from_and_the_creditor_sees_the_read() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_company_case(storage)
    await deliver(storage, assigned(case_id))
    found, holder = await read(storage, case_id, HOLDER)
    debtor = found.case.debtor
    assert (debtor.name, debtor.siren, debtor.email, debtor.phone) == (
        "Boulangerie Martin SARL",
        "732829320",
        "compta@martin.example",
        "+33142000000",
    )
    assert debtor.address_lines == ("12 rue des Lilas",)
    assert [i.invoice_number for i in found.case.invoices] == ["F-9"]
    assert found.amounts.principal_minor == 120000
    assert (holder.provider_id, holder.round) == ("prov-1", 1)
    async with storage.unit_of_work() as uow:
        entries = await case_timeline(
            GetCaseTimeline(case_id, requester=Requester("creditor", A)), uow
        )
    last = entries[-1]
    assert (last.source, last.event_type) == ("intake", "case-file-read")
    assert "prov-1" in last.summary
    assert last.occurred_at is not None


@pytest.mark.parametrize(
    "requester",
    [
        Requester("provider", "prov-2"),
        Requester("provider", ""),
        Requester("creditor", "prov-1"),
        Requester("creditor", A),
        Requester(),
    ],
    ids=[
        "another provider",
        "no provider id",
        "a creditor named like it",
        "the creditor",
        "a service",
    ],
)
async def test_nobody_but_the_holder_reads_the_case_file(requester: Requester) -> None:
    storage = FakeIntakeStorage()
    case_id = await a_company_case(storage)
    await deliver(storage, assigned(case_id))
    with pytest.raises(CaseNotFound):
        await read(storage, case_id, requester)
    assert storage.timeline_of(case_id)[-1].event_type == "case-assigned"


async def test_a_provider_offered_but_not_yet_assigned_does_not_read_it() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_company_case(storage)
    with pytest.raises(CaseNotFound):
        await read(storage, case_id, HOLDER)


async def test_a_past_holder_reads_nothing_after_a_rotation_or_a_recall() -> None:
    storage = FakeIntakeStorage()
    rotated_case, recalled_case = await a_company_case(storage), await a_company_case_2(storage)
    await deliver(storage, assigned(rotated_case), rotated(rotated_case))
    await deliver(
        storage,
        assigned(recalled_case),
        assignment.CaseRecalled(case_id=recalled_case, provider_id="prov-1", round=1, reason="x"),
    )
    for case_id in (rotated_case, recalled_case):
        with pytest.raises(CaseNotFound):
            await read(storage, case_id, HOLDER)


async def test_the_next_holder_reads_it_and_the_one_before_does_not() -> None:
    storage = FakeIntakeStorage()
    case_id = await a_company_case(storage)
    await deliver(storage, assigned(case_id), rotated(case_id), assigned(case_id, "prov-2", 2))
    _found, holder = await read(storage, case_id, Requester("provider", "prov-2"))
    assert (holder.provider_id, holder.round) == ("prov-2", 2)
    with pytest.raises(CaseNotFound):
        await read(storage, case_id, HOLDER)


async def test_a_missing_case_is_not_found_alike() -> None:
    storage = FakeIntakeStorage()
    for case_id in ("not-a-case", "3f0b6c52-8d1e-4c1a-9b7e-000000000000"):
        with pytest.raises(CaseNotFound):
            await read(storage, case_id, HOLDER)


async def a_company_case_2(storage: FakeIntakeStorage) -> str:
    command = SubmitCase(
        creditor_id=A,
        debtor=DebtorInput(kind="company", name="Garage Durand SAS"),
        invoices=(InvoiceInput("G-1", "2026-03-01", "2026-03-31", "EUR", "300.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()
