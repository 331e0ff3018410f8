"""What messaging's use cases need from storage: a transaction, the outbox, a commit.

Each table messaging gets comes with its repository protocol, and the unit of work gains a
property for it (see the gateway's and the vault's): `webhooks` (`webhook_ports.py`) so far.
"""

from __future__ import annotations

from typing import Protocol

from messaging.domain.outgoing import DispatchResult, MessageToSend
from messaging.service_layer.webhook_ports import WebhookRepository
from recouvra_shared.unit_of_work import UnitOfWorkProtocol


class MessagingUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over messaging's tables; the only thing that commits."""

    @property
    def webhooks(self) -> WebhookRepository: ...


class Dispatcher(Protocol):
    """Composes a message from its template and the case's facts and sends it on its channel.

    Called by the contact plan when a step is due and allowed; must be safe to call again with the
    same message id after a crash (it sends at most once more, and says so).
    """

    async def dispatch(self, message: MessageToSend) -> DispatchResult: ...
