"""Payouts on the real PostgreSQL: a batch proposed from booked receipts and fees, approved by two
operators, released as a pain.001 that the ISO 20022 schema accepts; what the database refuses
whatever client writes; the operator commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import asyncpg
import pytest
import sepaxml
import xmlschema

from recouvra_shared.errors import Conflict
from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.payout_builders import (
    BANK_SIDE,
    clock,
    commission,
    fee_owed,
    fee_taken,
    money_in,
    payee,
)
from settlement.domain.payee_accounts import FourEyesRefused
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    ConfirmPayeeAccount,
    ProposePayoutBatch,
    ReleasePayoutBatch,
)
from settlement.domain.payouts import BatchState
from settlement.service_layer.payee_accounts import confirm_payee_account
from settlement.service_layer.payouts import (
    PayoutPolicy,
    approve_batch,
    batch_file,
    propose_batch,
    release_batch,
)
from settlement.service_layer.reads import account_balance, check_ledger

pytestmark = pytest.mark.integration

THURSDAY = date(2026, 12, 10)
# The schema sepaxml ships, read here by xmlschema on its own: the test's second opinion.
PAIN_001_09 = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"


async def books(ledger: Ledger) -> None:
    """Two creditors paid by their debtors, a provider's fee, the platform's commission and a
    partner's share, a fee a creditor owes on a direct payment; every payee confirmed."""
    units = ledger.units
    for kind, party in (("creditor", "cred-1"), ("creditor", "cred-2"), ("provider", "prov-1"),
                        ("partner", "part-1")):  # fmt: skip
        await payee(units, kind, party)
    await money_in(units, "L1", "cred-1", 250_000, date(2026, 12, 1))
    await money_in(units, "L2", "cred-2", 80_000, date(2026, 12, 2))
    await money_in(units, "L3", "cred-1", 9_999, date(2026, 12, 9))  # inside the hold
    await fee_taken(units, "F1", "cred-1", "prov-1", 30_000, date(2026, 12, 2))
    await commission(units, "C1", "prov-1", "part-1", 6_000, 1_200, date(2026, 12, 2))
    await fee_owed(units, "F2", "cred-2", "prov-1", 4_000, date(2026, 12, 3))


async def test_an_approved_batch_releases_a_schema_valid_pain001_and_books_each_line_once(
    ledger: Ledger,
) -> None:
    await books(ledger)
    policy = PayoutPolicy(hold_business_days=3, minimum=100)
    proposal = await propose_batch(
        ProposePayoutBatch("alice", THURSDAY), ledger.units(), policy, clock(THURSDAY)
    )
    batch_id = proposal.batch.batch_id
    paid = {x.party_id: x.amount for x in proposal.batch.lines}
    # cred-1: 2,500.00 - 300.00 fee; cred-2: 800.00 - 40.00 owed; prov-1: 300.00 + 40.00 - 60.00.
    assert paid == {"cred-1": 220_000, "cred-2": 76_000, "prov-1": 28_000, "part-1": 1_200}

    await approve_batch(ApprovePayoutBatch("alice", batch_id), ledger.units())
    with pytest.raises(FourEyesRefused):
        await approve_batch(ApprovePayoutBatch("alice", batch_id), ledger.units())
    await approve_batch(ApprovePayoutBatch("bob", batch_id), ledger.units())
    released = await release_batch(ReleasePayoutBatch("carol", batch_id), ledger.units, BANK_SIDE)
    assert released.state is BatchState.RELEASED
    assert released.approvals == ("alice", "bob")

    content = await batch_file(batch_id, "pain.001", ledger.units())
    schema = xmlschema.XMLSchema(str(PAIN_001_09))
    assert schema.is_valid(content.decode()), list(schema.iter_errors(content.decode()))
    document = schema.to_dict(content.decode())["CstmrCdtTrfInitn"]
    assert str(document["GrpHdr"]["CtrlSum"]) == "3252.00"
    assert document["PmtInf"][0]["DbtrAcct"]["Id"]["IBAN"] == BANK_SIDE.account.iban

    # Released again: nothing more booked. Every account paid is empty but the hold's money.
    await release_batch(ReleasePayoutBatch("carol", batch_id), ledger.units, BANK_SIDE)
    end = date(2026, 12, 31)
    held = {code: (await account_balance(ledger.units(), code, end)).amount
            for code in ("4671/cred-1", "4671/cred-2", "4111/cred-2", "4011/prov-1",
                         "4012/part-1", "5121")}  # fmt: skip
    assert held == {
        "4671/cred-1": 9_999, "4671/cred-2": 0, "4111/cred-2": 0, "4011/prov-1": 0,
        "4012/part-1": 0, "5121": 339_999 - 325_200,
    }  # fmt: skip
    assert (await check_ledger(ledger.units())).breaches == []
    # What was approved and sent stays as it was, whatever client writes.
    for tampering in (
        f"UPDATE payout_lines SET iban = 'NL91ABNA0417164300' WHERE batch_id = '{batch_id}'",
        f"DELETE FROM payout_approvals WHERE batch_id = '{batch_id}'",
        f"UPDATE payout_files SET content = 'x' WHERE batch_id = '{batch_id}'",
    ):
        with pytest.raises(asyncpg.RestrictViolationError, match="kept as written"):
            await ledger.admin(tampering)
    later = await propose_batch(
        ProposePayoutBatch("bob", date(2026, 12, 16)), ledger.units(), policy, clock(THURSDAY)
    )
    assert [(x.party_id, x.amount) for x in later.batch.lines] == [("cred-1", 9_999)]


async def test_the_database_keeps_one_open_batch_and_four_eyes_on_bank_details(
    ledger: Ledger,
) -> None:
    await payee(ledger.units, "creditor", "cred-1", confirm=False)
    with pytest.raises(FourEyesRefused):
        await confirm_payee_account(
            ConfirmPayeeAccount("alice", "creditor", "cred-1"), ledger.units()
        )
    policy = PayoutPolicy()
    first = await propose_batch(
        ProposePayoutBatch("alice", THURSDAY), ledger.units(), policy, clock(THURSDAY)
    )
    with pytest.raises(Conflict, match=f"another batch is open \\({first.batch.batch_id}\\)"):
        await propose_batch(
            ProposePayoutBatch("bob", THURSDAY), ledger.units(), policy, clock(THURSDAY)
        )
    # Whatever client writes: the one who entered bank details cannot confirm them, and an
    # approval once given stays.
    with pytest.raises(asyncpg.CheckViolationError, match="payee_four_eyes"):
        await ledger.admin(
            "UPDATE payee_accounts SET confirmed_by = 'alice', confirmed_at = now() "
            "WHERE party_id = 'cred-1'"
        )
    with pytest.raises(asyncpg.RestrictViolationError, match="confirmed once"):
        await ledger.admin("UPDATE payee_accounts SET iban = 'NL91ABNA0417164300'")
    with pytest.raises(asyncpg.RestrictViolationError, match="kept as written"):
        await ledger.admin("DELETE FROM payee_accounts")


async def test_operators_command_line_shows_late_funds_and_receipts(ledger: Ledger) -> None:
    await money_in(ledger.units, "L1", "cred-1", 10_000, date(2026, 11, 1))
    await money_in(ledger.units, "L2", "cred-2", 5_000, date(2026, 11, 30))
    late = ledger.command("held-funds", "--on", "2026-12-01")
    assert late.returncode == 1, late.stdout + late.stderr
    assert "LATE creditor cred-1: 100.00 held, oldest unpaid receipt 2026-11-01, 30 days" in (
        late.stdout
    )
    assert "ok   creditor cred-2" in late.stdout
    receipts = ledger.command("receipts", "cred-1")
    assert receipts.returncode == 0, receipts.stderr
    assert receipts.stdout.splitlines()[1:] == ["1,2026-11-01,cred-1,case-1,100.00,bank-line:L1"]
    refused = ledger.command("payouts", "approve", "00000000-0000-0000-0000-000000000000",
                             "--operator", "alice")  # fmt: skip
    assert refused.returncode == 2
    assert "refused: batch: no payout batch" in refused.stdout


async def test_operators_run_a_payout_from_the_command_line(ledger: Ledger, tmp_path: Path) -> None:
    await payee(ledger.units, "creditor", "cred-1")
    await money_in(ledger.units, "L1", "cred-1", 42_000, date(2026, 11, 2))
    proposed = ledger.command("payouts", "propose", "--date", "2030-01-10", "--operator", "alice")
    assert proposed.returncode == 0, proposed.stdout + proposed.stderr
    batch_id = proposed.stdout.split()[1]
    assert "transfer     creditor cred-1" in proposed.stdout
    assert ledger.command("payouts", "approve", batch_id, "--operator", "alice").returncode == 0
    twice = ledger.command("payouts", "approve", batch_id, "--operator", "alice")
    assert twice.returncode == 2
    assert "four-eyes rule" in twice.stdout
    early = ledger.command("payouts", "release", batch_id, "--operator", "alice")
    assert early.returncode == 2
    assert "2 different operators must approve" in early.stdout
    assert ledger.command("payouts", "approve", batch_id, "--operator", "bob").returncode == 0
    released = ledger.command("payouts", "release", batch_id, "--operator", "carol")
    assert released.returncode == 0, released.stdout + released.stderr
    assert f"batch {batch_id} for 2030-01-10: released" in released.stdout
    target = tmp_path / "payout.xml"
    written = ledger.command("payouts", "file", batch_id, "--output", str(target))
    assert written.returncode == 0, written.stdout + written.stderr
    schema = xmlschema.XMLSchema(str(PAIN_001_09))
    schema.validate(target.read_text(encoding="utf-8"))
    assert '<InstdAmt Ccy="EUR">420.00</InstdAmt>' in target.read_text(encoding="utf-8")
