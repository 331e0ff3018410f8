"""Following cases on fakes: one case with its legal amounts, filtered pages of cases, the
timeline; each only as far as the requester may see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.domain.commands import GetCase, GetCaseTimeline, ListCases, Requester, SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import CaseNotFound, InvalidField, InvalidRequest
from intake.domain.invoices import InvoiceInput
from intake.service_layer.read_cases import case_timeline, get_case, list_cases
from intake.service_layer.submit_case import submit_case
from recouvra_shared.errors import NotFound
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

A, B = "creditor-a", "creditor-b"
AS_A = Requester("creditor", A)


async def submit(
    storage: FakeIntakeStorage, creditor: str, number: str, amount: str, name: str = "ACME SAS"
) -> str:
    command = SubmitCase(
        creditor_id=creditor,
        debtor=DebtorInput(
            kind="company", name=name, siren_or_siret="552032534" if name == "ACME SAS" else ""
        ),
        invoices=(InvoiceInput(number, "2026-03-01", "2026-03-31", "EUR", amount),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


async def test_a_case_comes_with_what_is_owed_on_the_day_asked() -> None:
    storage = FakeIntakeStorage()
    case_id = await submit(storage, A, "F-1", "1000.00")
    async with storage.unit_of_work() as uow:
        today = await get_case(GetCase(case_id, requester=AS_A), uow, TODAY)
        on_due_date = await get_case(
            GetCase(case_id, as_of="2026-03-31", requester=AS_A), uow, TODAY
        )
        with pytest.raises(InvalidField) as refused:
            await get_case(GetCase(case_id, as_of="31/03/2026", requester=AS_A), uow, TODAY)
    assert today.amounts.as_of == TODAY
    assert today.amounts.indemnity_minor == 4000
    assert on_due_date.amounts.total_minor == 100_000
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("as_of", "must be an ISO 8601 date (YYYY-MM-DD)")
    ]


async def test_amounts_before_the_invoice_was_issued_are_refused_naming_as_of() -> None:
    storage = FakeIntakeStorage()
    case_id = await submit(storage, A, "F-1", "1000.00")
    async with storage.unit_of_work() as uow:
        with pytest.raises(InvalidRequest) as refused:
            await get_case(GetCase(case_id, as_of="2026-02-28", requester=AS_A), uow, TODAY)
        on_issue_day = await get_case(
            GetCase(case_id, as_of="2026-03-01", requester=AS_A), uow, TODAY
        )
    assert [(v.field, v.rule) for v in refused.value.violations] == [
        ("as_of", "must not be before 2026-03-01, the issue date of invoice F-1")
    ]
    assert on_issue_day.amounts.total_minor == 100_000


async def test_a_foreign_case_is_exactly_as_missing_as_an_unknown_one() -> None:
    storage = FakeIntakeStorage()
    case_id = await submit(storage, A, "F-1", "10.00")
    async with storage.unit_of_work() as uow:
        for target, requester in [
            (case_id, Requester("creditor", B)),
            ("0b5a3c36-8d8e-4c1e-9a55-3f5d1f1d2b7e", AS_A),
            (case_id, Requester("debtor")),
        ]:
            with pytest.raises(CaseNotFound):
                await get_case(GetCase(target, requester=requester), uow, TODAY)
            with pytest.raises(CaseNotFound):
                await case_timeline(GetCaseTimeline(target, requester=requester), uow)
        with pytest.raises(NotFound):
            await get_case(
                GetCase(case_id, creditor_id=A, requester=Requester("creditor", B)), uow, TODAY
            )
        partner = Requester("partner", "billing-soft")
        found = await get_case(GetCase(case_id, creditor_id=A, requester=partner), uow, TODAY)
        assert found.case.case_id == case_id
        with pytest.raises(InvalidField):
            await get_case(GetCase(case_id, requester=partner), uow, TODAY)


async def test_pages_hold_every_case_once_newest_first() -> None:
    storage = FakeIntakeStorage()
    ids = [await submit(storage, A, f"F-{i}", f"{100 * (i + 1)}.00") for i in range(5)]
    await submit(storage, B, "F-0", "100.00")
    seen: list[str] = []
    token = ""
    pages = 0
    async with storage.unit_of_work() as uow:
        while True:
            page = await list_cases(ListCases(page_size=2, page_token=token, requester=AS_A), uow)
            seen += [c.case_id for c in page.cases]
            pages += 1
            token = page.next_page_token
            if not token:
                break
    assert pages == 3
    assert sorted(seen) == sorted(ids)


async def test_filters_narrow_the_list() -> None:
    storage = FakeIntakeStorage()
    for i in range(3):
        await submit(storage, A, f"F-{i}", f"{100 * (i + 1)}.00")
    zebra = await submit(storage, A, "G-1", "999.00", name="Zebra SAS")
    async with storage.unit_of_work() as uow:

        async def listed(**filters: object) -> list[str]:
            query = ListCases(requester=AS_A, **filters)  # type: ignore[arg-type]
            return [c.case_id for c in (await list_cases(query, uow)).cases]

        assert len(await listed(debtor="552032534")) == 3
        assert await listed(debtor="zebra") == [zebra]
        assert len(await listed(min_amount="200", max_amount="300.00")) == 2
        today = datetime.now(UTC).date().isoformat()
        assert len(await listed(submitted_from=today, submitted_to=today)) == 4
        assert await listed(submitted_to="2020-01-01") == []
        assert await listed(statuses=("withdrawn",)) == []


async def test_bad_filters_are_refused_by_name() -> None:
    storage = FakeIntakeStorage()
    async with storage.unit_of_work() as uow:
        with pytest.raises(InvalidRequest) as refused:
            await list_cases(
                ListCases(
                    debtor="ACME\x00",
                    statuses=("submitted", "x\x00"),
                    min_amount="abc",
                    submitted_from="yesterday",
                    requester=AS_A,
                ),
                uow,
            )
        assert {v.field for v in refused.value.violations} == {
            "debtor",
            "statuses[1]",
            "min_amount",
            "submitted_from",
        }
        with pytest.raises(InvalidField):
            await list_cases(ListCases(page_size=201, requester=AS_A), uow)
        with pytest.raises(InvalidField):
            await list_cases(ListCases(page_token="garbage!", requester=AS_A), uow)
        nothing = await list_cases(ListCases(requester=Requester("provider")), uow)
        assert nothing.cases == []


async def test_the_timeline_lists_what_happened_oldest_first() -> None:
    storage = FakeIntakeStorage()
    case_id = await submit(storage, A, "F-1", "10.00")
    async with storage.unit_of_work() as uow:
        entries = await case_timeline(GetCaseTimeline(case_id, requester=AS_A), uow)
    assert [(e.source, e.event_type) for e in entries] == [("intake", "case-submitted")]
