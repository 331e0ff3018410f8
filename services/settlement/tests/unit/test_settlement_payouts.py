"""Payout batches on the fakes: what is paid, when, to whom, approved by whom, and never twice."""

from __future__ import annotations

from datetime import date

import pytest
import xmlschema

from recouvra_shared.errors import Conflict
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from services.settlement.tests.unit.payout_builders import (
    BANK_SIDE,
    Units,
    clock,
    commission,
    fee_owed,
    fee_taken,
    money_in,
    payee,
)
from settlement.domain.accounts import PartyKind
from settlement.domain.payee_accounts import FourEyesRefused
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    CancelPayoutBatch,
    ProposePayoutBatch,
    ReleasePayoutBatch,
)
from settlement.domain.payouts import (
    BankDetailsChanged,
    BatchState,
    LineKind,
    NotApproved,
    hold_cutoff,
)
from settlement.service_layer.payouts import (
    PayoutPolicy,
    Proposal,
    approve_batch,
    batch_file,
    cancel_batch,
    propose_batch,
    release_batch,
)
from settlement.service_layer.reads import account_balance

THURSDAY = date(2026, 12, 10)
POLICY = PayoutPolicy(hold_business_days=3, minimum=100)
PAIN_001_XSD = "sepaxml/schemas/pain.001.001.09.xsd"


@pytest.fixture
def units() -> Units:
    tables = Tables()
    return lambda: FakeSettlementUnitOfWork(tables)


async def propose(units: Units, on: date = THURSDAY, by: str = "alice") -> Proposal:
    return await propose_batch(ProposePayoutBatch(by, on), units(), POLICY, clock(on))


async def approve_and_release(units: Units, batch_id: str) -> None:
    await approve_batch(ApprovePayoutBatch("alice", batch_id), units())
    await approve_batch(ApprovePayoutBatch("bob", batch_id), units())
    await release_batch(ReleasePayoutBatch("carol", batch_id), units, BANK_SIDE)


async def balance(units: Units, code: str) -> int:
    return (await account_balance(units(), code, date(2027, 1, 1))).amount


def schema() -> xmlschema.XMLSchema:
    import sepaxml

    return xmlschema.XMLSchema(f"{sepaxml.__path__[0]}/../{PAIN_001_XSD}")


def test_the_hold_counts_business_days_back_from_the_payout_date() -> None:
    assert hold_cutoff(THURSDAY, 3) == date(2026, 12, 7)  # Monday
    assert hold_cutoff(date(2026, 12, 8), 3) == date(2026, 12, 3)  # Tuesday: over the weekend
    assert hold_cutoff(THURSDAY, 0) == THURSDAY


async def test_only_money_received_before_the_hold_is_paid_and_the_rest_waits(units: Units) -> None:
    await payee(units, "creditor", "cred-1")
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 7))  # on the cut-off: paid
    await money_in(units, "L2", "cred-1", 40_000, date(2026, 12, 8))  # inside the hold: waits
    proposal = await propose(units)
    [line] = proposal.batch.lines
    assert (line.kind, line.amount, line.iban) == (
        LineKind.TRANSFER,
        100_000,
        "DE89370400440532013000",
    )
    await approve_and_release(units, proposal.batch.batch_id)
    assert await balance(units, "4671/cred-1") == 40_000
    assert await balance(units, "5121") == 40_000

    later = await propose(units, date(2026, 12, 14))
    assert [(x.party_id, x.amount) for x in later.batch.lines] == [("cred-1", 40_000)]


async def test_fees_a_creditor_owes_are_offset_against_its_payout(units: Units) -> None:
    await payee(units, "creditor", "cred-1")
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    await fee_taken(units, "F1", "cred-1", "prov-1", 12_000, date(2026, 12, 9))  # inside the hold
    await fee_owed(units, "F2", "cred-1", "prov-1", 5_000, date(2026, 12, 2))
    proposal = await propose(units)
    [line] = [x for x in proposal.batch.lines if x.party_kind is PartyKind.CREDITOR]
    # 1,000.00 received, 120.00 fee already taken from it, 50.00 owed on a direct payment.
    assert (line.gross, line.offset, line.amount) == (88_000, 5_000, 83_000)
    await approve_and_release(units, proposal.batch.batch_id)
    assert await balance(units, "4671/cred-1") == 0
    assert await balance(units, "4111/cred-1") == 0
    assert await balance(units, "5121") == 100_000 - 83_000


async def test_a_creditor_owing_more_than_it_is_owed_is_debited_under_its_mandate(
    units: Units,
) -> None:
    await payee(units, "creditor", "cred-1", mandate=("MANDATE-1", date(2026, 11, 2)))
    await payee(units, "creditor", "cred-2")
    await money_in(units, "L1", "cred-1", 3_000, date(2026, 12, 1))
    await fee_owed(units, "F1", "cred-1", "prov-1", 10_000, date(2026, 12, 2))
    await fee_owed(units, "F2", "cred-2", "prov-1", 2_500, date(2026, 12, 2))
    proposal = await propose(units)
    lines = {x.party_id: x for x in proposal.batch.lines if x.party_kind is PartyKind.CREDITOR}
    assert (lines["cred-1"].kind, lines["cred-1"].offset, lines["cred-1"].amount) == (
        LineKind.DIRECT_DEBIT, 3_000, 7_000,
    )  # fmt: skip
    assert (lines["cred-2"].kind, lines["cred-2"].amount) == (LineKind.RECEIVABLE, 2_500)
    await approve_and_release(units, proposal.batch.batch_id)
    assert await balance(units, "4111/cred-1") == 7_000  # collected when the bank says so
    debits = await batch_file(proposal.batch.batch_id, "pain.008", units())
    assert b"MANDATE-1" in debits
    assert b'<InstdAmt Ccy="EUR">70.00</InstdAmt>' in debits
    assert b"cred-2" not in debits


async def test_money_inside_the_hold_is_offset_later_rather_than_debited_now(
    units: Units,
) -> None:
    await payee(units, "creditor", "cred-1", mandate=("MANDATE-1", date(2026, 11, 2)))
    await money_in(units, "L1", "cred-1", 3_000, date(2026, 12, 1))
    await money_in(units, "L2", "cred-1", 5_000, date(2026, 12, 9))  # inside the hold
    await fee_owed(units, "F1", "cred-1", "prov-1", 10_000, date(2026, 12, 2))
    [line] = [x for x in (await propose(units)).batch.lines if x.party_kind is PartyKind.CREDITOR]
    # 30.00 offset now, 50.00 offset once its hold ends: only 20.00 is collected.
    assert (line.kind, line.offset, line.amount) == (LineKind.DIRECT_DEBIT, 3_000, 2_000)


async def test_providers_and_partners_are_paid_what_they_are_owed(units: Units) -> None:
    await payee(units, "provider", "prov-1")
    await payee(units, "partner", "part-1")
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    await fee_taken(units, "F1", "cred-1", "prov-1", 18_000, date(2026, 12, 1))
    await commission(units, "C1", "prov-1", "part-1", 3_600, 720, date(2026, 12, 1))
    proposal = await propose(units)
    paid = {(x.party_kind, x.party_id): x.amount for x in proposal.batch.lines}
    assert paid == {(PartyKind.PROVIDER, "prov-1"): 14_400, (PartyKind.PARTNER, "part-1"): 720}
    assert [s.party_id for s in proposal.skipped] == ["cred-1"]  # no bank details yet


async def test_new_bank_details_hold_a_party_until_another_operator_confirms(units: Units) -> None:
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    await payee(units, "creditor", "cred-1", confirm=False)
    held = await propose(units)
    assert held.batch.lines == ()
    assert "confirmed by a second operator" in held.skipped[0].reason
    await cancel_batch(CancelPayoutBatch("alice", held.batch.batch_id), units())

    from settlement.domain.payout_commands import ConfirmPayeeAccount
    from settlement.service_layer.payee_accounts import confirm_payee_account

    with pytest.raises(FourEyesRefused, match="different operator must confirm"):
        await confirm_payee_account(ConfirmPayeeAccount("alice", "creditor", "cred-1"), units())
    await confirm_payee_account(ConfirmPayeeAccount("bob", "creditor", "cred-1"), units())
    proposal = await propose(units)
    assert [x.amount for x in proposal.batch.lines] == [100_000]

    # A change of IBAN after the proposal: the batch cannot pay the old or the new one.
    await payee(units, "creditor", "cred-1", iban="NL91ABNA0417164300")
    await approve_batch(ApprovePayoutBatch("alice", proposal.batch.batch_id), units())
    await approve_batch(ApprovePayoutBatch("bob", proposal.batch.batch_id), units())
    with pytest.raises(BankDetailsChanged, match="cred-1"):
        await release_batch(ReleasePayoutBatch("bob", proposal.batch.batch_id), units, BANK_SIDE)
    assert await balance(units, "4671/cred-1") == 100_000


async def test_two_different_operators_approve_before_release(units: Units) -> None:
    await payee(units, "creditor", "cred-1")
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    batch_id = (await propose(units, by="alice")).batch.batch_id
    first = await approve_batch(ApprovePayoutBatch("alice", batch_id), units())  # the proposer
    assert first.state is BatchState.PROPOSED
    with pytest.raises(FourEyesRefused, match="four-eyes rule: 2 different operators"):
        await approve_batch(ApprovePayoutBatch("alice", batch_id), units())
    with pytest.raises(NotApproved, match="2 different operators must approve"):
        await release_batch(ReleasePayoutBatch("alice", batch_id), units, BANK_SIDE)
    assert await balance(units, "4671/cred-1") == 100_000
    second = await approve_batch(ApprovePayoutBatch("bob", batch_id), units())
    assert second.state is BatchState.APPROVED
    assert second.approvals == ("alice", "bob")
    released = await release_batch(ReleasePayoutBatch("alice", batch_id), units, BANK_SIDE)
    assert released.state is BatchState.RELEASED


async def test_nothing_is_paid_twice(units: Units) -> None:
    await payee(units, "creditor", "cred-1")
    await money_in(units, "L1", "cred-1", 100_000, date(2026, 12, 1))
    first = await propose(units)
    # the refusal names the open batch: an operator whose first answer was lost finds it
    with pytest.raises(Conflict, match=f"another batch is open \\({first.batch.batch_id}\\)"):
        await propose(units, by="bob")
    await approve_and_release(units, first.batch.batch_id)
    again = await release_batch(ReleasePayoutBatch("bob", first.batch.batch_id), units, BANK_SIDE)
    assert again.state is BatchState.RELEASED
    assert await balance(units, "5121") == 0  # one transfer booked, not two
    second = await propose(units)
    assert second.batch.lines == ()
    assert second.skipped == []


async def test_amounts_under_the_minimum_stay_for_a_later_batch(units: Units) -> None:
    await payee(units, "creditor", "cred-1")
    await money_in(units, "L1", "cred-1", 99, date(2026, 12, 1))
    small = await propose(units)
    assert small.batch.lines == ()
    assert small.skipped[0].reason == "under minimum"
    await cancel_batch(CancelPayoutBatch("alice", small.batch.batch_id), units())
    await money_in(units, "L2", "cred-1", 1, date(2026, 12, 2))
    assert [x.amount for x in (await propose(units)).batch.lines] == [100]


async def test_the_released_pain001_is_valid_and_pays_each_payee_from_the_client_money_account(
    units: Units,
) -> None:
    await payee(units, "creditor", "cred-1")
    await payee(units, "provider", "prov-1")
    await money_in(units, "L1", "cred-1", 123_456, date(2026, 12, 1))
    await fee_taken(units, "F1", "cred-1", "prov-1", 10_000, date(2026, 12, 1))
    proposal = await propose(units)
    with pytest.raises(Exception, match="built at release"):
        await batch_file(proposal.batch.batch_id, "pain.001", units())
    await approve_and_release(units, proposal.batch.batch_id)
    content = await batch_file(proposal.batch.batch_id, "pain.001", units())
    document = schema().to_dict(content.decode())  # raises when the file breaks the XSD
    initiation = document["CstmrCdtTrfInitn"]
    assert initiation["GrpHdr"]["NbOfTxs"] == "2"
    assert str(initiation["GrpHdr"]["CtrlSum"]) == "1234.56"
    payment = initiation["PmtInf"][0]
    assert payment["DbtrAcct"]["Id"]["IBAN"] == "FR7630006000011234567890189"
    paid = {
        t["CdtrAcct"]["Id"]["IBAN"]: str(t["Amt"]["InstdAmt"]["$"]) for t in payment["CdtTrfTxInf"]
    }
    assert paid == {"DE89370400440532013000": "1134.56", "NL91ABNA0417164300": "100.00"}
    assert await batch_file(proposal.batch.batch_id, "pain.001", units()) == content


async def test_without_a_sepa_creditor_id_fees_owed_are_listed_not_debited(units: Units) -> None:
    await payee(units, "creditor", "cred-1", mandate=("MANDATE-1", date(2026, 11, 2)))
    await fee_owed(units, "F1", "cred-1", "prov-1", 10_000, date(2026, 12, 2))
    policy = PayoutPolicy(direct_debits=False)
    proposal = await propose_batch(
        ProposePayoutBatch("alice", THURSDAY), units(), policy, clock(THURSDAY)
    )
    [line] = [x for x in proposal.batch.lines if x.party_kind is PartyKind.CREDITOR]
    assert (line.kind, line.amount) == (LineKind.RECEIVABLE, 10_000)
