"""The gRPC servicer on fakes: requests become commands (both SubmitCase forms, the content an
idempotency key is bound to), results become replies (streamed import reports in pages)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from intake.adapters.einvoice import read_in_thread
from intake.domain.errors import InvalidField
from intake.entrypoints.grpc_api import IntakeApi
from intake.entrypoints.grpc_commands import einvoice_command, submit_command
from intake.entrypoints.grpc_replies import REPORT_PAGE, report_pages
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller, caller_var
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

NO_CONTEXT: Any = None


@pytest.fixture(autouse=True)
def creditor_a() -> Iterator[None]:
    """Every call here is made by a user of creditor-a, as the interceptor would have verified."""
    token = caller_var.set(Caller(kind="creditor", subject="u-1", tenant_id="creditor-a"))
    yield
    caller_var.reset(token)


def api(storage: FakeIntakeStorage) -> IntakeApi:
    return IntakeApi(storage.unit_of_work, lambda: TODAY, read_in_thread)


def legacy(**extra: object) -> intake_pb2.SubmitCaseRequest:
    fields: dict[str, object] = {
        "idempotency_key": "legacy-1",
        "creditor_id": "creditor-a",
        "debtor_name": "Debtor 1 SARL",
        "debtor_is_business": True,
        "invoice_number": "F-2026-00001",
        "amount": Money(currency="EUR", minor_units=10_137),
        "issue_date": "2026-01-02",
        "due_date": "2026-02-01",
    }
    fields.update(extra)
    return intake_pb2.SubmitCaseRequest(**fields)  # type: ignore[arg-type]


def test_the_deprecated_single_invoice_form_is_one_invoice() -> None:
    command = submit_command(legacy())
    assert command.debtor.kind == "company"
    assert [(i.invoice_number, i.amount_due) for i in command.invoices] == [
        ("F-2026-00001", "101.37")
    ]
    with pytest.raises(InvalidField):
        submit_command(legacy(invoices=[intake_pb2.Invoice(invoice_number="X")]))


def test_a_key_is_bound_to_the_content_less_the_key_and_who_calls() -> None:
    assert submit_command(legacy()).idempotency.key == "legacy-1"
    assert (
        submit_command(legacy()).idempotency.content
        == submit_command(legacy(idempotency_key="other")).idempotency.content
    )
    assert submit_command(legacy()).idempotency != submit_command(legacy(notes="x")).idempotency
    request = intake_pb2.ImportEInvoiceRequest(idempotency_key="e-1", content=b"<x/>")
    with_siren = intake_pb2.ImportEInvoiceRequest(
        idempotency_key="e-1", content=b"<x/>", creditor_siren="552100554"
    )
    assert einvoice_command(request).idempotency == einvoice_command(with_siren).idempotency


def test_an_import_report_streams_in_pages_then_totals() -> None:
    rows = [intake_pb2.RowReport(line=n + 2, accepted=True) for n in range(REPORT_PAGE + 1)]
    report = intake_pb2.ImportCasesResponse(
        rows=len(rows), accepted=len(rows), report=rows, replayed=True, done=True
    )
    pages = list(report_pages(report))
    assert [len(p.report) for p in pages] == [REPORT_PAGE, 1, 0]
    assert pages[-1].done
    assert pages[-1].rows == REPORT_PAGE + 1
    assert all(p.replayed for p in pages)


async def test_a_case_submitted_is_read_back_with_its_amounts() -> None:
    storage = FakeIntakeStorage()
    reply = await api(storage).SubmitCase(legacy(), NO_CONTEXT)
    again = await api(storage).SubmitCase(legacy(), NO_CONTEXT)
    assert (again.case_id, again.replayed, reply.replayed) == (reply.case_id, True, False)
    case = await api(storage).GetCase(intake_pb2.GetCaseRequest(case_id=reply.case_id), NO_CONTEXT)
    assert case.amount.minor_units == 10_137
    assert case.legal_amounts.indemnity.minor_units == 4000
    listed = await api(storage).ListCases(intake_pb2.ListCasesRequest(), NO_CONTEXT)
    assert [c.case_id for c in listed.cases] == [reply.case_id]
    assert not listed.cases[0].HasField("legal_amounts")
    timeline = await api(storage).GetCaseTimeline(
        intake_pb2.GetCaseTimelineRequest(case_id=reply.case_id), NO_CONTEXT
    )
    assert [e.event_type for e in timeline.entries] == ["case-submitted"]


async def test_a_file_over_the_limit_is_refused_before_it_is_all_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("intake.entrypoints.grpc_commands.MAX_BYTES", 10)
    read: list[int] = []

    async def chunks() -> AsyncIterator[intake_pb2.ImportCasesRequest]:
        for n in range(5):
            read.append(n)
            yield intake_pb2.ImportCasesRequest(creditor_id="creditor-a", content=b"x" * 6)

    with pytest.raises(InvalidField):
        async for _ in api(FakeIntakeStorage()).ImportCases(chunks(), NO_CONTEXT):
            pass
    assert read == [0, 1]
