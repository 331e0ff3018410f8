"""The background loop that reads the bounce mailbox."""

from __future__ import annotations

from collections.abc import Callable

from messaging.service_layer.bounces import BounceMailbox, suppress_bounced
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.polling import PollingLoop


def bounce_job(
    mailbox: BounceMailbox, units: Callable[[], MessagingUnitOfWork], *, idle_seconds: float
) -> PollingLoop:
    """Suppress bounced addresses, again at once while DSNs keep coming."""

    async def read_bounces() -> bool:
        return await suppress_bounced(mailbox, units) > 0

    return PollingLoop("bounce-mailbox", read_bounces, idle_seconds=idle_seconds)
