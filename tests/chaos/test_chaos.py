"""The short chaos run of `make test`: users through REST while seeded faults hit the services
(SIGKILL and restart, PostgreSQL links slowed, reset and cut through toxiproxy, the run's own
PostgreSQL and SeaweedFS crashed, matching's and messaging's clocks jumping forward): cases
submitted with their invoices, auctioned, accepted, taken, their first letters sent, paid by bank
statements (some imported twice), the money paid out in a batch two operators approve, the
unpaid cases rotated to a second provider; then every effect is counted, and the money to the
cent. And the harness is shown able to fail: with the
inbox's idempotency check switched off, redelivered events duplicate their effects."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.faults import KINDS, S3_CRASH
from tests.chaos.run import Size, chaos_run
from tests.chaos.world import SERVICES
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

# 1,000 cases, 30 faults (the short run): about 10 minutes on two shared cores at a load
# average of 6 to 12 (docs/reliability.md); the timeout leaves room for a loaded machine.
SHORT = Size(cases=1000, faults=30, every=1.5)


@pytest.mark.timeout(3600)
async def test_a_short_chaos_run_loses_nothing_and_duplicates_nothing(
    stack: Stack, workdir: Path
) -> None:
    verdict, played = await chaos_run(stack, workdir, seed=19, size=SHORT, own_s3=True)
    print(verdict.table())
    assert verdict.clean, verdict.table()
    assert sum(verdict.faults.values()) == SHORT.faults, played
    assert set(verdict.faults) == {*KINDS, S3_CRASH}, (
        "a service died on its own (crash), or a kind is missing"
    )
    cases = verdict.intents["case-json accepted"] + verdict.intents["case-csv accepted"]
    assert verdict.found["intake case"] == cases
    assert verdict.found["vault invoice stored"] == cases
    # every case auctioned, its quote accepted by its creditor and the case taken
    assert verdict.found["fact case-offered"] == verdict.intents["accept-quote accepted"] == cases
    taken = verdict.intents["accept-assignment accepted"]
    assert taken == cases
    assert verdict.found["vault grant"] == taken
    letters = verdict.found["messaging first letter"] + verdict.found["first letter postponed"]
    assert letters == taken
    paid = verdict.intents["payment accepted"]
    assert paid > 0
    assert verdict.found["settlement receipt"] == verdict.found["fact payment-attributed"] == paid
    assert verdict.money["money paid (driver)"] == verdict.money["money received (receipts)"]
    # the money out: one batch released, its lines booked, the client-money account the rest
    assert verdict.found["settlement payout released"] == 1
    assert verdict.found["settlement payout booked"] > 0
    assert verdict.found["bank file transfer (pain.001)"] > 0
    # every case taken and not paid in full rotated once, and taken again in round 2
    rotating = verdict.intents["(cases due to rotate)"]
    assert 0 < rotating == taken - verdict.found["matching closed (paid)"]
    assert verdict.found["fact case-rotated"] == verdict.found["vault access revoked"] == rotating
    assert verdict.intents["accept-assignment accepted (round 2)"] == rotating
    assert verdict.found["vault access (round 2)"] == rotating


async def test_with_the_inbox_idempotency_switched_off_the_verdict_finds_duplicates(
    stack: Stack, workdir: Path
) -> None:
    """Intake's relay kills itself between publishing a batch and marking it sent, so its
    events are delivered twice; every consumer's inbox forgets what it handled."""
    broken = {"chaos_inbox_without_idempotency": "true"}
    env = {name: dict(broken) for name in SERVICES}
    env["intake"] |= {"relay_batch_size": "4", "chaos_relay_kill_after_batches": "2"}
    verdict, played = await chaos_run(stack, workdir, seed=5, size=Size(12, 0, 1), env=env)
    print(verdict.table())
    assert verdict.faults["crash (restarted)"] >= 1, played
    assert verdict.duplicated, verdict.table()
    assert not verdict.clean
