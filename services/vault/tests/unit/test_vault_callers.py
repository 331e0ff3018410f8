"""Who may use the vault's gRPC API: people the gateway names, and no service unless listed."""

from __future__ import annotations

import pytest

from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied
from vault.domain.model import Actor
from vault.entrypoints import grpc_api


def actor_of(caller: Caller) -> Actor | None:
    token = caller_var.set(caller)
    try:
        return grpc_api._actor()
    finally:
        caller_var.reset(token)


def test_a_service_may_not_read_or_shred_unless_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PermissionDenied, match="the service scoring may not use the vault"):
        actor_of(Caller(kind="service", subject="scoring"))
    monkeypatch.setattr(grpc_api, "SERVICES_WITH_EVERY_DOCUMENT", {"scoring"})
    assert actor_of(Caller(kind="service", subject="scoring")) == Actor("service", "scoring", "")


def test_messaging_may_store_the_letters_it_sends() -> None:
    assert actor_of(Caller(kind="service", subject="messaging")) == Actor(
        "service", "messaging", ""
    )


def test_a_person_is_the_actor_the_token_names() -> None:
    assert actor_of(Caller("creditor", "u-1", "creditor-1")) == Actor(
        "creditor", "u-1", "creditor-1"
    )
