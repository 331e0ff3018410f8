"""Monthly statements: the CSV's opening balance plus its movements is its closing balance, and
both are the ledger's; a party reads only its own."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from recouvra_shared.errors import InvalidField
from services.settlement.tests.unit.builders import BANK, receipt, success_fee
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from settlement.adapters.statement_document import statement_pdf
from settlement.domain.accounts import FUNDS_HELD, account
from settlement.domain.commands import PostEntry
from settlement.domain.documents import reader_of
from settlement.domain.invoices import PartyRole
from settlement.domain.ledger import Journal, credit, debit
from settlement.domain.statements import StatementNotFound, month_of, statement_csv
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.reads import account_balance
from settlement.service_layer.statements import statement_for

OPERATOR = reader_of("operator", None)


async def books(tables: Tables) -> None:
    """November: 1,200.00 received for cred-1. December: its fee (216.00 with VAT, 43.20
    commission with VAT), 50.00 more for cred-1, 99.00 for cred-2."""
    for command in (
        receipt("N1", 120_000, date(2026, 11, 20)),
        success_fee("f-1", 18_000, 3_600, 3_600, 720, date(2026, 12, 2)),
        receipt("D1", 5_000, date(2026, 12, 15), "case-2"),
        PostEntry(
            "bank-line:D2",
            date(2026, 12, 16),
            Journal.BANK,
            "Debtor payment for case-9",
            (debit(BANK, 9_900, "case-9"), credit(account(FUNDS_HELD, "cred-2"), 9_900, "case-9")),
        ),
        receipt("J1", 700, date(2027, 1, 3)),
    ):
        await post_entry(command, FakeSettlementUnitOfWork(tables))


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8")), delimiter=";"))


def owed(row: dict[str, str]) -> Decimal:
    return Decimal(row["credit"]) - Decimal(row["debit"])


async def test_a_creditors_csv_sums_from_opening_to_closing_and_to_the_ledger() -> None:
    tables = Tables()
    await books(tables)
    found = await statement_for(
        FakeSettlementUnitOfWork(tables),
        reader_of("creditor", "cred-1"),
        PartyRole.CREDITOR,
        "cred-1",
        month_of("2026-12"),
    )
    rows = rows_of(statement_csv(found))
    held = [r for r in rows if r["account"] == "4671/cred-1"]
    assert [r["description"] for r in held] == [
        "opening balance",
        "Success fee on case-1",
        "Debtor payment for case-2",
        "closing balance",
    ]
    assert owed(held[0]) == Decimal("1200.00")
    assert owed(held[0]) + sum(owed(r) for r in held[1:-1]) == owed(held[-1])
    assert owed(held[-1]) == Decimal("1034.00")  # 1,200.00 - 216.00 + 50.00
    assert {r["case_id"] for r in held[1:-1]} == {"case-1", "case-2"}
    assert not any("case-9" in r["case_id"] for r in rows)  # cred-2's money is not shown
    for code in ("4671/cred-1", "4111/cred-1"):
        ledger = await account_balance(FakeSettlementUnitOfWork(tables), code, date(2026, 12, 31))
        closing = next(
            r for r in rows if r["account"] == code and r["description"] == "closing balance"
        )
        assert owed(closing) == Decimal(ledger.credit - ledger.debit) / 100


async def test_a_providers_statement_shows_its_fee_and_the_commission_taken() -> None:
    tables = Tables()
    await books(tables)
    found = await statement_for(
        FakeSettlementUnitOfWork(tables),
        reader_of("provider", "prov-1"),
        PartyRole.PROVIDER,
        "prov-1",
        month_of("2026-12"),
    )
    rows = rows_of(statement_csv(found))
    assert [(r["debit"], r["credit"]) for r in rows] == [
        ("0.00", "0.00"),
        ("0.00", "216.00"),
        ("43.20", "0.00"),
        ("0.00", "172.80"),
    ]
    pdf = statement_pdf(found)
    text = " ".join(
        " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "Solde de clôture" in text
    assert "172,80 €" in text
    assert "case-1" in text


async def test_a_party_reads_only_its_own_statement() -> None:
    tables = Tables()
    await books(tables)
    month = month_of("2026-12")
    for reader, role, party in (
        (reader_of("creditor", "cred-1"), PartyRole.CREDITOR, "cred-2"),
        (reader_of("provider", "prov-1"), PartyRole.CREDITOR, "cred-1"),
        (reader_of("creditor", "prov-1"), PartyRole.PROVIDER, "prov-1"),
    ):
        with pytest.raises(StatementNotFound):
            await statement_for(FakeSettlementUnitOfWork(tables), reader, role, party, month)
    found = await statement_for(
        FakeSettlementUnitOfWork(tables), OPERATOR, PartyRole.CREDITOR, "cred-2", month
    )
    assert [m.credit for m in found.movements] == [9_900]


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "december", ""])
def test_a_month_not_written_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(InvalidField) as refused:
        month_of(text)
    assert refused.value.violations[0].field == "month"


def test_months_end_on_their_last_day() -> None:
    assert month_of("2028-02").last == date(2028, 2, 29)
    assert month_of("2026-12").last == date(2026, 12, 31)
