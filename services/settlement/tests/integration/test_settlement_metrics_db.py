"""What an operator's dashboard and the R124-6 alert read from settlement's own tables: how long
creditors' money has waited, and payout batches waiting for release."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recouvra_shared.db import Database
from recouvra_shared.metrics.readings import Reading
from recouvra_shared.unit_of_work import utcnow
from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.payout_builders import clock, money_in, payee
from settlement.adapters.metrics_readings import settlement_readings
from settlement.domain.payout_commands import ProposePayoutBatch
from settlement.service_layer.payouts import PayoutPolicy, propose_batch

pytestmark = pytest.mark.integration


def by_name(readings: list[Reading]) -> dict[str, float]:
    return {r.name: r.value for r in readings}


async def test_funds_held_close_to_a_month_and_a_pending_payout_show_on_metrics(
    ledger: Ledger,
) -> None:
    today = utcnow().date()
    database = Database.connect(ledger.url, pool_size=2)
    try:
        read = settlement_readings(database, ledger.units, warning_days=21)
        await payee(ledger.units, "creditor", "cred-1")
        await money_in(ledger.units, "L1", "cred-1", 12_345, today - timedelta(days=25))
        await money_in(ledger.units, "L2", "cred-2", 500, today - timedelta(days=2))
        first = by_name(await read())
        assert first["recouvra_creditor_funds_oldest_held_days"] == 25
        assert first["recouvra_creditors_with_funds_overdue"] == 1
        assert first["recouvra_creditor_funds_held_minor"] == 12_845
        assert first["recouvra_payouts_pending_batches"] == 0

        policy = PayoutPolicy(hold_business_days=3, minimum=100)
        await propose_batch(
            ProposePayoutBatch("alice", today), ledger.units(), policy, clock(today)
        )
        then = by_name(await read())
    finally:
        await database.dispose()
    assert then["recouvra_payouts_pending_batches"] == 1
    assert then["recouvra_payouts_pending_amount_minor"] == 12_345
    assert then["recouvra_payouts_pending_oldest_age_seconds"] >= 0
