"""CSV bulk import against a real database: the shipped sample, per-row refusals, replays."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from recouvra.intake.v1 import intake_pb2
from services.intake.tests.integration.intake_harness import Intake, violations

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parents[2] / "docs" / "sample-import.csv"
A = "creditor-a"


async def chunks(
    content: bytes, key: str = "", creditor_id: str = "", size: int = 700
) -> AsyncIterator[intake_pb2.ImportCasesRequest]:
    for start in range(0, max(len(content), 1), size):
        head = start == 0
        yield intake_pb2.ImportCasesRequest(
            idempotency_key=key if head else "",
            creditor_id=creditor_id if head else "",
            content=content[start : start + size],
        )


async def run_import(
    intake: Intake, content: bytes, key: str = "", creditor: str = A
) -> tuple[list[intake_pb2.RowReport], intake_pb2.ImportCasesResponse]:
    report: list[intake_pb2.RowReport] = []
    last = intake_pb2.ImportCasesResponse()
    async for message in intake.stub.ImportCases(
        chunks(content, key), metadata=Intake.as_creditor(creditor)
    ):
        report += message.report
        last = message
    assert last.done
    return report, last


def semicolon_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=[
            "invoice_number",
            "issue_date",
            "due_date",
            "currency",
            "amount_due",
            "debtor_kind",
            "debtor_name",
            "debtor_siren_or_siret",
            "disputed",
        ],
        delimiter=";",
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def row(number: str, **extra: str) -> dict[str, str]:
    base = {
        "invoice_number": number,
        "issue_date": "2026-06-01",
        "due_date": "2026-07-01",
        "currency": "EUR",
        "amount_due": "1 234,56".replace(" ", ""),
        "debtor_kind": "company",
        "debtor_name": "Total Énergies Services",
        "debtor_siren_or_siret": "542051180",
        "disputed": "non",
    }
    base.update(extra)
    return base


async def test_the_shipped_sample_file_imports_completely(intake: Intake) -> None:
    report, totals = await run_import(intake, SAMPLE.read_bytes(), key="sample-1")
    assert (totals.rows, totals.accepted, totals.refused) == (5, 5, 0)
    assert [r.line for r in report] == [2, 3, 4, 5, 6]
    assert report[3].case_id == report[4].case_id  # ROUSSEL-2026: one case, two invoices
    case = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=report[1].case_id), metadata=Intake.as_creditor(A)
    )
    assert case.source == "csv"
    assert case.debtor.siren_or_siret == "44306184100013"
    assert case.debtor.address.lines == ["5 rue des Forges", "Bâtiment B"]
    assert case.invoices[0].amount_due.minor_units == 61_250
    consumer = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=report[2].case_id), metadata=Intake.as_creditor(A)
    )
    assert consumer.disputed
    assert consumer.legal_amounts.interest.minor_units == 0

    again, replay = await run_import(intake, SAMPLE.read_bytes(), key="sample-1")
    assert replay.replayed
    assert [r.case_id for r in again] == [r.case_id for r in report]
    async with intake.database.engine.connect() as connection:
        cases = (await connection.execute(text("SELECT count(*) FROM cases"))).scalar_one()
        outbox = (await connection.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
    assert (cases, outbox) == (4, 4)


async def test_each_refused_row_says_which_columns_break_which_rules(intake: Intake) -> None:
    content = semicolon_csv(
        [
            row("T-1"),
            row("T-2", debtor_siren_or_siret="542051181", due_date="2026-05-01"),
            row("T-1"),
            row("T-3", amount_due="12,345", currency="XXX"),
            row("T-4", debtor_kind="", debtor_name=""),
            row("T-5", disputed="maybe"),
            row("T-6", debtor_kind="consumer", debtor_siren_or_siret=""),
        ]
    )
    report, totals = await run_import(intake, content)
    assert (totals.rows, totals.accepted, totals.refused) == (7, 2, 5)
    by_line = {r.line: {v.field: v.description for v in r.violations} for r in report}
    assert report[0].accepted
    assert report[6].accepted
    assert by_line[3] == {
        "debtor_siren_or_siret": "is not a valid SIREN: the check digit is wrong",
        "due_date": "must not be before issue_date",
    }
    assert by_line[4] == {"invoice_number": "T-1 for this debtor is already on line 2"}
    assert set(by_line[5]) == {"currency"}
    assert by_line[6] == {
        "debtor_kind": "must be COMPANY or CONSUMER",
        "debtor_name": "is required",
    }
    assert by_line[7] == {"disputed": "must be yes or no"}

    first = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=report[0].case_id), metadata=Intake.as_creditor(A)
    )
    assert first.invoices[0].amount_due.minor_units == 123_456

    # A second file with an already imported invoice: refused as a duplicate, others go in.
    report, totals = await run_import(intake, semicolon_csv([row("T-1"), row("T-9")]))
    assert (totals.accepted, totals.refused) == (1, 1)
    assert report[0].violations[0].description == "T-1 was already submitted for this debtor"


async def test_an_invoice_is_a_duplicate_only_for_the_same_creditor_and_debtor(
    intake: Intake,
) -> None:
    _, totals = await run_import(intake, semicolon_csv([row("D-1"), row("D-2")]))
    assert totals.accepted == 2
    other_debtor = {"debtor_name": "Peugeot SA", "debtor_siren_or_siret": "552100554"}
    again = [row("D-1", **other_debtor), row("D-2"), row("D-3")]
    report, totals = await run_import(intake, semicolon_csv(again))
    assert [bool(r.case_id) for r in report] == [True, False, True]
    assert report[1].violations[0].description == "D-2 was already submitted for this debtor"
    # Another creditor's own D-1 and D-2 of the same debtor are its own.
    _, totals = await run_import(intake, semicolon_csv([row("D-1"), row("D-2")]), creditor="b")
    assert (totals.accepted, totals.refused) == (2, 0)


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"invoice_number,amount_due\nF-1,10\n", "lacks the required column(s)"),
        (
            SAMPLE.read_bytes().replace(b"notes", b"remarks", 1),
            "has unknown column(s): remarks",
        ),
        (b"\xff\xfeinvoice", "must be UTF-8 text"),
        (b"", "is empty"),
        # A header that is not CSV (text after a closing quote) was an unhandled error.
        (b'"invoice_number"x,amount_due\nF-1,10\n', "is not valid CSV near line 1"),
    ],
)
async def test_an_unusable_file_is_refused_whole(intake: Intake, content: bytes, rule: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await run_import(intake, content)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rule in violations(refused.value)["content"]
    async with intake.database.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM cases"))).scalar_one() == 0


async def test_a_large_file_streams_its_report_in_pages(intake: Intake) -> None:
    rows = [row(f"L-{i:05d}") for i in range(2500)]
    pages = 0
    report: list[intake_pb2.RowReport] = []
    async for message in intake.stub.ImportCases(
        chunks(semicolon_csv(rows), size=64 * 1024), metadata=Intake.as_creditor(A)
    ):
        pages += 1
        report += message.report
    assert pages == 4  # 1000 + 1000 + 500 rows, then the totals
    assert len(report) == 2500
    assert all(r.accepted for r in report)


async def test_rows_sharing_a_case_reference_make_one_case_with_several_invoices(
    intake: Intake,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "case_reference",
            "invoice_number",
            "issue_date",
            "due_date",
            "currency",
            "amount_due",
            "debtor_kind",
            "debtor_name",
            "debtor_siren_or_siret",
            "notes",
        ]
    )
    writer.writerows(
        [
            ["R-1", "G-1", "2026-05-01", "2026-05-31", "EUR", "100.00", "company", "Acme", "", ""],
            ["R-2", "H-1", "2026-05-01", "2026-05-31", "EUR", "50.00", "consumer", "Eve", "", ""],
            ["R-1", "G-2", "2026-06-01", "2026-06-30", "EUR", "250.00", "", "", "", "call first"],
            ["R-2", "H-2", "2026-06-01", "2026-05-01", "EUR", "60.00", "", "", "", ""],
            ["R-2", "H-3", "2026-06-01", "2026-06-30", "EUR", "70.00", "company", "Other", "", ""],
        ]
    )
    report, totals = await run_import(intake, out.getvalue().encode())
    assert (totals.rows, totals.accepted, totals.refused) == (5, 2, 3)
    assert report[0].case_id == report[2].case_id != ""
    case = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=report[0].case_id), metadata=Intake.as_creditor(A)
    )
    assert [i.invoice_number for i in case.invoices] == ["G-1", "G-2"]
    assert case.amount.minor_units == 35_000
    assert case.notes == "call first"
    by_line = {r.line: {v.field: v.description for v in r.violations} for r in report}
    assert by_line[5] == {"due_date": "must not be before issue_date"}
    assert "same debtor as line 3" in by_line[6]["debtor_name"]
    assert by_line[3] == {"case_reference": "the case is refused because of line 5"}


async def test_a_control_character_refuses_its_row_only(intake: Intake) -> None:
    content = SAMPLE.read_bytes().decode("utf-8")
    lines = content.splitlines(keepends=True)
    lines[2] = lines[2].replace(",", ",\x00", 1) if "," in lines[2] else "\x00" + lines[2]
    report, totals = await run_import(intake, "".join(lines).encode("utf-8"), key="nul-1")
    assert (totals.rows, totals.refused) == (5, 1)
    refused = next(r for r in report if r.line == 3)
    assert not refused.case_id
    assert {(v.field, v.description) for v in refused.violations} == {
        ("invoice_number", "must not contain control characters")
    }
    async with intake.database.engine.connect() as connection:
        cases = (await connection.execute(text("SELECT count(*) FROM cases"))).scalar_one()
    assert cases == 3  # the sample's other rows (two of them share one case) are kept


async def test_a_batch_written_with_copy_reads_back_and_still_claims_its_invoices(
    intake: Intake,
) -> None:
    """A batch of 120 cases goes in with COPY: each case reads back as imported (debtor,
    invoice line, amount), and its invoices are claimed like a submission's: a second file
    with some of them refuses those rows, by field and rule, and creates nothing twice."""
    rows = [
        row(f"C-{i:04d}", debtor_name=f"Client {i} SAS", amount_due=f"{100 + i},05")
        for i in range(120)
    ]
    report, totals = await run_import(intake, semicolon_csv(rows), key="copy-1")
    assert (totals.rows, totals.accepted, totals.refused) == (120, 120, 0)
    by_line = {r.line: r for r in report}
    me = Intake.as_creditor(A)
    for i in (0, 59, 119):
        case = await intake.stub.GetCase(
            intake_pb2.GetCaseRequest(case_id=by_line[i + 2].case_id), metadata=me
        )
        assert case.debtor.name == f"Client {i} SAS"
        assert case.debtor.siren_or_siret == "542051180"
        assert [line.invoice_number for line in case.invoices] == [f"C-{i:04d}"]
        assert case.amount.minor_units == (100 + i) * 100 + 5

    again = [row("C-0007", debtor_name="Client 7 SAS"), row("C-9999")]
    report, totals = await run_import(intake, semicolon_csv(again), key="copy-2")
    assert (totals.accepted, totals.refused) == (1, 1)
    assert {v.field: v.description for v in report[0].violations} == {
        "invoice_number": "C-0007 was already submitted for this debtor"
    }
    async with intake.database.engine.connect() as connection:
        counted = await connection.scalar(
            text("SELECT count(*) FROM invoice_lines WHERE invoice_number = 'C-0007'")
        )
    assert counted == 1


async def test_a_file_refused_past_its_first_batches_leaves_nothing_and_the_next_import_works(
    intake: Intake,
) -> None:
    """A line that breaks the CSV quoting rules after 1,200 good rows: the batches before it
    were already written (the third in flight) when it is read. The whole file is refused by
    that line, nothing of it is kept (cases, invoice lines, outbox, timeline), and the same
    rows without it then import in full on the same service."""
    good = semicolon_csv([row(f"R-{i:04d}") for i in range(1200)])
    broken = good + b'"R-bad"x;2026-06-01;2026-07-01;EUR;10;company;Total;542051180;non\n'
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await run_import(intake, broken, key="broken-late")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not valid CSV near line 1202" in violations(refused.value)["content"]
    async with intake.database.engine.connect() as connection:
        for table in ("cases", "invoice_lines", "outbox", "timeline"):
            kept = await connection.scalar(text(f"SELECT count(*) FROM {table}"))
            assert kept == 0, table

    report, totals = await run_import(intake, good, key="good-after")
    assert (totals.rows, totals.accepted, totals.refused) == (1200, 1200, 0)
    assert all(r.case_id for r in report)
