"""Importing a CSV file on fakes: acceptable cases recorded together, each refused row told
which columns break which rules, duplicates caught inside the file and against earlier cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.domain.commands import ImportCases, Requester
from intake.domain.errors import InvalidField
from intake.service_layer.import_csv import IMPORT_BATCH, RowOutcome, import_cases
from recouvra_shared.errors import NotFound
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

SAMPLE = Path(__file__).parents[2] / "docs" / "sample-import.csv"
A = "creditor-a"
AS_A = Requester("creditor", A)
HEADER = (
    "invoice_number;issue_date;due_date;currency;amount_due;debtor_kind;debtor_name;"
    "debtor_siren_or_siret\n"
)
reports: list[list[RowOutcome]] = []


def keep(outcomes: list[RowOutcome]) -> bytes:
    reports.append(outcomes)
    return str(len(reports) - 1).encode()


def rows(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def line(number: str, siren: str = "542051180", due: str = "2026-07-01") -> str:
    return f"{number};2026-06-01;{due};EUR;1234,56;company;Total Énergies;{siren}"


async def run(storage: FakeIntakeStorage, content: bytes, key: str = "") -> list[RowOutcome]:
    reply = await import_cases(
        ImportCases(content, requester=AS_A, idempotency_key=key), storage.unit_of_work, TODAY, keep
    )
    return reports[int(reply.content)]


async def test_the_sample_file_imports_completely_and_a_replay_repeats_the_report() -> None:
    storage = FakeIntakeStorage()
    report = await run(storage, SAMPLE.read_bytes(), key="sample-1")
    assert [o.line for o in report] == [2, 3, 4, 5, 6]
    assert all(o.case_id for o in report)
    assert report[3].case_id == report[4].case_id
    assert len(storage.cases) == len(storage.outbox) == 4
    assert {c.source for c in storage.cases.values()} == {"csv"}
    summaries = [e.summary for e in storage.state.timeline]
    assert all(s.startswith("case submitted (csv): ") for s in summaries)
    reply = await import_cases(
        ImportCases(SAMPLE.read_bytes(), requester=AS_A, idempotency_key="sample-1"),
        storage.unit_of_work,
        TODAY,
        keep,
    )
    assert reply.replayed
    assert len(storage.cases) == 4


async def test_refused_rows_name_their_columns_and_duplicates_their_first_line() -> None:
    storage = FakeIntakeStorage()
    report = await run(storage, rows(line("T-1"), line("T-2", siren="542051181"), line("T-1")))
    by_line = {o.line: {v.field: v.rule for v in o.violations} for o in report}
    assert report[0].case_id
    assert by_line[3] == {"debtor_siren_or_siret": "is not a valid SIREN: the check digit is wrong"}
    assert by_line[4] == {"invoice_number": "T-1 for this debtor is already on line 2"}

    again = await run(storage, rows(line("T-1"), line("T-9")))
    assert again[0].violations[0].rule == "T-1 was already submitted for this debtor"
    assert again[1].case_id
    assert len(storage.cases) == 2


async def test_a_debtor_repeated_down_the_file_is_judged_the_same_on_every_line() -> None:
    storage = FakeIntakeStorage()
    siret = "54205118000066"  # the SIRET of the SIREN 542051180
    report = await run(
        storage,
        rows(
            line("R-1", siren="542051181"),
            line("R-2", siren=siret),
            line("R-3", siren="542051181"),
            line("R-4", siren=siret),
            line("R-5", siren="5420511"),
            line("R-6", siren="5420511"),
        ),
    )
    by_line = {o.line: {v.field: v.rule for v in o.violations} for o in report}
    wrong_digit = {"debtor_siren_or_siret": "is not a valid SIREN: the check digit is wrong"}
    wrong_length = {"debtor_siren_or_siret": "must be a SIREN (9 digits) or a SIRET (14 digits)"}
    assert by_line == {
        2: wrong_digit,
        3: {},
        4: wrong_digit,
        5: {},
        6: wrong_length,
        7: wrong_length,
    }
    assert {c.debtor.siret for c in storage.cases.values()} == {siret}
    assert {c.debtor.siren for c in storage.cases.values()} == {"542051180"}


async def test_a_duplicate_batches_after_its_first_line_still_names_that_line() -> None:
    storage = FakeIntakeStorage()
    many = [line(f"B-{i:04d}") for i in range(IMPORT_BATCH + 20)]
    report = await run(storage, rows(*many, line("B-0003")))
    last = report[-1]
    assert last.line == IMPORT_BATCH + 22
    assert {v.field: v.rule for v in last.violations} == {
        "invoice_number": "B-0003 for this debtor is already on line 5"
    }
    assert len(storage.cases) == IMPORT_BATCH + 20


async def test_an_unusable_file_or_creditor_is_refused_whole() -> None:
    storage = FakeIntakeStorage()
    with pytest.raises(InvalidField):
        await run(storage, b"invoice_number,amount_due\nF-1,10\n")
    with pytest.raises(InvalidField) as refused:
        await import_cases(ImportCases(rows(line("T-1"))), storage.unit_of_work, TODAY, keep)
    assert [(v.field, v.rule) for v in refused.value.violations] == [("creditor_id", "is required")]
    with pytest.raises(NotFound):
        await import_cases(
            ImportCases(rows(line("T-1")), requester=Requester("provider")),
            storage.unit_of_work,
            TODAY,
            keep,
        )
    assert storage.cases == {}


async def test_a_row_with_only_the_default_country_needs_no_postal_code_or_city() -> None:
    storage = FakeIntakeStorage()
    header = HEADER.rstrip("\n") + ";debtor_country;debtor_city\n"
    content = header + line("C-1") + ";FR;\n" + line("C-2") + ";DE;\n" + line("C-3") + ";;Lyon\n"
    report = await run(storage, content.encode())
    by_line = {o.line: {v.field: v.rule for v in o.violations} for o in report}
    assert report[0].case_id
    assert report[1].case_id
    assert by_line[4] == {"debtor_postal_code": "is required with an address"}
    countries = sorted(c.debtor.country_code for c in storage.cases.values())
    assert countries == ["DE", "FR"]
