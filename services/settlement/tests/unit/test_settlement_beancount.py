"""The beancount export: names beancount accepts, and books beancount finds balanced."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from beancount import loader

from services.settlement.tests.unit.builders import receipt, success_fee
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork
from settlement.adapters.beancount_export import beancount_account, render_beancount
from settlement.domain.commands import ReverseEntry
from settlement.domain.ledger import Balance
from settlement.service_layer.ledger import post_entry, reverse_entry
from settlement.service_layer.reads import journal_and_closing


async def exported(uow: FakeSettlementUnitOfWork) -> tuple[str, list[Balance]]:
    rows, closing = await journal_and_closing(uow)
    return render_beancount(rows, closing), closing


async def some_books() -> FakeSettlementUnitOfWork:
    uow = FakeSettlementUnitOfWork()
    first = await post_entry(receipt("L1", 120_000, date(2026, 12, 1)), uow)
    await post_entry(success_fee("f-1", 18_000, 3_600, 3_600, 720, date(2026, 12, 2)), uow)
    await reverse_entry(
        ReverseEntry(first.entry.entry_id, "bank-line:R1", date(2026, 12, 3), 'a "quoted" reason'),
        uow,
    )
    return uow


def test_accounts_are_named_by_root_pcg_heading_and_party() -> None:
    assert beancount_account("5121") == "Assets:5121-Banque-fonds-de-tiers"
    assert (
        beancount_account("4011/prov-1") == "Liabilities:4011-Fournisseurs-prestataires:Prov-prov-1"
    )
    assert beancount_account("6222") == "Expenses:6222-Commissions-apporteurs"


def test_party_ids_beancount_cannot_spell_keep_a_digest_so_they_never_merge() -> None:
    dotted, underscored = beancount_account("4671/a.b"), beancount_account("4671/a_b")
    assert dotted.startswith("Liabilities:4671-Fonds-detenus-creanciers:Cred-a-b-")
    assert dotted != underscored


async def test_beancount_loads_the_export_without_error() -> None:
    text, closing = await exported(await some_books())
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    assert len([e for e in entries if type(e).__name__ == "Transaction"]) == 3
    assert len(closing) == 5


async def test_beancount_refuses_a_closing_balance_the_postings_do_not_add_up_to() -> None:
    uow = await some_books()
    rows, closing = await journal_and_closing(uow)
    wrong = [replace(b, debit=b.debit + 1) if b.account == "706" else b for b in closing]
    _, errors, _ = loader.load_string(render_beancount(rows, wrong))
    assert [type(e).__name__ for e in errors] == ["BalanceError"]
