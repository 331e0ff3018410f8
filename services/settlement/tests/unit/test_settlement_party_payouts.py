"""Payouts as the party they paid reads them: its own released lines only, newest first."""

from __future__ import annotations

from datetime import date

import pytest

from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from services.settlement.tests.unit.payout_builders import (
    BANK_SIDE,
    Units,
    clock,
    fee_taken,
    money_in,
    payee,
)
from services.settlement.tests.unit.test_settlement_payment_instructions import ACCOUNT
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    ProposePayoutBatch,
    ReleasePayoutBatch,
)
from settlement.entrypoints.grpc_api import SettlementApi
from settlement.service_layer.payouts import (
    PayoutPolicy,
    approve_batch,
    propose_batch,
    release_batch,
)

THURSDAY = date(2026, 12, 10)
POLICY = PayoutPolicy(hold_business_days=3, minimum=100)


@pytest.fixture
def units() -> Units:
    tables = Tables()
    return lambda: FakeSettlementUnitOfWork(tables)


async def listed(units: Units, kind: str, tenant: str | None) -> list[settlement_pb2.PartyPayout]:
    """ListPayouts called as a signed caller of this kind and organisation."""
    token = caller_var.set(Caller(kind=kind, subject="someone", tenant_id=tenant))
    try:
        reply = await SettlementApi(units, ACCOUNT).ListPayouts(
            settlement_pb2.ListPayoutsRequest(),
            None,  # type: ignore[arg-type]
        )
    finally:
        caller_var.reset(token)
    return list(reply.payouts)


async def released_batch(units: Units) -> str:
    """cred-1 and cred-2 received money, prov-1 earned a fee on cred-1's: all three are paid."""
    for kind, party in (("creditor", "cred-1"), ("creditor", "cred-2"), ("provider", "prov-1")):
        await payee(units, kind, party)
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    await money_in(units, "L2", "cred-2", 40_000, date(2026, 12, 1))
    await fee_taken(units, "F1", "cred-1", "prov-1", 18_000, date(2026, 12, 1))
    proposal = await propose_batch(
        ProposePayoutBatch("alice", THURSDAY), units(), POLICY, clock(THURSDAY)
    )
    batch_id = proposal.batch.batch_id
    await approve_batch(ApprovePayoutBatch("alice", batch_id), units())
    await approve_batch(ApprovePayoutBatch("bob", batch_id), units())
    await release_batch(ReleasePayoutBatch("carol", batch_id), units, BANK_SIDE)
    return batch_id


async def test_each_party_lists_only_what_was_paid_to_it(units: Units) -> None:
    batch_id = await released_batch(units)
    mine = await listed(units, "creditor", "cred-1")
    assert [(p.batch_id, p.kind, p.amount.minor_units) for p in mine] == [
        (batch_id, "transfer", 100_000 - 18_000)  # what it holds once the fee is taken
    ]
    assert (mine[0].value_date, mine[0].amount.currency) == ("2026-12-10", "EUR")
    assert mine[0].iban_last4 == "3000"  # DE89 3704 0044 0532 0130 00: only the end shown
    fees = await listed(units, "provider", "prov-1")
    assert [p.amount.minor_units for p in fees] == [18_000]
    assert [p.amount.minor_units for p in await listed(units, "creditor", "cred-2")] == [40_000]
    assert await listed(units, "creditor", "cred-3") == []


async def test_a_batch_not_released_yet_is_not_listed(units: Units) -> None:
    await payee(units, "creditor", "cred-1")
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    await propose_batch(ProposePayoutBatch("alice", THURSDAY), units(), POLICY, clock(THURSDAY))
    assert await listed(units, "creditor", "cred-1") == []


@pytest.mark.parametrize(("kind", "tenant"), [("operator", None), ("debtor", "case-1")])
async def test_operators_and_debtors_are_refused(units: Units, kind, tenant) -> None:
    with pytest.raises(PermissionDenied):
        await listed(units, kind, tenant)
