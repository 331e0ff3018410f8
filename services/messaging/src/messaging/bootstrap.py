"""Wires messaging's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from messaging.adapters.unit_of_work import messaging_units
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """No behaviour yet: the service serves gRPC health and its outbox relay, and hands its own
    unit of work to the event handlers it will subscribe."""
    return ServiceParts(unit_of_work=messaging_units(wiring.database))
