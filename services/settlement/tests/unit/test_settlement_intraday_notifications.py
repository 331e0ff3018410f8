"""camt.054 intraday notifications on the fakes: read and validated like statements, the
money booked at once (and a pay-by-link announcement matched), and the camt.053 line of the
same money the next day recognised, booking nothing: one euro counted once."""

from __future__ import annotations

from datetime import date

import pytest

from recouvra_shared.errors import InvalidRequest
from services.settlement.tests.unit.camt_files import Entry, camt053, camt054
from services.settlement.tests.unit.money_in_world import (
    CASE_A,
    REF_A,
    World,
    two_invoice_case,
)
from services.settlement.tests.unit.test_settlement_pay_by_link import Setup
from settlement.adapters.camt054 import read_bank_file, read_notifications
from settlement.domain.payment_links import AnnouncementStatus, PaymentStatus
from settlement.domain.receipts import ReceiptStatus
from settlement.service_layer.reads import check_ledger

TODAY = date(2026, 3, 2)
NEXT_DAY = date(2026, 3, 3)


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_notification_is_read_with_what_identifies_each_booked_entry(version: str) -> None:
    content = camt054(
        [
            Entry(12_345, servicer_ref="BANK-7", reference=REF_A, end_to_end_id="E2E-7"),
            Entry(999, status="PDNG"),  # pending: not money yet
        ],
        version=version,
    )
    (notification,) = read_bank_file(content)
    assert notification.intraday
    assert notification.statement_id == "ntfctn:NTF-2026-03-02-0001"
    assert notification.message_type == f"camt.054.001.{version}"
    (line,) = notification.lines
    assert (line.amount_minor, line.is_credit, line.servicer_ref) == (12_345, True, "BANK-7")
    assert (line.reference, line.end_to_end_id, line.value_date) == (REF_A, "E2E-7", TODAY)
    (statement,) = read_bank_file(camt053([Entry(100)], version=version))
    assert not statement.intraday


def test_a_notification_that_does_not_validate_is_refused_naming_the_element() -> None:
    broken = camt054([Entry(12_345)]).replace(b"<CdtDbtInd>CRDT", b"<CdtDbtInd>CREDIT")
    with pytest.raises(InvalidRequest) as refused:
        read_notifications(broken)
    (violation,) = refused.value.violations
    assert violation.field == "Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry/CdtDbtInd"
    assert "CREDIT" in violation.rule


def test_another_iso_message_is_refused_naming_the_four_taken() -> None:
    pain = camt054([Entry(1)]).replace(b"camt.054.001.08", b"camt.052.001.08")
    with pytest.raises(InvalidRequest) as refused:
        read_bank_file(pain)
    (violation,) = refused.value.violations
    assert violation.field == "Document"
    assert violation.rule == (
        "a camt.053.001.02 or camt.053.001.08 or camt.054.001.02 or camt.054.001.08 Document"
    )


async def test_a_notified_credit_is_booked_at_once_as_a_statement_line_is() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    report = await world.import_notification(
        [Entry(30_000, reference=REF_A, servicer_ref="BANK-1", end_to_end_id="E2E-1")]
    )
    assert report.by_reference == 1
    assert await world.balance("5121") == 30_000
    assert await world.balance("4671/cred-1") == 30_000
    (event,) = world.received()
    assert (event.case_id, event.amount.minor_units) == (CASE_A, 30_000)


@pytest.mark.parametrize(
    "statement_line",
    [
        # The bank gives the entry the same reference in both documents.
        Entry(30_000, reference=REF_A, servicer_ref="BANK-1", booked_on=NEXT_DAY),
        # Another reference (or none) in the statement: the end-to-end id recognises it.
        Entry(30_000, reference=REF_A, servicer_ref="STMT-9", end_to_end_id="E2E-1"),
        # No end-to-end id either: the RF reference and the value date do.
        Entry(30_000, reference=REF_A, booked_on=NEXT_DAY, value_date=TODAY),
    ],
    ids=["same-servicer-ref", "same-end-to-end-id", "same-rf-and-value-date"],
)
async def test_the_statement_line_of_notified_money_books_nothing(statement_line: Entry) -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_notification(
        [Entry(30_000, reference=REF_A, servicer_ref="BANK-1", end_to_end_id="E2E-1")]
    )
    entries_before = len(world.tables.entries)
    report = await world.import_entries([statement_line], statement_id="STMT-2026-03-03")
    assert (report.already_booked, report.by_reference, report.suspense) == (1, 0, 0)
    assert len(world.tables.entries) == entries_before
    assert await world.balance("5121") == 30_000
    assert await world.balance("4671/cred-1") == 30_000
    assert len(world.received()) == 1
    assert len(world.tables.receipts) == 1
    # Imported again, the statement is a no-op; its line stays paired once.
    again = await world.import_entries([statement_line], statement_id="STMT-2026-03-03")
    assert again.already_imported
    assert await world.balance("5121") == 30_000


async def test_two_equal_payments_notified_once_the_second_line_is_booked() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_notification([Entry(10_000, reference=REF_A, end_to_end_id=REF_A)])
    report = await world.import_entries(
        [
            Entry(10_000, reference=REF_A, end_to_end_id=REF_A, servicer_ref="S-1"),
            Entry(10_000, reference=REF_A, end_to_end_id=REF_A, servicer_ref="S-2"),
        ]
    )
    assert (report.already_booked, report.by_reference) == (1, 1)
    assert await world.balance("5121") == 20_000
    assert len(world.received()) == 2


async def test_a_line_of_another_amount_is_not_taken_for_the_notified_one() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_notification([Entry(10_000, reference=REF_A, end_to_end_id="E2E-1")])
    report = await world.import_entries([Entry(10_001, reference=REF_A, end_to_end_id="E2E-1")])
    assert (report.already_booked, report.by_reference) == (0, 1)
    assert await world.balance("5121") == 20_001


async def test_a_notification_arriving_after_its_statement_books_nothing() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    await world.import_entries([Entry(30_000, reference=REF_A, end_to_end_id="E2E-1")])
    report = await world.import_notification(
        [Entry(30_000, reference=REF_A, end_to_end_id="E2E-1", servicer_ref="LATE-1")]
    )
    assert report.already_booked == 1
    assert await world.balance("5121") == 30_000


async def test_a_notified_reversal_is_not_reversed_again_by_the_statement() -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    credit = Entry(30_000, reference=REF_A, end_to_end_id="E2E-1")
    taken_back = Entry(30_000, credit=False, reversal=True, reference=REF_A, end_to_end_id="E2E-1")
    await world.import_notification([credit, taken_back])
    assert await world.balance("5121") == 0
    report = await world.import_entries([credit, taken_back])
    assert (report.already_booked, report.reversed, report.unmatched_debits) == (2, 0, 0)
    assert await world.balance("5121") == 0
    assert await world.balance("471") == 0
    statuses = sorted(r.status for r in world.tables.receipts.values())
    assert statuses == [ReceiptStatus.REVERSAL, ReceiptStatus.REVERSED]


async def test_a_notified_pay_by_link_credit_matches_its_announcement_once() -> None:
    setup = Setup()
    given = await setup.link(150_000)
    await setup.receive(setup.notification(given.link.link_id, PaymentStatus.EXECUTED))
    assert await setup.world.balance("5112") == 150_000
    paid = Entry(150_000, reference=REF_A, end_to_end_id=REF_A, servicer_ref="BANK-PBL")
    notified = await setup.world.import_notification([paid])
    assert notified.by_reference == 1
    (announcement,) = setup.world.tables.payment_links.announcements.values()
    assert announcement.status is AnnouncementStatus.MATCHED
    assert announcement.receipt_id == notified.receipt_ids[0]
    assert await setup.world.balance("5112") == 0
    assert await setup.world.balance("4718") == 0
    stated = await setup.world.import_entries(
        [Entry(150_000, reference=REF_A, end_to_end_id=REF_A, booked_on=NEXT_DAY)]
    )
    assert stated.already_booked == 1
    assert await setup.world.balance("5121") == 150_000
    assert await setup.world.balance("4671/cred-1") == 150_000
    assert await setup.world.balance("5112") == 0
    assert len(setup.world.received()) == 1
    assert not (await check_ledger(setup.world.uow())).breaches
