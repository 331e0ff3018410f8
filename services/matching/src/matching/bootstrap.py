"""Wires matching's adapters once."""

from __future__ import annotations

from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """No behaviour yet: the service serves gRPC health and its outbox relay."""
    return ServiceParts()
