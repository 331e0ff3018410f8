"""The FEC as the tax office's tools would read it: checked by the tests' own reader."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recouvra_shared.errors import InvalidField, InvalidRequest
from services.settlement.tests.fec_validator import NAMES, read_fec
from services.settlement.tests.unit.builders import BANK, HELD, receipt, success_fee
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from settlement.domain.commands import PostEntry, ReverseEntry
from settlement.domain.fec import fec_period
from settlement.domain.ledger import Journal, credit, debit
from settlement.service_layer.fec_export import fec_of
from settlement.service_layer.ledger import post_entry, reverse_entry
from settlement.service_layer.reads import trial_balance

SIREN = "732829320"


async def books(tables: Tables) -> None:
    """Last year's receipt, then this year's receipt, fee and a reversed receipt."""
    await post_entry(receipt("L0", 10_000, date(2025, 12, 20)), FakeSettlementUnitOfWork(tables))
    await post_entry(receipt("L1", 120_000, date(2026, 3, 1)), FakeSettlementUnitOfWork(tables))
    await post_entry(
        success_fee("f-1", 18_000, 3_600, 3_600, 720, date(2026, 3, 2)),
        FakeSettlementUnitOfWork(tables),
    )
    second = await post_entry(
        receipt("L2", 5_000, date(2026, 3, 2), "case-2"), FakeSettlementUnitOfWork(tables)
    )
    undo = ReverseEntry(second.entry.entry_id, "bank-line:R2", date(2026, 3, 3), "Recalled")
    await reverse_entry(undo, FakeSettlementUnitOfWork(tables))


async def exported(tables: Tables, tmp_path: Path, closing: date = date(2026, 12, 31)) -> Path:
    period = fec_period(SIREN, closing)
    target = tmp_path / period.file_name
    target.write_bytes(await fec_of(FakeSettlementUnitOfWork(tables), period))
    return target


async def test_the_exercise_exports_as_a_valid_fec_whose_balances_are_the_ledgers(
    tmp_path: Path,
) -> None:
    tables = Tables()
    await books(tables)
    fec = read_fec(await exported(tables, tmp_path))
    assert fec.errors == []
    assert (fec.siren, fec.separator) == (SIREN, "\t")
    # The opening entry (last year's receipt carried forward) and four entries of the year.
    assert [r["EcritureNum"] for r in fec.rows].count("1") == 2
    opening = [(r["JournalCode"], r["CompteNum"], r["Debit"], r["Credit"]) for r in fec.rows[:2]]
    assert sorted(opening) == [("AN", "4671", "0,00", "100,00"), ("AN", "5121", "100,00", "0,00")]
    assert {r["EcritureNum"] for r in fec.rows} == {"1", "2", "3", "4", "5"}
    for balance in await trial_balance(FakeSettlementUnitOfWork(tables), date(2026, 12, 31)):
        number, _, party = balance.account.partition("/")
        expected = Decimal(balance.debit - balance.credit) / 100
        assert fec.balance_of(number, party) == expected, balance.account


async def test_party_sub_accounts_are_auxiliary_accounts_with_their_general_number(
    tmp_path: Path,
) -> None:
    tables = Tables()
    await books(tables)
    fec = read_fec(await exported(tables, tmp_path))
    held = [r for r in fec.rows if r["CompteNum"] == "4671"]
    assert held
    assert all(r["CompAuxNum"] == "cred-1" for r in held)
    assert all(r["CompAuxLib"] == "Créancier cred-1" for r in held)
    bank = [r for r in fec.rows if r["CompteNum"] == "5121"]
    assert all(r["CompAuxNum"] == "" and r["CompAuxLib"] == "" for r in bank)
    fee = next(r for r in fec.rows if r["PieceRef"] == "event:f-1")
    assert (fee["EcritureDate"], fee["Debit"], fee["Credit"]) == ("20260302", "216,00", "0,00")


async def test_text_is_written_in_iso_8859_15_without_breaking_a_column(tmp_path: Path) -> None:
    tables = Tables()
    await post_entry(
        PostEntry(
            fact_key="bank-line:E1",
            booked_on=date(2026, 5, 1),
            journal=Journal.BANK,
            description="Reçu 12 € de\tŁódź\n— «Œuvre»",
            lines=(debit(BANK, 1_234), credit(HELD, 1_234)),
        ),
        FakeSettlementUnitOfWork(tables),
    )
    path = await exported(tables, tmp_path)
    fec = read_fec(path)
    assert fec.errors == []
    assert fec.rows[0]["EcritureLib"] == "Reçu 12 € de ?ódz ? «Œuvre»"
    assert "€".encode("iso-8859-15") in path.read_bytes()


async def test_an_empty_exercise_is_refused_naming_the_closing_date(tmp_path: Path) -> None:
    tables = Tables()
    await books(tables)
    with pytest.raises(InvalidField) as refused:
        await exported(tables, tmp_path, closing=date(2024, 12, 31))
    assert refused.value.violations[0].field == "closing"
    assert "no entry was booked between 20240101 and 20241231" in refused.value.violations[0].rule


@pytest.mark.parametrize("siren", ["732829321", "73282932", "73282932A", "732 829 320"])
def test_a_wrong_siren_is_refused_by_name(siren: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        fec_period(siren, date(2026, 12, 31))
    assert [v.field for v in refused.value.violations] == ["siren"]


def test_an_exercise_opening_after_closing_or_over_two_years_is_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        fec_period(SIREN, date(2026, 12, 31), date(2027, 1, 1))
    assert [v.field for v in refused.value.violations] == ["opening"]
    with pytest.raises(InvalidRequest):
        fec_period(SIREN, date(2026, 12, 31), date(2024, 12, 31))
    assert fec_period(SIREN, date(2026, 12, 31), date(2025, 1, 1)).opening == date(2025, 1, 1)
    assert fec_period(SIREN, date(2028, 2, 29)).opening == date(2027, 3, 1)


def test_the_reader_catches_an_unbalanced_entry_and_a_gap_in_numbering(tmp_path: Path) -> None:
    head = "\t".join(NAMES)

    def line(num: str, account: str, debit_: str, credit_: str) -> str:
        head = ["BQ", "Banque", num, "20260301", account, "Compte", "", "", "p", "20260301"]
        return "\t".join([*head, "x", debit_, credit_, "", "", "20260301", "", ""])

    path = tmp_path / f"{SIREN}FEC20261231.txt"
    body = [head, line("1", "5121", "10,00", "0,00"), line("1", "4671", "0,00", "9,99")]
    body += [line("3", "5121", "1,00", "0,00"), line("3", "4671", "0,00", "1.00")]
    path.write_bytes("\r\n".join(body).encode("iso-8859-15"))
    errors = read_fec(path).errors
    assert "entry 1: debits 10.00 and credits 9.99 differ" in errors
    assert any("not continuous" in e for e in errors)
    assert any("'1.00' is not an amount with a decimal comma" in e for e in errors)
