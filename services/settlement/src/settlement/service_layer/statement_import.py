"""Importing a bank statement: each booked line of the client-money account becomes one
receipt and one journal entry, once, however often the statement is imported or interrupted.

A camt.054 intraday notification is imported the same way, the day's money booked (and a
pay-by-link announcement matched) at once. When the camt.053 statement then brings the same
entry, it is recognised and books nothing: by its key (the bank's AcctSvcrRef, as any line seen
twice), else as the twin of the notified receipt (`money_in.twin_of`: same amount and end-to-end
id, or RF reference and value date), paired once in `bank_line_twins`. The same holds the other
way round, for a notification arriving after its statement.

Lines are committed in chunks; a line already kept is skipped, so an import killed halfway and
run again books the rest and nothing twice. The statement is marked imported by the last chunk:
after that, importing it again is a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from recouvra_shared.legal.ecb_rates import RateTable
from settlement.domain.bank_statement import (
    BankLine,
    BankStatement,
    check_statement,
    from_notification,
    line_key,
)
from settlement.domain.commands import PostEntry, ReverseEntry
from settlement.domain.ledger import Journal
from settlement.domain.money_in import (
    MatchRule,
    acceptable,
    match_credit,
    receipt_lines,
    twin_of,
    unmatched_debit_lines,
)
from settlement.domain.receipts import (
    Receipt,
    ReceiptStatus,
    SettledCase,
    allocate,
    amounts_owed,
)
from settlement.service_layer.announced_payments import match_announcement
from settlement.service_layer.direct_payments import paid_before_receipt, paid_towards
from settlement.service_layer.ledger import post_within, reverse_within
from settlement.service_layer.money_events import payment_received, payment_reversed
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

CHUNK = 200  # lines per transaction: what an interruption can lose and redo


@dataclass
class ImportReport:
    """What an import did, line by line counted by outcome."""

    statement_id: str
    account_iban: str
    already_imported: bool = False
    lines: int = 0
    by_reference: int = 0
    by_amount: int = 0
    suspense: int = 0
    reversed: int = 0
    unmatched_debits: int = 0
    ignored: int = 0  # other debits: booked by what caused them
    known: int = 0  # booked by an earlier (interrupted) import
    already_booked: int = 0  # the same money booked from the other document (camt.054/053)
    receipt_ids: list[str] = field(default_factory=list)


def _new_id() -> str:
    return str(uuid.uuid4())


class _Importer:
    def __init__(
        self,
        statement: BankStatement,
        report: ImportReport,
        new_id: Callable[[], str],
        rates: RateTable | None,
    ) -> None:
        self.statement = statement
        self.report = report
        self.new_id = new_id
        self.rates = rates
        # Read once per import: references are never changed, cases only by intake's events
        # (a case withdrawn while its statement is imported may still take a line of it).
        self.case_ids: dict[str, str | None] = {}
        self.cases: dict[str, SettledCase | None] = {}
        self.booked: dict[str, str] = {}
        self.twins_possible = False

    async def chunk(self, uow: SettlementUnitOfWork, lines: Sequence[BankLine]) -> None:
        keys = [line_key(self.statement, line) for line in lines]
        self.booked = await uow.receipts.booked_lines(keys)
        # Most imports have no twin to look for (no notification came, or none is left
        # unpaired): one query per chunk spares one per line.
        self.twins_possible = await uow.receipts.any_unpaired(
            from_notifications=not self.statement.intraday
        )
        for line in lines:
            await self.line(uow, line)

    async def case_by_reference(
        self, uow: SettlementUnitOfWork, reference: str | None
    ) -> SettledCase | None:
        if reference is None:
            return None
        if reference not in self.case_ids:
            self.case_ids[reference] = await uow.references.case_of(reference)
        case_id = self.case_ids[reference]
        if case_id is None:
            return None
        if case_id not in self.cases:
            self.cases[case_id] = await uow.cases.get(case_id)
        return self.cases[case_id]

    def receipt(self, line: BankLine, key: str, entry_id: str, status: ReceiptStatus) -> Receipt:
        return Receipt(
            receipt_id=self.new_id(),
            line_key=key,
            amount_minor=line.amount_minor,
            currency=line.currency,
            received_on=line.value_date,
            status=status,
            entry_id=entry_id,
            statement_id=self.statement.statement_id,
            reference=line.reference,
            end_to_end_id=line.end_to_end_id,
            debtor_name=line.debtor_name,
        )

    async def line(self, uow: SettlementUnitOfWork, line: BankLine) -> None:
        key = line_key(self.statement, line)
        if not acceptable(line):
            self.report.ignored += 1
        elif key in self.booked:
            if from_notification(self.booked[key]) == self.statement.intraday:
                self.report.known += 1
            else:
                self.report.already_booked += 1
        elif await self.paired_with_twin(uow, line, key):
            self.report.already_booked += 1
        elif line.is_reversal:
            await self.reversal(uow, line, key)
        else:
            await self.credit(uow, line, key)

    async def paired_with_twin(self, uow: SettlementUnitOfWork, line: BankLine, key: str) -> bool:
        """Whether the line is money the other kind of document booked (now paired with it)."""
        if not self.twins_possible:
            return False
        candidates = await uow.receipts.twin_candidates(
            line.amount_minor,
            line.end_to_end_id,
            line.reference,
            from_notifications=not self.statement.intraday,
        )
        twin = twin_of(line, candidates)
        if twin is None:
            return False
        return await uow.receipts.pair(key, self.statement.statement_id, twin.receipt_id)

    async def _owed_by_open_case(
        self, uow: SettlementUnitOfWork, line: BankLine
    ) -> dict[str, tuple[SettledCase, int]]:
        owed = {}
        for case in await uow.cases.open_cases():
            earlier = await paid_towards(uow, case.case_id)
            due = amounts_owed(case, line.value_date, earlier, self.rates).total_minor
            owed[case.case_id] = (case, due)
        return owed

    async def credit(self, uow: SettlementUnitOfWork, line: BankLine, key: str) -> None:
        by_reference = await self.case_by_reference(uow, line.reference)
        owed = {} if by_reference else await self._owed_by_open_case(uow, line)
        match = match_credit(line, by_reference, owed)
        posted = await post_within(
            PostEntry(
                fact_key=key,
                booked_on=line.booked_on,
                journal=Journal.BANK,
                description=(
                    f"bank credit, statement {self.statement.statement_id[:60]}, "
                    f"line {line.index + 1}, matched by {match.rule.value}"
                ),
                lines=receipt_lines(line.amount_minor, match.case),
            ),
            uow,
            self.new_id,
        )
        case = match.case
        if case is None:
            receipt = self.receipt(line, key, posted.entry.entry_id, ReceiptStatus.SUSPENSE)
            if await uow.receipts.add(receipt):
                self.report.suspense += 1
                self.report.receipt_ids.append(receipt.receipt_id)
                await match_announcement(uow, receipt, self.new_id)
            return
        allocation = allocate(
            case,
            line.amount_minor,
            line.value_date,
            await paid_before_receipt(uow, case.case_id, line.value_date, line.amount_minor),
            self.rates,
        )
        receipt = replace(
            self.receipt(line, key, posted.entry.entry_id, ReceiptStatus.ALLOCATED),
            case_id=case.case_id,
            creditor_id=case.creditor_id,
            allocation=allocation,
        )
        if await uow.receipts.add(receipt):
            await uow.publish(payment_received(receipt, allocation))
            await match_announcement(uow, receipt, self.new_id)
            self.report.receipt_ids.append(receipt.receipt_id)
            if match.rule is MatchRule.REFERENCE:
                self.report.by_reference += 1
            else:
                self.report.by_amount += 1

    async def reversal(self, uow: SettlementUnitOfWork, line: BankLine, key: str) -> None:
        original = await uow.receipts.reversible(
            line.amount_minor, line.end_to_end_id, line.reference
        )
        if original is None:
            posted = await post_within(
                PostEntry(
                    fact_key=key,
                    booked_on=line.booked_on,
                    journal=Journal.BANK,
                    description=(
                        f"bank reversal without a known credit, statement "
                        f"{self.statement.statement_id[:60]}, line {line.index + 1}"
                    ),
                    lines=unmatched_debit_lines(line.amount_minor),
                ),
                uow,
                self.new_id,
            )
            unmatched = self.receipt(
                line, key, posted.entry.entry_id, ReceiptStatus.UNMATCHED_DEBIT
            )
            if await uow.receipts.add(unmatched):
                self.report.unmatched_debits += 1
            return
        on = line.booked_on
        description = f"bank reversal of receipt {original.receipt_id}"
        reversal_id = await book_reversal(uow, original.entry_id, key, on, description, self.new_id)
        if original.settled_entry_id is not None:
            await book_reversal(
                uow, original.settled_entry_id, f"{key}/settled", on, description, self.new_id
            )
        undone = replace(
            self.receipt(line, key, reversal_id, ReceiptStatus.REVERSAL),
            reverses=original.receipt_id,
        )
        if not await uow.receipts.add(undone):
            return
        await uow.receipts.update(replace(original, status=ReceiptStatus.REVERSED))
        if original.case_id is not None and original.status is ReceiptStatus.ALLOCATED:
            await uow.publish(payment_reversed(original, line.booked_on.isoformat()))
        self.report.reversed += 1


async def book_reversal(
    uow: SettlementUnitOfWork,
    entry_id: str,
    fact_key: str,
    on: date,
    description: str,
    new_id: Callable[[], str],
) -> str:
    """Reverse one entry, dated no earlier than it; the reversal's id."""
    original = await uow.ledger.entry(entry_id)
    assert original is not None
    booked_on = max(on, original.booked_on)
    posted = await reverse_within(
        ReverseEntry(entry_id, fact_key, booked_on, description[:200]), uow, new_id
    )
    return posted.entry.entry_id


def _chunks(lines: Sequence[BankLine]) -> list[Sequence[BankLine]]:
    return [lines[start : start + CHUNK] for start in range(0, len(lines), CHUNK)] or [()]


async def import_statement(
    statement: BankStatement,
    units: Callable[[], SettlementUnitOfWork],
    client_money_iban: str,
    *,
    new_id: Callable[[], str] = _new_id,
    rates: RateTable | None = None,
) -> ImportReport:
    """Book every line of a statement once; a statement imported before is a no-op."""
    check_statement(statement, client_money_iban)
    report = ImportReport(
        statement.statement_id, statement.account_iban, lines=len(statement.lines)
    )
    async with units() as uow:
        if await uow.receipts.statement_imported(statement.statement_id, statement.account_iban):
            report.already_imported = True
            return report
    importer = _Importer(statement, report, new_id, rates)
    chunks = _chunks(statement.lines)
    for number, chunk in enumerate(chunks, start=1):
        async with units() as uow:
            await importer.chunk(uow, chunk)
            if number == len(chunks):
                await uow.receipts.record_statement(
                    statement.statement_id,
                    statement.account_iban,
                    statement.message_type,
                    len(statement.lines),
                )
            await uow.commit()
    return report
