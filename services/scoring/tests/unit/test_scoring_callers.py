"""Who may ask scoring for a score: a creditor about its own cases, no service unless listed."""

from __future__ import annotations

import pytest

from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated
from scoring.entrypoints import grpc_api


def tenant_of(caller: Caller | None) -> str | None:
    token = caller_var.set(caller)
    try:
        return grpc_api.creditor_tenant()
    finally:
        caller_var.reset(token)


def test_only_a_creditor_or_a_listed_service_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tenant_of(Caller("creditor", "u", "creditor-1")) == "creditor-1"
    with pytest.raises(Unauthenticated):
        tenant_of(None)
    for stranger in (Caller("provider", "p", "prov-1"), Caller("service", "matching")):
        with pytest.raises(PermissionDenied):
            tenant_of(stranger)
    monkeypatch.setattr(grpc_api, "SERVICES_SCORING_FOR_EVERY_CREDITOR", {"matching"})
    assert tenant_of(Caller("service", "matching")) is None
