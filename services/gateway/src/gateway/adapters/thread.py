"""Messaging's CaseThreadService as the gateway uses it, in the REST shapes; a case the caller
has no part in (or no longer holds) reads as missing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.adapters.calls import unary
from gateway.schemas.thread import ThreadMessageIn, ThreadMessageList, ThreadMessageView
from recouvra.messaging.v1 import thread_pb2 as pb
from recouvra_shared.context import Caller

NO_CASE = "case: no such case"


def message_view(message: pb.ThreadMessage) -> ThreadMessageView:
    to: Any = list(message.to)
    return ThreadMessageView(
        id=message.message_id,
        case_id=message.case_id,
        author=message.author,
        to=to,
        text=message.text,
        attachment_document_ids=list(message.attachment_document_ids),
        written_at=datetime.fromisoformat(message.written_at),
    )


class ThreadClient:
    """Typed calls to messaging's CaseThreadService, as the creditor or the provider itself."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub

    async def post(self, caller: Caller, case_id: str, body: ThreadMessageIn) -> ThreadMessageView:
        reply = await unary(
            self.stub.PostThreadMessage,
            pb.PostThreadMessageRequest(
                case_id=case_id,
                to=list(body.to),
                text=body.text,
                attachment_document_ids=list(body.attachment_document_ids),
            ),
            caller,
            NO_CASE,
        )
        return message_view(reply)

    async def list(self, caller: Caller, case_id: str) -> ThreadMessageList:
        reply = await unary(
            self.stub.ListThreadMessages,
            pb.ListThreadMessagesRequest(case_id=case_id),
            caller,
            NO_CASE,
        )
        return ThreadMessageList(items=[message_view(m) for m in reply.messages])
