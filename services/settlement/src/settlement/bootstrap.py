"""Wires settlement's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from collections.abc import Callable

from recouvra_shared.db import Database
from recouvra_shared.runtime import ServiceParts, Wiring
from settlement.adapters.unit_of_work import settlement_units
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


def units_of(database: Database) -> Callable[[], SettlementUnitOfWork]:
    """Settlement's units of work on `database`, for the service and its operator commands."""
    return settlement_units(database)


def build(wiring: Wiring) -> ServiceParts:
    """The service serves gRPC health and its outbox relay, and hands its own unit of work to
    the event handlers it will subscribe; the ledger is reached by the operator commands."""
    return ServiceParts(unit_of_work=settlement_units(wiring.database))
