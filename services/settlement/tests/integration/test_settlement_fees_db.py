"""Fees on the real PostgreSQL: profiles set by the operator command and audited for good, a
payment's fee booked once and reversed, the books still sound for `check` and bean-check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.integration.test_settlement_ledger_commands import bean_check
from services.settlement.tests.unit.test_settlement_fees_worked_example import (
    RATES,
    ROUND_1_PAID,
    attributed,
    receipt,
)
from settlement.domain.fee_commands import BookFees, ReverseFees
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.fees import Source
from settlement.service_layer.fees import book_fees, reverse_fees
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.reads import trial_balance

pytestmark = pytest.mark.integration


async def book(ledger: Ledger, command: BookFees) -> FeeBooking:
    async with ledger.units() as uow:
        booking = await book_fees(command, uow, RATES)
        await uow.commit()
    return booking


async def test_operators_set_profiles_by_command_and_every_change_is_kept(ledger: Ledger) -> None:
    refused = ledger.command(
        "billing", "provider", "prov-A", "--vat", "liable", "--operator", "ops-anne",
        "--reason", "onboarding",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "vat_number: required for a provider liable to VAT" in refused.stdout
    for args in (
        ("provider", "prov-A", "--vat", "liable", "--vat-number", "FR40303265045"),
        ("provider", "prov-A", "--vat", "franchise"),
        ("creditor", "cred-7", "--partner", "part-3"),
    ):
        done = ledger.command("billing", *args, "--operator", "ops-anne", "--reason", "contract")
        assert done.returncode == 0, done.stdout + done.stderr
    history = ledger.command("billing", "history", "prov-A")
    lines = history.stdout.splitlines()
    assert len(lines) == 2
    assert "unset (liable) -> liable FR40303265045 (contract)" in lines[0]
    assert "by ops-anne: liable FR40303265045 -> franchise" in lines[1]
    with pytest.raises(Exception, match="append-only"):
        await ledger.admin("UPDATE billing_changes SET operator = 'someone-else'")
    with pytest.raises(Exception, match="append-only"):
        await ledger.admin("DELETE FROM billing_changes")


async def test_a_fee_is_booked_once_reversed_once_and_the_books_stay_sound(
    ledger: Ledger, tmp_path: Path
) -> None:
    await post_entry(receipt("L1", 300_000, ROUND_1_PAID), ledger.units())
    command = attributed(1, 300_000, ROUND_1_PAID, Source.BANK, "prov-A", 1, 1200, 1_000)
    first = await book(ledger, command)
    again = await book(ledger, command)
    assert again == first
    assert [part for part, _ in first.entries] == ["fee", "commission"]
    # 12 % of 3,000.00 + 10.00 fixed = 370.00 (prov-A unset: liable), 74.00 VAT.
    held = {b.account: b.amount for b in await trial_balance(ledger.units(), ROUND_1_PAID)}
    assert held["4671/cred-7"] == 300_000 - 44_400
    with pytest.raises(Exception, match="only gains the event that reversed it"):
        await ledger.admin("UPDATE fee_bookings SET percent_part = 0")

    async with ledger.units() as uow:
        await reverse_fees(ReverseFees("pay-1", "u-1", date(2026, 3, 9)), uow)
        await uow.commit()
    async with ledger.units() as uow:
        assert await uow.fees.of_payment("pay-1") is None  # no fee of it stands
        reversed_ = await uow.fees.of_event(command.attribution.event_id)
        assert reversed_ is not None
        assert reversed_.reversed_by == "u-1"
        assert await uow.fees.fixed_fee_charged("case-7", 1, "prov-A") == 0
    after = {b.account: b.amount for b in await trial_balance(ledger.units(), date(2026, 3, 9))}
    assert {code: amount for code, amount in after.items() if amount} == {
        "5121": 300_000,
        "4671/cred-7": 300_000,
    }
    assert ledger.command("check").returncode == 0
    checked = bean_check(ledger, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
