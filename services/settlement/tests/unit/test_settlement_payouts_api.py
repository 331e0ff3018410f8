"""The PayoutOperations servicer: operators only, each operator named by the verified token."""

from __future__ import annotations

from datetime import date

import pytest

from recouvra.settlement.v1 import settlement_pb2 as pb
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from services.settlement.tests.unit.payout_builders import BANK_SIDE, money_in
from settlement.domain.payee_accounts import FourEyesRefused
from settlement.entrypoints.payouts_api import PayoutOperationsApi
from settlement.service_layer.payouts import PayoutPolicy


@pytest.fixture
def api() -> PayoutOperationsApi:
    tables = Tables()
    return PayoutOperationsApi(
        lambda: FakeSettlementUnitOfWork(tables), PayoutPolicy(), BANK_SIDE, 21
    )


def as_caller(kind: str, subject: str) -> None:
    """Stand for the platform's interceptor: the caller a verified token named (each async test
    runs in a context of its own, so this does not leak into another test)."""
    caller_var.set(Caller(kind=kind, subject=subject))


CREDITOR_1 = pb.PayeeRef(party_kind="creditor", party_id="cred-1")


async def test_only_operators_move_money_out(api: PayoutOperationsApi) -> None:
    for kind in ("creditor", "provider", "service"):
        as_caller(kind, "someone")
        with pytest.raises(PermissionDenied, match="only an operator"):
            await api.ProposePayoutBatch(
                pb.ProposePayoutBatchRequest(value_date="2030-01-10"),
                None,  # type: ignore[arg-type]
            )


async def test_two_operators_named_by_their_tokens_set_approve_and_release(
    api: PayoutOperationsApi,
) -> None:
    await money_in(api.units, "L1", "cred-1", 50_000, date(2026, 12, 1))
    as_caller("operator", "alice@recouvra")
    request = pb.SetPayeeAccountRequest(
        party=CREDITOR_1, holder="Acme SARL", iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX"
    )
    entered = await api.SetPayeeAccount(request, None)  # type: ignore[arg-type]
    assert (entered.entered_by, entered.confirmed_by) == ("alice@recouvra", "")
    with pytest.raises(FourEyesRefused):
        await api.ConfirmPayeeAccount(CREDITOR_1, None)  # type: ignore[arg-type]
    proposal = await api.ProposePayoutBatch(
        pb.ProposePayoutBatchRequest(value_date="2030-01-10"),
        None,  # type: ignore[arg-type]
    )
    assert [s.reason for s in proposal.skipped] == [
        "on hold: no bank details confirmed by a second operator"
    ]
    await api.CancelPayoutBatch(pb.PayoutBatchRef(batch_id=proposal.batch.batch_id), None)  # type: ignore[arg-type]

    as_caller("operator", "bob@recouvra")
    confirmed = await api.ConfirmPayeeAccount(CREDITOR_1, None)  # type: ignore[arg-type]
    assert confirmed.confirmed_by == "bob@recouvra"
    proposal = await api.ProposePayoutBatch(
        pb.ProposePayoutBatchRequest(value_date="2030-01-10"),
        None,  # type: ignore[arg-type]
    )
    ref = pb.PayoutBatchRef(batch_id=proposal.batch.batch_id)
    assert proposal.batch.lines[0].amount.minor_units == 50_000
    await api.ApprovePayoutBatch(ref, None)  # type: ignore[arg-type]
    with pytest.raises(FourEyesRefused):
        await api.ApprovePayoutBatch(ref, None)  # type: ignore[arg-type]
    as_caller("operator", "alice@recouvra")
    approved = await api.ApprovePayoutBatch(ref, None)  # type: ignore[arg-type]
    assert list(approved.approved_by) == ["bob@recouvra", "alice@recouvra"]
    released = await api.ReleasePayoutBatch(ref, None)  # type: ignore[arg-type]
    assert (released.state, released.released_by) == ("released", "alice@recouvra")
    file = await api.GetPayoutFile(pb.GetPayoutFileRequest(batch_id=ref.batch_id), None)  # type: ignore[arg-type]
    assert b"<IBAN>DE89370400440532013000</IBAN>" in file.content
    held = await api.ListHeldFunds(pb.ListHeldFundsRequest(on="2030-01-10"), None)  # type: ignore[arg-type]
    assert [(h.creditor_id, h.held.minor_units, h.late) for h in held.creditors] == [
        ("cred-1", 0, False)
    ]
