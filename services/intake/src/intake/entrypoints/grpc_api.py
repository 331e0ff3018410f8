"""Intake's gRPC servicer: each call's request becomes a command, the use case answers, and the
answer becomes the reply. Refusals reach the caller through the shared server interceptor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date

import grpc

from intake.entrypoints import grpc_commands as commands
from intake.entrypoints import grpc_replies as replies
from intake.service_layer import read_cases
from intake.service_layer.case_file import read_case_file
from intake.service_layer.debtor_siren import read_debtor_siren
from intake.service_layer.declare_payment import declare_payment
from intake.service_layer.import_csv import import_cases
from intake.service_layer.import_einvoice import ReadEInvoice, import_einvoice
from intake.service_layer.submit_case import Submissions
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from intake.service_layer.withdraw_case import withdraw_case
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc


class IntakeApi(intake_pb2_grpc.IntakeServiceServicer):
    """IntakeService over intake's use cases."""

    def __init__(
        self,
        unit_of_work: Callable[[], IntakeUnitOfWork],
        today: Callable[[], date],
        read_einvoice: ReadEInvoice,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.today = today
        self.read_einvoice = read_einvoice
        self.submissions = Submissions(unit_of_work, replies.submit_reply)

    async def SubmitCase(
        self, request: intake_pb2.SubmitCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.SubmitCaseResponse:
        answer = await self.submissions.submit(commands.submit_command(request), self.today())
        reply = intake_pb2.SubmitCaseResponse.FromString(answer.content)
        reply.replayed = answer.replayed
        return reply

    async def GetCase(
        self, request: intake_pb2.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        query = commands.get_query(request)
        async with self.unit_of_work() as uow:
            found = await read_cases.get_case(query, uow, self.today())
        return replies.case_message(found.case, found.amounts)

    async def ListCases(
        self, request: intake_pb2.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.ListCasesResponse:
        query = commands.list_query(request)
        async with self.unit_of_work() as uow:
            page = await read_cases.list_cases(query, uow)
        return intake_pb2.ListCasesResponse(
            cases=[replies.case_message(c) for c in page.cases],
            next_page_token=page.next_page_token,
        )

    async def GetCaseTimeline(
        self, request: intake_pb2.GetCaseTimelineRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.CaseTimeline:
        query = commands.timeline_query(request)
        async with self.unit_of_work() as uow:
            entries = await read_cases.case_timeline(query, uow)
        return intake_pb2.CaseTimeline(
            case_id=request.case_id, entries=[replies.timeline_entry(e) for e in entries]
        )

    async def GetCaseFile(
        self, request: intake_pb2.GetCaseFileRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.CaseFile:
        query = commands.case_file_query(request)
        async with self.unit_of_work() as uow:
            found, holder = await read_case_file(query, uow, self.today())
        return intake_pb2.CaseFile(
            case=replies.case_message(found.case, found.amounts),
            holder=replies.holder_message(holder),
        )

    async def GetDebtorSiren(
        self, request: intake_pb2.GetDebtorSirenRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.DebtorSiren:
        query = commands.siren_query(request)
        async with self.unit_of_work() as uow:
            found = await read_debtor_siren(query, uow)
        return intake_pb2.DebtorSiren(
            case_id=found.case_id, debtor_is_business=found.is_business, siren=found.siren
        )

    async def WithdrawCase(
        self, request: intake_pb2.WithdrawCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        answer = await withdraw_case(
            commands.withdraw_command(request),
            self.unit_of_work,
            self.today(),
            replies.case_reply,
        )
        return intake_pb2.Case.FromString(answer.content)

    async def DeclarePayment(
        self, request: intake_pb2.DeclarePaymentRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.Case:
        answer = await declare_payment(
            commands.payment_command(request),
            self.unit_of_work,
            self.today(),
            replies.case_reply,
        )
        return intake_pb2.Case.FromString(answer.content)

    async def ImportCases(
        self,
        request_iterator: AsyncIterator[intake_pb2.ImportCasesRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[intake_pb2.ImportCasesResponse]:
        command = await commands.import_command(request_iterator)
        answer = await import_cases(command, self.unit_of_work, self.today(), replies.import_reply)
        report = intake_pb2.ImportCasesResponse.FromString(answer.content)
        report.replayed = answer.replayed
        for page in replies.report_pages(report):
            yield page

    async def ImportEInvoice(
        self, request: intake_pb2.ImportEInvoiceRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.ImportEInvoiceResponse:
        answer = await import_einvoice(
            commands.einvoice_command(request),
            self.unit_of_work,
            self.today(),
            self.read_einvoice,
            replies.einvoice_reply,
        )
        reply = intake_pb2.ImportEInvoiceResponse.FromString(answer.content)
        reply.replayed = answer.replayed
        return reply
