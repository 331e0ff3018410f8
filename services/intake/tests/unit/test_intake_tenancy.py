"""Who may touch which creditor's cases, and how a gRPC caller becomes a requester."""

from __future__ import annotations

import pytest

from intake.domain.commands import Requester
from intake.domain.errors import InvalidField
from intake.domain.tenancy import NOBODY, acting_creditor, creditor_scope
from intake.entrypoints import grpc_commands
from intake.entrypoints.grpc_commands import requester
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import NotFound, Unauthenticated

A = "creditor-a"


def test_a_creditor_acts_for_itself_only() -> None:
    me = Requester("creditor", A)
    assert creditor_scope(me, "") == A
    assert creditor_scope(me, f" {A} ") == A
    with pytest.raises(NotFound):
        creditor_scope(me, "creditor-b")


def test_a_partner_names_the_creditor_it_acts_for() -> None:
    partner = Requester("partner", "billing-soft")
    assert creditor_scope(partner, A) == A
    with pytest.raises(InvalidField):
        creditor_scope(partner, "")


def test_a_service_sees_any_creditor_and_anyone_else_none() -> None:
    assert creditor_scope(Requester(), "") is None
    assert creditor_scope(Requester(), A) == A
    assert creditor_scope(Requester("provider", "p-1"), A) == NOBODY
    assert creditor_scope(Requester("creditor", ""), A) == NOBODY


def test_a_new_case_needs_one_creditor() -> None:
    assert acting_creditor(Requester(), "", required=False) == ""
    with pytest.raises(InvalidField):
        acting_creditor(Requester(), "", required=True)
    with pytest.raises(NotFound):
        acting_creditor(Requester("debtor"), A, required=True)


def test_the_caller_of_a_call_is_its_requester() -> None:
    token = caller_var.set(Caller(kind="creditor", subject="u-1", tenant_id=A))
    try:
        assert requester() == Requester("creditor", A)
    finally:
        caller_var.reset(token)


def test_no_caller_is_refused_and_no_service_acts_for_every_creditor_unless_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(Unauthenticated):
        requester()
    token = caller_var.set(Caller(kind="service", subject="matching"))
    try:
        stranger = requester()
        assert creditor_scope(stranger, A) == NOBODY
        with pytest.raises(NotFound):
            acting_creditor(stranger, A, required=True)
        monkeypatch.setattr(grpc_commands, "SERVICES_ACTING_FOR_EVERY_CREDITOR", {"matching"})
        assert creditor_scope(requester(), A) == A
    finally:
        caller_var.reset(token)


@pytest.mark.parametrize("service", ["messaging", "settlement"])
def test_messaging_and_settlement_may_read_any_case_but_change_none(service: str) -> None:
    token = caller_var.set(Caller(kind="service", subject=service))
    try:
        read = grpc_commands.get_query(intake_pb2.GetCaseRequest(case_id="c-1"))
        assert creditor_scope(read.requester, "") is None  # any creditor's case
        withdraw = grpc_commands.withdraw_command(
            intake_pb2.WithdrawCaseRequest(case_id="c-1", creditor_id=A)
        )
        assert creditor_scope(withdraw.requester, A) == NOBODY
    finally:
        caller_var.reset(token)
