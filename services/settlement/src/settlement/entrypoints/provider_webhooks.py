"""Settlement's HTTP face for payment-initiation providers: their signed status notifications.

The only HTTP settlement serves (beside nothing else): `POST /webhooks/bridge`. A request whose
signature is missing or wrong answers 401, one signed outside the tolerance or not shaped as a
notification 400 (Bridge retries with a fresh signature), an outage 503; nothing is done then.
A notification acted on before answers 200 and does nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from recouvra_shared.errors import InvalidRequest, Refusal, Unauthenticated
from settlement.domain.payment_links import StatusNotification
from settlement.service_layer.announced_payments import Outcome
from settlement.service_layer.payment_link_ports import PaymentInitiation

MAX_BODY = 1_000_000  # Bridge's notifications are small; anything larger is not one

Receive = Callable[[Sequence[StatusNotification]], Awaitable[list[Outcome]]]


def _status_of(refusal: Refusal) -> int:
    """The one translation of a refusal to an HTTP status at this edge."""
    if isinstance(refusal, Unauthenticated):
        return 401
    if isinstance(refusal, InvalidRequest):
        return 400
    return 503


def webhook_app(provider: PaymentInitiation, receive: Receive) -> Starlette:
    """The provider's notifications verified by its adapter, then acted on once each."""

    async def bridge(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise InvalidRequest([])
            notifications = provider.parse_notification(body, dict(request.headers))
            outcomes = await receive(notifications)
        except Refusal as refusal:
            return JSONResponse({"refused": refusal.message}, status_code=_status_of(refusal))
        return JSONResponse({"outcomes": [outcome.value for outcome in outcomes]})

    return Starlette(routes=[Route("/webhooks/bridge", bridge, methods=["POST"])])
