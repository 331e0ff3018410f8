"""Wires settlement's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from recouvra_shared.runtime import ServiceParts, Wiring
from settlement.adapters.unit_of_work import settlement_units


def build(wiring: Wiring) -> ServiceParts:
    """No behaviour yet: the service serves gRPC health and its outbox relay, and hands its own
    unit of work to the event handlers it will subscribe."""
    return ServiceParts(unit_of_work=settlement_units(wiring.database))
