"""What every typed client does with a backend's status: a refusal comes back as the platform's
refusal, its fields named as the gateway's request names them and "not found" worded one way;
a failure stays a gRPC error."""

from __future__ import annotations

import grpc
import pytest

from gateway.adapters.calls import relayed
from recouvra_shared.errors import Conflict, InvalidRequest, NotFound, StateConflict, Violation
from services.gateway.tests.unit.gateway_fakes import rpc_error, status_for


def test_a_refusal_keeps_its_kind_and_takes_the_gateways_field_names() -> None:
    sent = Conflict(
        "invoices: already submitted",
        [
            Violation("fixed_fee.minor_units", "must be less than the amount owed"),
            Violation("x", "y"),
        ],
    )
    refusal = relayed(status_for(sent), fields={"fixed_fee.minor_units": "fixed_fee.amount"})
    assert type(refusal) is Conflict
    assert refusal.message == "invoices: already submitted"
    assert refusal.violations == (
        Violation("fixed_fee.amount", "must be less than the amount owed"),
        Violation("x", "y"),
    )


def test_not_found_is_worded_one_way_whatever_the_backend_said() -> None:
    for words in ("case: not yours", "case: no such case"):
        refusal = relayed(status_for(NotFound(words)), not_found="case: no such case held by you")
        assert isinstance(refusal, NotFound)
        assert refusal.message == "case: no such case held by you"
    kept = relayed(status_for(NotFound("case_id: no such case")))
    assert kept is not None
    assert kept.message == "case_id: no such case"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (status_for(StateConflict("auction: bidding is closed")), StateConflict),
        (
            status_for(InvalidRequest([Violation("fee_percent", "at most two decimal places")])),
            InvalidRequest,
        ),
        (rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "bare"), InvalidRequest),
    ],
)
def test_every_refusal_comes_back_as_its_kind(error: grpc.aio.AioRpcError, kind: type) -> None:
    assert type(relayed(error)) is kind


def test_a_failure_is_not_a_refusal() -> None:
    for code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNIMPLEMENTED):
        assert relayed(rpc_error(code, "boom")) is None
