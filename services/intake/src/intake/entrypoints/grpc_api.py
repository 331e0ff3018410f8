"""Intake's gRPC API: translates requests to commands and domain errors to status codes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import grpc
from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError

from intake.adapters import einvoice
from intake.adapters.repository import CaseFilter, TimelineRow
from intake.domain import csv_import, legal, seller
from intake.domain.errors import (
    InvalidField,
    InvalidRequest,
    Violation,
)
from intake.domain.model import (
    COMPANY,
    CONSUMER,
    Case,
    DebtorInput,
    InvoiceInput,
    SubmitCase,
    debtor_kind,
)
from intake.domain.money import AmountError, format_amount, to_minor_units
from intake.service_layer import handlers
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.errors import NotFound
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
REPORT_PAGE = 1000
R = TypeVar("R")


def paris_today() -> date:
    """Today in France, where the legal deadlines run."""
    return datetime.now(PARIS).date()


def creditor_scope(requested: str) -> str | None:
    """The creditor whose cases the caller may touch; None for internal services (any).

    A creditor acts for its own tenant (naming another is NOT_FOUND); a partner acts for the
    creditor it names, the gateway having checked the referral; anyone else gets "" (nothing).
    """
    caller = caller_var.get()
    requested = requested.strip()
    if caller is None or caller.kind == "service":
        return requested or None
    if caller.kind == "creditor" and caller.tenant_id:
        if requested and requested != caller.tenant_id:
            raise NotFound("creditor_id: no such creditor")
        return caller.tenant_id
    if caller.kind == "partner":
        if not requested:
            raise InvalidField(
                "creditor_id", "is required for a partner (the creditor it acts for)"
            )
        return requested
    return ""


async def _answer(context: grpc.aio.ServicerContext, work: Callable[[], Awaitable[R]]) -> R:
    """Run the work, retrying once on a lost race (a refusal reaches the caller as its status)."""
    for attempt in range(2):
        try:
            return await work()
        except IntegrityError:
            # Two calls raced on the same idempotency key or invoice: the second attempt
            # sees the winner's row and answers like a replay or a duplicate.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _money(minor: int, currency: str) -> Money:
    return Money(currency=currency, minor_units=minor)


def _request_fingerprint(operation: str, request: Message) -> bytes:
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("idempotency_key")
    return handlers.fingerprint(operation, copy.SerializeToString(deterministic=True))


def debtor_input(debtor: intake_pb2.Debtor) -> DebtorInput:
    """The proto debtor as a domain input."""
    kinds = {intake_pb2.Debtor.COMPANY: COMPANY, intake_pb2.Debtor.CONSUMER: CONSUMER}
    return DebtorInput(
        kind=kinds.get(debtor.kind, ""),
        name=debtor.name,
        siren_or_siret=debtor.siren_or_siret,
        vat_number=debtor.vat_number,
        address_lines=tuple(debtor.address.lines),
        postal_code=debtor.address.postal_code,
        city=debtor.address.city,
        country_code=debtor.address.country_code,
        email=debtor.email,
        phone=debtor.phone,
        iban=debtor.bank_account.iban,
        bic=debtor.bank_account.bic,
    )


def submit_command(request: intake_pb2.SubmitCaseRequest, creditor_id: str) -> SubmitCase:
    """A SubmitCaseRequest (new or deprecated single-invoice form) as a command."""
    legacy = bool(request.debtor_name or request.invoice_number or request.HasField("amount"))
    modern = request.HasField("debtor") or bool(request.invoices)
    if legacy and modern:
        raise InvalidField(
            "debtor_name",
            "use either debtor + invoices or the deprecated single-invoice fields, not both",
        )
    if modern:
        return SubmitCase(
            creditor_id=creditor_id,
            debtor=debtor_input(request.debtor),
            invoices=tuple(
                InvoiceInput(
                    invoice_number=i.invoice_number,
                    issue_date=i.issue_date,
                    due_date=i.due_date,
                    currency=i.currency,
                    amount_due=i.amount_due,
                    total_amount=i.total_amount,
                    description=i.description,
                )
                for i in request.invoices
            ),
            disputed=request.disputed,
            notes=request.notes,
        )
    try:
        amount = format_amount(request.amount.minor_units, request.amount.currency)
    except AmountError:
        amount = str(request.amount.minor_units)
    return SubmitCase(
        creditor_id=creditor_id,
        debtor=DebtorInput(kind=debtor_kind(request.debtor_is_business), name=request.debtor_name),
        invoices=(
            InvoiceInput(
                invoice_number=request.invoice_number,
                issue_date=request.issue_date,
                due_date=request.due_date,
                currency=request.amount.currency,
                amount_due=amount,
            ),
        ),
        disputed=request.disputed,
        notes=request.notes,
    )


def debtor_message(case: Case) -> intake_pb2.Debtor:
    """The stored debtor as the proto message."""
    d = case.debtor
    kind = intake_pb2.Debtor.COMPANY if d.is_company else intake_pb2.Debtor.CONSUMER
    message = intake_pb2.Debtor(
        kind=kind,
        name=d.name,
        siren_or_siret=d.siret or d.siren,
        vat_number=d.vat_number,
        email=d.email,
        phone=d.phone,
    )
    if d.address_lines or d.postal_code or d.city:
        message.address.CopyFrom(
            intake_pb2.PostalAddress(
                lines=list(d.address_lines),
                postal_code=d.postal_code,
                city=d.city,
                country_code=d.country_code,
            )
        )
    if d.iban:
        message.bank_account.CopyFrom(intake_pb2.BankAccount(iban=d.iban, bic=d.bic))
    return message


def legal_message(amounts: legal.LegalAmounts) -> intake_pb2.LegalAmounts:
    """Legal amounts as the proto message."""
    cur = amounts.currency
    return intake_pb2.LegalAmounts(
        as_of=amounts.as_of.isoformat(),
        principal=_money(amounts.principal_minor, cur),
        interest=_money(amounts.interest_minor, cur),
        indemnity=_money(amounts.indemnity_minor, cur),
        paid=_money(amounts.paid_minor, cur),
        total=_money(amounts.total_minor, cur),
        lines=[
            intake_pb2.ComputationLine(
                kind=line.kind,
                invoice_number=line.invoice_number,
                period_start=line.period_start.isoformat() if line.period_start else "",
                period_end=line.period_end.isoformat() if line.period_end else "",
                days=line.days,
                rate_percent=f"{line.rate_percent:.2f}" if line.rate_percent is not None else "",
                base=_money(line.base_minor, cur),
                amount=_money(line.amount_minor, cur),
                explanation=line.explanation,
            )
            for line in amounts.lines
        ],
        invoices=[
            intake_pb2.InvoiceStanding(
                invoice_number=s.invoice_number,
                days_past_due=s.days_past_due,
                prescribed_after=s.prescribed_after.isoformat(),
            )
            for s in amounts.standings
        ],
        rate_source=amounts.rate_source,
    )


def legal_amounts(case: Case, as_of: date) -> legal.LegalAmounts:
    """The case's legal amounts on a date."""
    return legal.compute(
        [legal.Claim(i.invoice_number, i.due_date, i.amount_due_minor) for i in case.invoices],
        case.currency,
        debtor_is_company=case.debtor.is_company,
        as_of=as_of,
        payments=[
            legal.Payment(p.paid_on, p.amount_minor, p.settles_in_full) for p in case.payments
        ],
    )


def case_message(case: Case, as_of: date | None = None) -> intake_pb2.Case:
    """A case as the proto message; with legal amounts when a date is given."""
    cur = case.currency
    first = case.first_invoice
    message = intake_pb2.Case(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        status=case.status,
        debtor_name=case.debtor.name,
        invoice_number=first.invoice_number,
        amount=_money(case.principal_minor, cur),
        due_date=first.due_date.isoformat(),
        debtor=debtor_message(case),
        invoices=[
            intake_pb2.InvoiceLine(
                invoice_number=i.invoice_number,
                issue_date=i.issue_date.isoformat(),
                due_date=i.due_date.isoformat(),
                amount_due=_money(i.amount_due_minor, cur),
                total_amount=_money(i.total_minor, cur) if i.total_minor is not None else None,
                description=i.description,
                amount_due_decimal=format_amount(i.amount_due_minor, cur),
            )
            for i in case.invoices
        ],
        disputed=case.disputed,
        notes=case.notes,
        submitted_at=case.submitted_at.isoformat() if case.submitted_at else "",
        source=case.source,
        payments=[
            intake_pb2.DeclaredPayment(
                amount=_money(p.amount_minor, cur),
                paid_on=p.paid_on.isoformat(),
                settles_in_full=p.settles_in_full,
            )
            for p in case.payments
        ],
        withdrawn_reason=case.withdrawn_reason,
    )
    if as_of is not None:
        message.legal_amounts.CopyFrom(legal_message(legal_amounts(case, as_of)))
    return message


def import_report(outcomes: Sequence[handlers.RowOutcome]) -> intake_pb2.ImportCasesResponse:
    """The whole import report in one message (streamed out in pages)."""
    accepted = sum(1 for o in outcomes if o.case_id)
    return intake_pb2.ImportCasesResponse(
        rows=len(outcomes),
        accepted=accepted,
        refused=len(outcomes) - accepted,
        report=[
            intake_pb2.RowReport(
                line=o.line,
                accepted=bool(o.case_id),
                case_id=o.case_id,
                violations=[
                    intake_pb2.FieldViolation(field=v.field, description=v.rule)
                    for v in o.violations
                ],
            )
            for o in outcomes
        ],
        done=True,
    )


def timeline_entry(row: TimelineRow) -> intake_pb2.TimelineEntry:
    """A timeline row as the proto message."""
    return intake_pb2.TimelineEntry(
        occurred_at=row.occurred_at.isoformat(),
        source=row.source,
        event_type=row.event_type,
        summary=row.summary,
        event_id=row.event_id or "",
    )


def _optional_date(field: str, value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidField(field, "must be an ISO 8601 date (YYYY-MM-DD)") from None


def case_filter(request: intake_pb2.ListCasesRequest, scope: str | None) -> CaseFilter:
    """The list request's filters, validated."""
    violations: list[Violation] = []
    dates: dict[str, date | None] = {}
    for name in ("submitted_from", "submitted_to"):
        try:
            dates[name] = _optional_date(name, getattr(request, name))
        except InvalidField as exc:
            violations.extend(exc.violations)
    currency = request.currency.strip().upper() or "EUR"
    bounds: dict[str, int | None] = {"min_amount": None, "max_amount": None}
    for name in bounds:
        text = getattr(request, name).strip()
        if text:
            try:
                bounds[name] = to_minor_units(text, currency)
            except AmountError as exc:
                violations.append(Violation(name, str(exc)))
    debtor = request.debtor.strip()
    if has_control_characters(debtor):
        violations.append(Violation("debtor", CONTROL_CHARACTERS_RULE))
    for index, status in enumerate(request.statuses):
        if has_control_characters(status):
            violations.append(Violation(f"statuses[{index}]", CONTROL_CHARACTERS_RULE))
    if violations:
        raise InvalidRequest(violations)
    return CaseFilter(
        creditor_id=scope,
        statuses=tuple(request.statuses),
        debtor_name="" if (debtor.isdigit() and len(debtor) == 9) else debtor,
        debtor_siren=debtor if (debtor.isdigit() and len(debtor) == 9) else "",
        submitted_from=dates["submitted_from"],
        submitted_before=dates["submitted_to"],
        currency=currency,
        min_amount_minor=bounds["min_amount"],
        max_amount_minor=bounds["max_amount"],
    )


class IntakeApi(intake_pb2_grpc.IntakeServiceServicer):
    """IntakeService over the intake database."""

    def __init__(self, database: Database, today: Callable[[], date] = paris_today) -> None:
        self.database = database
        self.today = today

    def unit_of_work(self) -> UnitOfWork:
        """A fresh unit of work."""
        return self.database.unit_of_work()

    async def SubmitCase(
        self, request: intake_pb2.SubmitCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.SubmitCaseResponse:
        async def work() -> intake_pb2.SubmitCaseResponse:
            scope = creditor_scope(request.creditor_id)
            if scope == "":
                raise NotFound("creditor_id: no such creditor")
            creditor_id = scope or ""
            command = submit_command(request, creditor_id)
            async with self.unit_of_work() as uow:

                async def act() -> bytes:
                    case = await handlers.submit_case(command, uow, self.today())
                    reply = intake_pb2.SubmitCaseResponse(case_id=case.case_id)
                    return reply.SerializeToString()

                raw, replayed = await handlers.idempotent(
                    uow,
                    creditor_id,
                    request.idempotency_key,
                    "SubmitCase",
                    _request_fingerprint("SubmitCase", request),
                    act,
                )
            reply = intake_pb2.SubmitCaseResponse.FromString(raw)
            reply.replayed = replayed
            return reply

        return await _answer(context, work)

    async def GetCase(
        self, request: intake_pb2.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        async def work() -> intake_pb2.Case:
            scope = creditor_scope(request.creditor_id)
            as_of = _optional_date("as_of", request.as_of) or self.today()
            async with self.unit_of_work() as uow:
                case = await handlers.get_case(request.case_id, scope, uow)
            return case_message(case, as_of)

        return await _answer(context, work)

    async def ListCases(
        self, request: intake_pb2.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.ListCasesResponse:
        async def work() -> intake_pb2.ListCasesResponse:
            where = case_filter(request, creditor_scope(request.creditor_id))
            async with self.unit_of_work() as uow:
                page, token = await handlers.list_cases(
                    where, request.page_token, request.page_size, uow
                )
            return intake_pb2.ListCasesResponse(
                cases=[case_message(c) for c in page], next_page_token=token
            )

        return await _answer(context, work)

    async def GetCaseTimeline(
        self, request: intake_pb2.GetCaseTimelineRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.CaseTimeline:
        async def work() -> intake_pb2.CaseTimeline:
            scope = creditor_scope(request.creditor_id)
            async with self.unit_of_work() as uow:
                rows = await handlers.case_timeline(request.case_id, scope, uow)
            return intake_pb2.CaseTimeline(
                case_id=request.case_id, entries=[timeline_entry(r) for r in rows]
            )

        return await _answer(context, work)

    async def _change(
        self,
        operation: str,
        request: intake_pb2.WithdrawCaseRequest | intake_pb2.DeclarePaymentRequest,
        change: Callable[[str | None, UnitOfWork], Awaitable[Case]],
    ) -> intake_pb2.Case:
        scope = creditor_scope(request.creditor_id)
        async with self.unit_of_work() as uow:

            async def act() -> bytes:
                case = await change(scope, uow)
                return case_message(case, self.today()).SerializeToString()

            # Keys are per creditor; a service caller's key is scoped by the case instead.
            raw, _ = await handlers.idempotent(
                uow,
                scope or f"case:{request.case_id}",
                request.idempotency_key,
                operation,
                _request_fingerprint(operation, request),
                act,
            )
        return intake_pb2.Case.FromString(raw)

    async def WithdrawCase(
        self, request: intake_pb2.WithdrawCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        async def work() -> intake_pb2.Case:
            return await self._change(
                "WithdrawCase",
                request,
                lambda scope, uow: handlers.withdraw_case(
                    request.case_id, scope, request.reason, uow
                ),
            )

        return await _answer(context, work)

    async def DeclarePayment(
        self, request: intake_pb2.DeclarePaymentRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        async def work() -> intake_pb2.Case:
            return await self._change(
                "DeclarePayment",
                request,
                lambda scope, uow: handlers.declare_payment(
                    request.case_id,
                    scope,
                    request.amount,
                    request.currency,
                    request.paid_on,
                    request.settles_in_full,
                    uow,
                    self.today(),
                ),
            )

        return await _answer(context, work)

    async def ImportCases(
        self,
        request_iterator: AsyncIterator[intake_pb2.ImportCasesRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[intake_pb2.ImportCasesResponse]:
        first: intake_pb2.ImportCasesRequest | None = None
        chunks: list[bytes] = []
        size = 0
        async for message in request_iterator:
            first = first or message
            size += len(message.content)
            if size > csv_import.MAX_BYTES:
                raise InvalidField("content", f"must be at most {csv_import.MAX_BYTES >> 20} MiB")
            chunks.append(message.content)
        head = first or intake_pb2.ImportCasesRequest()
        content = b"".join(chunks)

        async def work() -> intake_pb2.ImportCasesResponse:
            scope = creditor_scope(head.creditor_id)
            if not scope:
                if scope == "":
                    raise NotFound("creditor_id: no such creditor")
                raise InvalidField("creditor_id", "is required")
            async with self.unit_of_work() as uow:

                async def act() -> bytes:
                    rows = csv_import.read_cases(content, scope)
                    outcomes = await handlers.import_cases(rows, scope, uow, self.today())
                    return import_report(outcomes).SerializeToString()

                raw, replayed = await handlers.idempotent(
                    uow,
                    scope,
                    head.idempotency_key,
                    "ImportCases",
                    handlers.fingerprint("ImportCases", content),
                    act,
                )
            report = intake_pb2.ImportCasesResponse.FromString(raw)
            report.replayed = replayed
            return report

        report = await _answer(context, work)
        rows = list(report.report)
        for start in range(0, len(rows), REPORT_PAGE):
            yield intake_pb2.ImportCasesResponse(
                report=rows[start : start + REPORT_PAGE], replayed=report.replayed
            )
        yield intake_pb2.ImportCasesResponse(
            rows=report.rows,
            accepted=report.accepted,
            refused=report.refused,
            replayed=report.replayed,
            done=True,
        )

    async def ImportEInvoice(
        self, request: intake_pb2.ImportEInvoiceRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.ImportEInvoiceResponse:
        # The creditor's SIREN says who calls, not what was sent: a retry is the same request
        # whether or not the gateway that relays it already passes the SIREN.
        client_content = intake_pb2.ImportEInvoiceRequest()
        client_content.CopyFrom(request)
        client_content.ClearField("creditor_siren")

        async def work() -> intake_pb2.ImportEInvoiceResponse:
            scope = creditor_scope(request.creditor_id)
            if not scope:
                if scope == "":
                    raise NotFound("creditor_id: no such creditor")
                raise InvalidField("creditor_id", "is required")
            creditor_siren = seller.creditor_siren(request.creditor_siren)
            # Schema validation is CPU work: keep the event loop serving other calls.
            read = await asyncio.to_thread(
                einvoice.read_einvoice,
                request.content,
                scope,
                disputed=request.disputed,
                notes=request.notes,
                amount_due=request.amount_due,
            )
            unchecked = seller.check_seller(read.seller, creditor_siren)
            if unchecked:
                # The response has no place for warnings: the operator's log keeps the trace.
                log.warning(
                    "e-invoice seller not checked against the creditor: %s",
                    unchecked,
                    extra={
                        "creditor_id": scope,
                        "invoice_number": read.command.invoices[0].invoice_number,
                        "seller_name": read.seller.name,
                    },
                )
            today = self.today()
            async with self.unit_of_work() as uow:

                async def act() -> bytes:
                    case = await handlers.submit_case(read.command, uow, today)
                    return intake_pb2.ImportEInvoiceResponse(
                        case_id=case.case_id,
                        format=read.format,
                        imported_case=case_message(case, today),
                    ).SerializeToString()

                raw, replayed = await handlers.idempotent(
                    uow,
                    scope,
                    request.idempotency_key,
                    "ImportEInvoice",
                    _request_fingerprint("ImportEInvoice", client_content),
                    act,
                )
            reply = intake_pb2.ImportEInvoiceResponse.FromString(raw)
            reply.replayed = replayed
            return reply

        return await _answer(context, work)
