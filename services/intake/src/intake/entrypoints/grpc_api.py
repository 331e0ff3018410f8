"""Intake's gRPC API: translates requests to commands and domain errors to status codes."""

from __future__ import annotations

import grpc

from intake.domain.errors import CaseNotFound, DuplicateInvoice, IdempotencyConflict, InvalidField
from intake.domain.model import SubmitCase
from intake.service_layer import handlers
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.db import Database
from recouvra_shared.grpc import abort


def _creditor_scope() -> str | None:
    """The creditor the caller may act for; None for internal services (all creditors)."""
    caller = caller_var.get()
    if caller is None or caller.kind == "service":
        return None
    if caller.kind == "creditor" and caller.tenant_id:
        return caller.tenant_id
    return ""  # any other caller sees nothing


class IntakeApi(intake_pb2_grpc.IntakeServiceServicer):
    """IntakeService over the intake database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def SubmitCase(
        self, request: intake_pb2.SubmitCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.SubmitCaseResponse:
        scope = _creditor_scope()
        if scope is not None and request.creditor_id != scope:
            await abort(context, grpc.StatusCode.NOT_FOUND, "creditor_id: no such creditor")
        command = SubmitCase(
            creditor_id=request.creditor_id,
            debtor_name=request.debtor_name,
            debtor_is_business=request.debtor_is_business,
            invoice_number=request.invoice_number,
            currency=request.amount.currency,
            amount_minor=request.amount.minor_units,
            issue_date=request.issue_date,
            due_date=request.due_date,
            disputed=request.disputed,
        )
        try:
            async with self.database.unit_of_work() as uow:
                case_id, replayed = await handlers.submit_case(
                    command, request.idempotency_key, uow
                )
        except InvalidField as exc:
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except (IdempotencyConflict, DuplicateInvoice) as exc:
            await abort(context, grpc.StatusCode.ALREADY_EXISTS, str(exc))
        return intake_pb2.SubmitCaseResponse(case_id=case_id, replayed=replayed)

    async def GetCase(
        self, request: intake_pb2.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        try:
            async with self.database.unit_of_work() as uow:
                case = await handlers.get_case(request.case_id, _creditor_scope(), uow)
        except (CaseNotFound, ValueError):
            await abort(context, grpc.StatusCode.NOT_FOUND, "case_id: no such case")
        return intake_pb2.Case(
            case_id=case.case_id,
            creditor_id=case.creditor_id,
            status=case.status,
            debtor_name=case.debtor_name,
            invoice_number=case.invoice_number,
            amount=Money(currency=case.currency, minor_units=case.amount_minor),
            due_date=case.due_date.isoformat(),
        )
