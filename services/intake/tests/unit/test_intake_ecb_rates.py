"""Importing the ECB Data Portal's export of the main refinancing rate: what is read, what is
refused (changing nothing), and the interest that stops warning once the table is current."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from intake.domain.commands import GetCase, ImportRates, Requester, SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import InvalidRequest
from intake.domain.invoices import InvoiceInput
from intake.entrypoints.rates_command import run
from intake.service_layer.rates import import_rates
from intake.service_layer.read_cases import get_case
from intake.service_layer.submit_case import submit_case
from recouvra_shared.legal.ecb_export import read_ecb_export
from recouvra_shared.legal.ecb_rates import RateImport, RateTable
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

EXPORT = Path(__file__).parents[1] / "data" / "ecb_mro_export.csv"
TITLE = "Main refinancing operations - fixed rate tenders (fixed rate) (date of changes) - Level"
PORTAL_HEADER = f'"DATE","TIME PERIOD","{TITLE} (FM.B.U2.EUR.4F.KR.MRR_FR.LEV)"\n'
API_HEADER = (
    "KEY,FREQ,REF_AREA,CURRENCY,PROVIDER_FM,INSTRUMENT_FM,PROVIDER_FM_ID,DATA_TYPE_FM,"
    "TIME_PERIOD,OBS_VALUE,OBS_STATUS\n"
)
API_ROW = "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV,{day},{rate},A\n"
AS_A = Requester("creditor", "creditor-a")


def portal(*rows: tuple[str, str]) -> bytes:
    return (PORTAL_HEADER + "".join(f'"{d}","{d}","{r}"\n' for d, r in rows)).encode()


def refusal(content: bytes) -> list[str]:
    with pytest.raises(InvalidRequest) as refused:
        read_ecb_export(content)
    return [str(v) for v in refused.value.violations]


def test_the_portal_export_is_read_in_date_order_through_its_last_change() -> None:
    export = read_ecb_export(EXPORT.read_bytes())
    assert export.observations[0] == (date(1999, 1, 1), Decimal("3.00"))
    assert export.observations[-2:] == (
        (date(2026, 6, 17), Decimal("2.40")),
        (date(2026, 9, 16), Decimal("2.65")),
    )
    assert export.last_observation == date(2026, 9, 16)


def test_the_api_csv_of_the_same_series_is_read_too() -> None:
    content = API_HEADER + API_ROW.format(day="2025-06-11", rate="2.15")
    export = read_ecb_export((content + API_ROW.format(day="2026-06-17", rate="2.4")).encode())
    assert export.observations == (
        (date(2025, 6, 11), Decimal("2.15")),
        (date(2026, 6, 17), Decimal("2.4")),
    )


def test_a_file_of_another_series_or_shape_is_refused_naming_what_is_wrong() -> None:
    deposit = PORTAL_HEADER.replace("MRR_FR", "DFR")
    assert refusal((deposit + '"2025-06-11","11 Jun 2025","2.00"\n').encode()) == [
        "file: is the series FM.B.U2.EUR.4F.KR.DFR.LEV, not FM.B.U2.EUR.4F.KR.MRR_FR.LEV"
        " (main refinancing operations, fixed rate, date of changes)"
    ]
    assert refusal(b"date,rate\n2025-06-11,2.15\n") == [
        "file: has neither the ECB Data Portal's columns (DATE, TIME PERIOD, then the series)"
        " nor the API's (KEY, TIME_PERIOD, OBS_VALUE): found date, rate"
    ]
    other_key = API_ROW.replace("MRR_FR.LEV", "MLFR.LEV").format(day="2025-06-11", rate="2.4")
    assert refusal((API_HEADER + other_key).encode()) == [
        "line 2: KEY 'FM.B.U2.EUR.4F.KR.MLFR.LEV' is not FM.B.U2.EUR.4F.KR.MRR_FR.LEV"
        " (main refinancing operations, fixed rate, date of changes)"
    ]
    assert refusal(PORTAL_HEADER.encode()) == ["file: has no observation"]


def test_dates_and_rates_that_do_not_parse_or_do_not_increase_are_refused_by_line() -> None:
    content = portal(
        ("2024-06-12", "4.25"),
        ("12/09/2024", "3.65"),
        ("2024-10-23", "3,40"),
        ("2024-12-18", ""),
        ("2025-02-05", "2.90"),
        ("2025-01-30", "2.65"),
        ("2025-03-12", "2.650"),
        ("2025-04-16", "2.405"),
    )
    assert refusal(content) == [
        "line 3: DATE '12/09/2024' is not a date (YYYY-MM-DD)",
        "line 4: the rate '3,40' of 2024-10-23 is not a number of percent",
        "line 5: has no rate on 2024-12-18 (the fixed rate is published for every change"
        " since 2008)",
        "line 7: 2025-01-30 is not after 2025-02-05: the dates must increase",
        # A rate travels in whole basis points (recouvra.common.v1.Percentage): never rounded.
        "line 9: the rate '2.405' of 2025-04-16 has more than two decimals (the ECB publishes two)",
    ]


async def run_import(storage: FakeIntakeStorage, content: bytes, on: str = "") -> RateImport:
    return await import_rates(ImportRates(content, "export.csv", on), storage.unit_of_work, TODAY)


async def test_an_import_adds_the_new_changes_and_moves_the_verified_date() -> None:
    storage = FakeIntakeStorage()
    done = await run_import(storage, EXPORT.read_bytes())
    assert done.added == (
        (date(2026, 6, 17), Decimal("2.40")),
        (date(2026, 9, 16), Decimal("2.65")),
    )
    assert (done.previously_verified_through, done.table.verified_through) == (
        date(2025, 10, 30),
        date(2026, 9, 16),
    )
    again = await run_import(storage, EXPORT.read_bytes(), on="2026-11-20")
    assert again.added == ()
    assert again.table.verified_through == date(2026, 11, 20)
    assert again.table.rate_on(date(2026, 7, 1)) == Decimal("2.40")


async def test_a_file_that_contradicts_the_verified_table_or_skips_past_it_changes_nothing() -> (
    None
):
    storage = FakeIntakeStorage()
    wrong = EXPORT.read_text().replace('"11 Jun 2025","2.15"', '"11 Jun 2025","2.25"').encode()
    with pytest.raises(InvalidRequest) as contradicts:
        await run_import(storage, wrong)
    late = portal(("2026-06-17", "2.40"), ("2026-09-16", "2.65"))
    with pytest.raises(InvalidRequest) as skips:
        await run_import(storage, late)
    with pytest.raises(InvalidRequest) as future:
        await run_import(storage, EXPORT.read_bytes(), on="2026-12-01")
    assert str(contradicts.value) == (
        "file: gives 2.25% in force on 2025-06-11 where the table, verified through 2025-10-30,"
        " has 2.15%"
    )
    assert str(skips.value).startswith("file: starts on 2026-06-17, after 2025-10-30")
    assert str(future.value) == "downloaded_on: must not be in the future (today is 2026-11-23)"
    assert storage.state.rate_changes == {}
    assert storage.state.rate_imports == []


async def test_after_an_import_2026_interest_no_longer_warns_and_uses_the_new_rate() -> None:
    storage = FakeIntakeStorage()
    command = SubmitCase(
        creditor_id="creditor-a",
        debtor=DebtorInput(kind="company", name="ACME SAS", siren_or_siret="552032534"),
        invoices=(InvoiceInput("F-1", "2025-11-01", "2025-12-01", "EUR", "10000.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    query = GetCase(reply.content.decode(), as_of="2026-11-20", requester=AS_A)

    async def interest_lines() -> list[str]:
        async with storage.unit_of_work() as uow:
            found = await get_case(query, uow, TODAY)
        return [line.explanation for line in found.amounts.lines if line.kind == "interest"]

    before = await interest_lines()
    await run_import(storage, EXPORT.read_bytes())
    after = await interest_lines()
    assert len(before) == len(after) == 3
    assert all("later ECB decisions may be missing" in line for line in before[1:])
    assert not any("may be missing" in line for line in after)
    assert "ECB rate 2.40% in force on 2026-07-01 + 10 points" in after[-1]


def test_the_command_prints_what_it_added_or_why_it_refused() -> None:
    seen: list[ImportRates] = []

    async def imported(command: ImportRates) -> RateImport:
        seen.append(command)
        table = RateTable(((date(2026, 6, 17), Decimal("2.40")),), date(2026, 9, 16), "test")
        return RateImport(((date(2026, 6, 17), Decimal("2.40")),), table, date(2025, 10, 30))

    async def refused(command: ImportRates) -> RateImport:
        return read_ecb_export(b"date,rate\n")  # type: ignore[return-value]

    out = io.StringIO()
    assert run(["import", str(EXPORT), "--downloaded-on", "2026-11-20"], imported, out) == 0
    assert seen[0].downloaded_on == "2026-11-20"
    assert seen[0].file_name == EXPORT.name
    assert out.getvalue() == (
        "ECB rate changes added: 2026-06-17 2.40%\nverified through 2026-09-16 (was 2025-10-30)\n"
    )
    out = io.StringIO()
    assert run(["import", str(EXPORT)], refused, out) == 2
    assert out.getvalue().startswith("refused, nothing changed:\n  file: has neither")
    out = io.StringIO()
    assert run(["import", "-"], imported, out, stdin=io.BytesIO(EXPORT.read_bytes())) == 0
    assert seen[1].content == EXPORT.read_bytes()
    assert seen[1].file_name == "standard input"
    out = io.StringIO()
    assert run(["import", "/nonexistent/export.csv"], imported, out) == 2
    assert out.getvalue() == "refused: file: cannot be read (No such file or directory)\n"
