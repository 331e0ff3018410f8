"""The case thread over gRPC: CaseThreadService for the case's creditor and its holder now (by
their verified token), PortalThreadService for the debtor through the gateway's portal (by its
session, which names the case)."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from messaging.domain.clock import Clock
from messaging.domain.portal_sessions import session_case
from messaging.domain.thread import ThreadMessage, ThreadParty
from messaging.entrypoints.portal_api import as_messaging
from messaging.service_layer import case_thread
from messaging.service_layer.case_thread import Writer, recipients
from messaging.service_layer.thread_ports import CaseDocumentsSource
from recouvra.messaging.v1 import thread_pb2 as pb
from recouvra.messaging.v1 import thread_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import NotFound, PermissionDenied, Unauthenticated

CASE_THREAD = pb.DESCRIPTOR.services_by_name["CaseThreadService"].full_name
PORTAL_THREAD = pb.DESCRIPTOR.services_by_name["PortalThreadService"].full_name
PARTY_OF_KIND = {"creditor": ThreadParty.CREDITOR, "provider": ThreadParty.HOLDER}


def message_reply(message: ThreadMessage) -> pb.ThreadMessage:
    """The message as the contract shows it (never the holder's id: the debtor reads it too)."""
    return pb.ThreadMessage(
        message_id=message.message_id,
        case_id=message.case_id,
        author=message.author.value,
        to=[party.value for party in ThreadParty if party in message.to],
        text=message.text,
        attachment_document_ids=list(message.attachment_ids),
        written_at=message.written_at.isoformat(),
    )


def _writer() -> Writer:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    party = PARTY_OF_KIND.get(caller.kind)
    if party is None or not caller.tenant_id:
        raise NotFound("case_id: no such case")
    return Writer(party, caller.tenant_id)


class CaseThreadApi(thread_pb2_grpc.CaseThreadServiceServicer):
    """The CaseThreadService servicer."""

    def __init__(
        self,
        units: case_thread.Units,
        documents: CaseDocumentsSource,
        clock: Clock,
    ) -> None:
        self.units, self.documents, self.clock = units, documents, clock

    async def PostThreadMessage(
        self, request: pb.PostThreadMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.ThreadMessage:
        writer = _writer()
        token = caller_var.set(None)  # the vault is read as messaging
        try:
            message = await case_thread.post_message(
                self.units,
                self.documents,
                case_id=request.case_id,
                writer=writer,
                to=recipients(list(request.to)),
                text=request.text,
                attachment_ids=tuple(request.attachment_document_ids),
                now=self.clock.now(),
            )
        finally:
            caller_var.reset(token)
        return message_reply(message)

    async def ListThreadMessages(
        self, request: pb.ListThreadMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ThreadMessages:
        messages = await case_thread.read_thread(
            self.units, case_id=request.case_id, writer=_writer()
        )
        return pb.ThreadMessages(messages=[message_reply(m) for m in messages])


class PortalThreadApi(thread_pb2_grpc.PortalThreadServiceServicer):
    """The PortalThreadService servicer: only the gateway, for the case its session names."""

    def __init__(
        self,
        units: case_thread.Units,
        documents: CaseDocumentsSource,
        clock: Clock,
        secret: Callable[[], bytes],
    ) -> None:
        self.units, self.documents, self.clock, self.secret = units, documents, clock, secret

    def _case(self, session: str) -> str:
        if not session:
            raise PermissionDenied("session: required; open the portal link first")
        return session_case(session, self.clock.now(), self.secret())

    async def PostPortalMessage(
        self, request: pb.PostPortalMessageRequest, context: grpc.aio.ServicerContext
    ) -> pb.ThreadMessage:
        async with as_messaging():
            message = await case_thread.post_message(
                self.units,
                self.documents,
                case_id=self._case(request.session),
                writer=Writer(ThreadParty.DEBTOR),
                to=recipients(list(request.to)),
                text=request.text,
                attachment_ids=tuple(request.attachment_document_ids),
                now=self.clock.now(),
            )
        return message_reply(message)

    async def ListPortalMessages(
        self, request: pb.ListPortalMessagesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ThreadMessages:
        async with as_messaging():
            messages = await case_thread.read_thread(
                self.units, case_id=self._case(request.session), writer=Writer(ThreadParty.DEBTOR)
            )
        return pb.ThreadMessages(messages=[message_reply(m) for m in messages])


def register_case_thread(api: CaseThreadApi) -> Callable[[grpc.aio.Server], None]:
    """Adds the servicer to a server (for `ServiceParts.grpc_services`)."""
    return lambda server: thread_pb2_grpc.add_CaseThreadServiceServicer_to_server(api, server)


def register_portal_thread(api: PortalThreadApi) -> Callable[[grpc.aio.Server], None]:
    """Adds the servicer to a server (for `ServiceParts.grpc_services`)."""
    return lambda server: thread_pb2_grpc.add_PortalThreadServiceServicer_to_server(api, server)
