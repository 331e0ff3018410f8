"""Settlement's money-in RPCs, for operators: import a statement, work the suspense queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc

from recouvra.common.v1 import money_pb2
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated
from settlement.adapters.camt054 import read_bank_file
from settlement.domain.name_matching import Candidate
from settlement.domain.receipts import Receipt
from settlement.service_layer import suspense
from settlement.service_layer.name_proposals import DebtorNames, suspense_with_candidates
from settlement.service_layer.statement_import import ImportReport, import_statement
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def _operator_only() -> None:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("the call names no caller")
    if caller.kind != "operator":
        raise PermissionDenied("statements and the suspense queue are for operators")


def imported(report: ImportReport) -> settlement_pb2.StatementImported:
    """An import's report as the contract says it."""
    return settlement_pb2.StatementImported(
        statement_id=report.statement_id,
        account_iban=report.account_iban,
        already_imported=report.already_imported,
        lines=report.lines,
        matched_by_reference=report.by_reference,
        matched_by_amount=report.by_amount,
        suspense=report.suspense,
        reversed=report.reversed,
        unmatched_debits=report.unmatched_debits,
        ignored=report.ignored,
        known=report.known,
        already_booked=report.already_booked,
    )


def suspense_item(
    receipt: Receipt, proposed: tuple[Candidate, ...] = ()
) -> settlement_pb2.SuspenseItem:
    """A receipt of the suspense queue as the contract says it."""
    return settlement_pb2.SuspenseItem(
        receipt_id=receipt.receipt_id,
        amount=money_pb2.Money(currency=receipt.currency, minor_units=receipt.amount_minor),
        received_on=receipt.received_on.isoformat(),
        reference=receipt.reference or "",
        debtor_name=receipt.debtor_name or "",
        status=receipt.status.value,
        case_id=receipt.case_id or "",
        statement_id=receipt.statement_id,
        candidates=[
            settlement_pb2.SuspenseCandidate(
                case_id=c.case_id,
                confidence=c.confidence,
                owed=money_pb2.Money(currency=receipt.currency, minor_units=c.owed_minor),
            )
            for c in proposed
        ],
    )


class MoneyInRpcs:
    """ImportStatement (a camt.053 statement or a camt.054 notification) and the suspense
    queue's RPCs, mixed into the SettlementService."""

    units: Callable[[], SettlementUnitOfWork]
    client_money_iban: str
    debtor_names: DebtorNames | None

    async def ImportStatement(
        self, request: settlement_pb2.ImportStatementRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.ImportStatementReply:
        _operator_only()
        statements = await asyncio.to_thread(read_bank_file, request.content)
        reports = [
            await import_statement(statement, self.units, self.client_money_iban)
            for statement in statements
        ]
        return settlement_pb2.ImportStatementReply(statements=[imported(r) for r in reports])

    async def ListSuspense(
        self, request: settlement_pb2.ListSuspenseRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.ListSuspenseReply:
        _operator_only()
        waiting = await suspense_with_candidates(self.units, self.debtor_names)
        return settlement_pb2.ListSuspenseReply(
            items=[suspense_item(w.receipt, w.candidates) for w in waiting]
        )

    async def AssignSuspense(
        self, request: settlement_pb2.AssignSuspenseRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.SuspenseItem:
        _operator_only()
        assigned = await suspense.assign(request.receipt_id, request.case_id, self.units())
        return suspense_item(assigned)

    async def RefundSuspense(
        self, request: settlement_pb2.RefundSuspenseRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.SuspenseItem:
        _operator_only()
        return suspense_item(await suspense.refund(request.receipt_id, self.units()))
