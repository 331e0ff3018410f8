"""What money in needs from storage: the cases settlement knows, statements and receipts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Protocol

from settlement.domain.direct_payments import DirectPayment
from settlement.domain.receipts import Receipt, SettledCase


class SettledCaseRepository(Protocol):
    """Cases as intake submitted them: creditor, debtor kind, invoice terms."""

    async def get(self, case_id: str) -> SettledCase | None:
        """The case, if settlement heard of it."""

    async def put(self, case: SettledCase) -> None:
        """Record the case, or replace what was known of it."""

    async def open_cases(self) -> list[SettledCase]:
        """Every case not withdrawn, for matching a credit by its amount."""


class ReceiptRepository(Protocol):
    """Imported statements and the receipts their lines became."""

    async def statement_imported(self, statement_id: str, account_iban: str) -> bool:
        """Whether this statement of this account was imported to the end."""

    async def record_statement(
        self, statement_id: str, account_iban: str, message_type: str, lines: int
    ) -> None:
        """Mark the statement imported (once)."""

    async def add(self, receipt: Receipt) -> bool:
        """Keep a new receipt; False (nothing kept) when its line was kept already."""

    async def update(self, receipt: Receipt) -> None:
        """Store what became of a receipt (allocated, reversed, refunded)."""

    async def get(self, receipt_id: str) -> Receipt | None:
        """A receipt by id."""

    async def of_line(self, line_key: str) -> Receipt | None:
        """The receipt a bank line became, if it was imported."""

    async def booked_lines(self, line_keys: Collection[str]) -> dict[str, str]:
        """Of these bank lines, those imported already, each with the id of the statement or
        notification whose receipt holds its money (a paired line: its twin's)."""

    async def twin_candidates(
        self,
        amount_minor: int,
        end_to_end_id: str | None,
        reference: str | None,
        *,
        from_notifications: bool,
    ) -> list[Receipt]:
        """Receipts of this amount with this end-to-end id or reference, booked from a camt.054
        notification (else from a camt.053 statement), no line paired with them yet, oldest
        first."""

    async def any_unpaired(self, *, from_notifications: bool) -> bool:
        """Whether any receipt booked from a camt.054 notification (else from a camt.053
        statement) has no line paired with it yet: a line could be its twin."""

    async def pair(self, line_key: str, statement_id: str, receipt_id: str) -> bool:
        """Record that a bank line is the money of a receipt booked from another document;
        False when the line or the receipt is paired already."""

    async def allocated_to(self, case_id: str) -> list[tuple[date, int]]:
        """The (date, cents) of the case's receipts still allocated, oldest first."""

    async def add_direct_payment(self, payment: DirectPayment) -> bool:
        """Keep a payment the creditor declared; False when its id was kept already."""

    async def direct_payments_to(self, case_id: str) -> list[DirectPayment]:
        """The case's direct payments, oldest first."""

    async def reversible(
        self, amount_minor: int, end_to_end_id: str | None, reference: str | None
    ) -> Receipt | None:
        """The oldest credit not reversed yet with this end-to-end id, else with this
        reference, of this amount."""

    async def in_suspense(self) -> list[Receipt]:
        """Receipts waiting for an operator, oldest first."""
