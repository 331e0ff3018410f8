"""PreviewService over gRPC: the request to a query, the preview to a reply, nothing else.

The facts are read from intake and settlement as messaging itself: the caller's identity is
checked here, then cleared for the outgoing calls (only the gateway names a person).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import grpc

from messaging.domain.preview import PreviewRequest
from messaging.service_layer.channels import Renderer
from messaging.service_layer.compose import FactSources, PortalLinks
from messaging.service_layer.preview import preview
from recouvra.messaging.v1 import preview_pb2, preview_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import Unauthenticated

SERVICE_NAME = preview_pb2.DESCRIPTOR.services_by_name["PreviewService"].full_name


class PreviewApi(preview_pb2_grpc.PreviewServiceServicer):
    """The PreviewService servicer."""

    def __init__(
        self,
        sources: FactSources,
        portal: PortalLinks,
        renderer: Renderer,
        now: Callable[[], datetime],
    ) -> None:
        self.sources, self.portal, self.renderer, self.now = sources, portal, renderer, now

    async def PreviewMessage(
        self, request: preview_pb2.PreviewMessageRequest, context: grpc.aio.ServicerContext
    ) -> preview_pb2.MessagePreview:
        caller = caller_var.get()
        if caller is None:
            raise Unauthenticated("caller: no authenticated caller")
        token = caller_var.set(None)  # the facts are read as messaging itself
        try:
            shown = await preview(
                PreviewRequest(
                    case_id=request.case_id,
                    round=request.round or 1,
                    step=request.step or 1,
                    channel=request.channel or "email",
                    template=request.template,
                    language=request.language or "fr",
                    first_sent_on=request.first_sent_on,
                ),
                caller.kind,
                caller.tenant_id or "",
                sources=self.sources,
                portal=self.portal,
                renderer=self.renderer,
                now=self.now,
            )
        finally:
            caller_var.reset(token)
        return preview_pb2.MessagePreview(
            reference=shown.reference,
            subject=shown.rendered.subject,
            text=shown.rendered.text,
            html=shown.rendered.html,
            pdf=shown.rendered.pdf,
            missing_mentions=list(shown.missing_mentions),
        )


def register(api: PreviewApi) -> Callable[[grpc.aio.Server], None]:
    """Adds the servicer to a server (for `ServiceParts.grpc_services`)."""
    return lambda server: preview_pb2_grpc.add_PreviewServiceServicer_to_server(api, server)
