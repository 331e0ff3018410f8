"""The cases settlement knows and the receipts of imported statements, in PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.money_in_tables import (
    bank_line_twins,
    bank_statements,
    direct_payments,
    receipts,
    settled_cases,
)
from settlement.domain.bank_statement import NOTIFICATION_PREFIX
from settlement.domain.direct_payments import DirectPayment
from settlement.domain.receipts import (
    Allocation,
    InvoiceTerm,
    Receipt,
    ReceiptStatus,
    SettledCase,
)

REVERSIBLE = (ReceiptStatus.ALLOCATED, ReceiptStatus.SUSPENSE, ReceiptStatus.REFUND_DUE)


def _case(row: Mapping[Any, Any]) -> SettledCase:
    return SettledCase(
        case_id=str(row["case_id"]),
        creditor_id=row["creditor_id"],
        debtor_is_business=row["debtor_is_business"],
        currency=row["currency"],
        invoices=tuple(
            InvoiceTerm(
                i["principal_minor"],
                date.fromisoformat(i["issue_date"]),
                date.fromisoformat(i["due_date"]),
            )
            for i in row["invoices"]
        ),
        withdrawn=row["withdrawn"],
    )


class SqlSettledCases:
    """The settled_cases table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, case_id: str) -> SettledCase | None:
        row = (
            (
                await self.session.execute(
                    select(settled_cases).where(settled_cases.c.case_id == case_id)
                )
            )
            .mappings()
            .first()
        )
        return _case(row) if row is not None else None

    async def put(self, case: SettledCase) -> None:
        values = {
            "case_id": case.case_id,
            "creditor_id": case.creditor_id,
            "debtor_is_business": case.debtor_is_business,
            "currency": case.currency,
            "invoices": [
                {
                    "principal_minor": i.principal_minor,
                    "issue_date": i.issue_date.isoformat(),
                    "due_date": i.due_date.isoformat(),
                }
                for i in case.invoices
            ],
            "withdrawn": case.withdrawn,
        }
        statement = insert(settled_cases).values(values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["case_id"],
                set_={k: statement.excluded[k] for k in values if k != "case_id"},
            )
        )

    async def open_cases(self) -> list[SettledCase]:
        rows = (
            (
                await self.session.execute(
                    select(settled_cases)
                    .where(settled_cases.c.withdrawn.is_(False))
                    .order_by(settled_cases.c.case_id)
                )
            )
            .mappings()
            .all()
        )
        return [_case(row) for row in rows]


def _receipt(row: Mapping[Any, Any]) -> Receipt:
    allocation = (
        Allocation(
            row["to_indemnity"],
            row["to_interest"],
            row["to_principal"],
            row["overpaid"],
            bool(row["settles_in_full"]),
        )
        if row["to_indemnity"] is not None
        else None
    )

    def text(name: str) -> str | None:
        return str(row[name]) if row[name] is not None else None

    return Receipt(
        receipt_id=str(row["receipt_id"]),
        line_key=row["line_key"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        received_on=row["received_on"],
        status=ReceiptStatus(row["status"]),
        entry_id=str(row["entry_id"]),
        case_id=text("case_id"),
        creditor_id=row["creditor_id"],
        allocation=allocation,
        statement_id=row["statement_id"],
        reference=row["reference"],
        end_to_end_id=row["end_to_end_id"],
        debtor_name=row["debtor_name"],
        settled_entry_id=text("settled_entry_id"),
        reverses=text("reverses"),
    )


def _values(receipt: Receipt) -> dict[str, Any]:
    split = receipt.allocation
    return {
        "receipt_id": receipt.receipt_id,
        "line_key": receipt.line_key,
        "statement_id": receipt.statement_id,
        "amount_minor": receipt.amount_minor,
        "currency": receipt.currency,
        "received_on": receipt.received_on,
        "status": receipt.status.value,
        "entry_id": receipt.entry_id,
        "case_id": receipt.case_id,
        "creditor_id": receipt.creditor_id,
        "to_indemnity": split.to_indemnity if split else None,
        "to_interest": split.to_interest if split else None,
        "to_principal": split.to_principal if split else None,
        "overpaid": split.overpaid if split else None,
        "settles_in_full": split.settles_in_full if split else None,
        "reference": receipt.reference,
        "end_to_end_id": receipt.end_to_end_id,
        "debtor_name": receipt.debtor_name,
        "settled_entry_id": receipt.settled_entry_id,
        "reverses": receipt.reverses,
    }


def _unpaired(from_notifications: bool) -> tuple[Any, ...]:
    """Receipts of one kind of document (camt.054 or camt.053) no line is paired with yet."""
    notified = receipts.c.statement_id.startswith(NOTIFICATION_PREFIX, autoescape=True)
    return (
        notified if from_notifications else ~notified,
        ~select(bank_line_twins.c.receipt_id)
        .where(bank_line_twins.c.receipt_id == receipts.c.receipt_id)
        .exists(),
    )


class SqlReceipts:
    """The bank_statements and receipts tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def statement_imported(self, statement_id: str, account_iban: str) -> bool:
        found = await self.session.scalar(
            select(bank_statements.c.statement_id).where(
                bank_statements.c.statement_id == statement_id,
                bank_statements.c.account_iban == account_iban,
            )
        )
        return found is not None

    async def record_statement(
        self, statement_id: str, account_iban: str, message_type: str, lines: int
    ) -> None:
        await self.session.execute(
            insert(bank_statements)
            .values(
                statement_id=statement_id,
                account_iban=account_iban,
                message_type=message_type,
                lines=lines,
            )
            .on_conflict_do_nothing()
        )

    async def add(self, receipt: Receipt) -> bool:
        inserted = await self.session.scalar(
            insert(receipts)
            .values(_values(receipt))
            .on_conflict_do_nothing(index_elements=["line_key"])
            .returning(receipts.c.receipt_id)
        )
        return inserted is not None

    async def update(self, receipt: Receipt) -> None:
        values = _values(receipt)
        del values["receipt_id"]
        await self.session.execute(
            update(receipts).where(receipts.c.receipt_id == receipt.receipt_id).values(values)
        )

    async def _one(self, *conditions: Any) -> Receipt | None:
        row = (
            (
                await self.session.execute(
                    select(receipts)
                    .where(*conditions)
                    .order_by(receipts.c.received_on, receipts.c.created_at, receipts.c.line_key)
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return _receipt(row) if row is not None else None

    async def get(self, receipt_id: str) -> Receipt | None:
        return await self._one(receipts.c.receipt_id == receipt_id)

    async def of_line(self, line_key: str) -> Receipt | None:
        return await self._one(receipts.c.line_key == line_key)

    async def booked_lines(self, line_keys: Collection[str]) -> dict[str, str]:
        if not line_keys:
            return {}
        keys = list(line_keys)
        own = await self.session.execute(
            select(receipts.c.line_key, receipts.c.statement_id).where(
                receipts.c.line_key.in_(keys)
            )
        )
        paired = await self.session.execute(
            select(bank_line_twins.c.line_key, receipts.c.statement_id)
            .join(receipts, receipts.c.receipt_id == bank_line_twins.c.receipt_id)
            .where(bank_line_twins.c.line_key.in_(keys))
        )
        return {key: statement_id for key, statement_id in [*own.all(), *paired.all()]}

    async def twin_candidates(
        self,
        amount_minor: int,
        end_to_end_id: str | None,
        reference: str | None,
        *,
        from_notifications: bool,
    ) -> list[Receipt]:
        same = [
            column == value
            for column, value in (
                (receipts.c.end_to_end_id, end_to_end_id),
                (receipts.c.reference, reference),
            )
            if value is not None
        ]
        if not same:
            return []
        rows = await self.session.execute(
            select(receipts)
            .where(
                receipts.c.amount_minor == amount_minor,
                or_(*same),
                *_unpaired(from_notifications),
            )
            .order_by(receipts.c.received_on, receipts.c.created_at, receipts.c.line_key)
        )
        return [_receipt(row) for row in rows.mappings().all()]

    async def any_unpaired(self, *, from_notifications: bool) -> bool:
        found = await self.session.scalar(
            select(receipts.c.receipt_id).where(*_unpaired(from_notifications)).limit(1)
        )
        return found is not None

    async def pair(self, line_key: str, statement_id: str, receipt_id: str) -> bool:
        inserted = await self.session.scalar(
            insert(bank_line_twins)
            .values(line_key=line_key, statement_id=statement_id, receipt_id=receipt_id)
            .on_conflict_do_nothing()
            .returning(bank_line_twins.c.line_key)
        )
        return inserted is not None

    async def allocated_to(self, case_id: str) -> list[tuple[date, int]]:
        rows = await self.session.execute(
            select(receipts.c.received_on, receipts.c.amount_minor)
            .where(
                receipts.c.case_id == case_id,
                receipts.c.status == ReceiptStatus.ALLOCATED.value,
            )
            .order_by(receipts.c.received_on, receipts.c.created_at, receipts.c.line_key)
        )
        return [(received_on, amount) for received_on, amount in rows.all()]

    async def add_direct_payment(self, payment: DirectPayment) -> bool:
        inserted = await self.session.scalar(
            insert(direct_payments)
            .values(
                payment_id=payment.payment_id,
                case_id=payment.case_id,
                creditor_id=payment.creditor_id,
                amount_minor=payment.amount_minor,
                currency=payment.currency,
                paid_on=payment.paid_on,
                settles_in_full=payment.settles_in_full,
            )
            .on_conflict_do_nothing(index_elements=["payment_id"])
            .returning(direct_payments.c.payment_id)
        )
        return inserted is not None

    async def direct_payments_to(self, case_id: str) -> list[DirectPayment]:
        rows = (
            (
                await self.session.execute(
                    select(direct_payments)
                    .where(direct_payments.c.case_id == case_id)
                    .order_by(direct_payments.c.paid_on, direct_payments.c.payment_id)
                )
            )
            .mappings()
            .all()
        )
        return [
            DirectPayment(
                payment_id=row["payment_id"],
                case_id=str(row["case_id"]),
                creditor_id=row["creditor_id"],
                amount_minor=row["amount_minor"],
                currency=row["currency"],
                paid_on=row["paid_on"],
                settles_in_full=row["settles_in_full"],
            )
            for row in rows
        ]

    async def reversible(
        self, amount_minor: int, end_to_end_id: str | None, reference: str | None
    ) -> Receipt | None:
        same = [
            column == value
            for column, value in (
                (receipts.c.end_to_end_id, end_to_end_id),
                (receipts.c.reference, reference),
            )
            if value is not None
        ]
        if not same:
            return None
        return await self._one(
            receipts.c.amount_minor == amount_minor,
            receipts.c.status.in_([s.value for s in REVERSIBLE]),
            or_(*same),
        )

    async def in_suspense(self) -> list[Receipt]:
        rows = (
            (
                await self.session.execute(
                    select(receipts)
                    .where(receipts.c.status == ReceiptStatus.SUSPENSE.value)
                    .order_by(receipts.c.received_on, receipts.c.created_at)
                )
            )
            .mappings()
            .all()
        )
        return [_receipt(row) for row in rows]
