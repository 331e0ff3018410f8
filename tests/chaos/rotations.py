"""Rotations, played under the last faults: the holders' exclusive windows run out on matching's
clock, and every case not paid in full is recalled and goes to a second round among providers
that never had it; its creditor accepts the new quote, the new provider takes the case, and
messaging writes to the debtor for it. The verdict (`judge_rotations`) then counts, per case,
what a creditor, a provider and the debtor would notice: the recall and the rotation once, the
second auction once, the old holder's access to the evidence ended and its letters stopped, the
new holder's access and plan once; and nothing of the kind for a case paid in full."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from tests.chaos.driver import ACCEPTED, DATABASE_DOWN, Driver, Intent, Quoted
from tests.chaos.verdict import Verdict, rows, rows_once_up
from tests.chaos.world import World

# The window (45 days), the most its extensions add (30 days: a partial payment extends it),
# and a day: every window of round 1 has run out.
WINDOWS_RUN_OUT = timedelta(days=45 + 30 + 1)
ROUND_TWO = 2


async def taken_unpaid(world: World, driver: Driver) -> set[str]:
    """The cases taken in round 1 that matching still has assigned (not closed, paid in full)."""
    taken = {
        i.case_id
        for i in driver.intents
        if i.kind == "accept-assignment" and i.outcome == ACCEPTED and i.round == 1
    }
    assigned = {
        r["case_id"]
        for r in await rows_once_up(
            world.direct_url("matching"),
            "SELECT case_id FROM case_matchings WHERE status = 'assigned' AND round = 1",
        )
    }
    return taken & assigned


async def wait_second_rounds(world: World, cases: set[str], within: float) -> None:
    """Until matching opened the second round of every case in `cases` (its auto bids placed
    as it opened), or the round ended for want of anyone eligible."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            found = await rows(
                world.direct_url("matching"),
                "SELECT case_id FROM case_matchings WHERE round >= $1 "
                "AND status <> 'between-rounds'",
                ROUND_TWO,
            )
        except DATABASE_DOWN:  # faults still play: the server may be down, or recovering
            found = []
        if cases <= {r["case_id"] for r in found}:
            return
        await asyncio.sleep(0.5)


async def rotate(
    world: World,
    driver: Driver,
    *,
    quoted: Quoted,
    bidding_closes: timedelta,
    within: float,
) -> set[str]:
    """Play the rotations; returns the cases that were due to rotate (taken, not paid in full).
    `quoted` reads which cases wait for their creditor's answer (one query of matching)."""
    assert world.clock is not None
    due = await taken_unpaid(world, driver)
    world.clock.advance(WINDOWS_RUN_OUT)
    await wait_second_rounds(world, due, within)
    world.clock.advance(bidding_closes)
    await driver.accept_quotes(quoted, within, cases=due, round_=ROUND_TWO)
    await driver.accept_assignments(round_=ROUND_TWO)
    return due


async def judge_rotations(
    world: World,
    intents: list[Intent],
    verdict: Verdict,
    facts: dict[str, Counter[tuple[str, ...]]],
) -> None:
    """Each case taken in round 1: rotated once if it was not paid in full (recalled, rotated,
    its second auction opened, its old holder's access revoked and plan stopped), never if it
    was. Each taken in round 2: its new holder granted once and given one plan."""
    settled = {
        r["case_id"]
        for r in await rows(
            world.direct_url("settlement"),
            "SELECT DISTINCT case_id::text AS case_id FROM receipts WHERE settles_in_full",
        )
    }
    rounds = {
        r["case_id"]: r["round"]
        for r in await rows(
            world.direct_url("matching"), "SELECT case_id, round FROM case_matchings"
        )
    }
    grants = {
        (r["case_id"], r["provider_id"]): (r["active"], r["round"])
        for r in await rows(
            world.direct_url("vault"), "SELECT case_id, provider_id, active, round FROM grants"
        )
    }
    # A plan per (case, round, holder) and how it stands: "live", or stopped (the recall and the
    # rotation both stop it, whichever messaging reads first).
    plans = Counter(
        (r["case_id"], r["round"], r["holder_id"], "stopped" if r["stopped"] else "live")
        for r in await rows(
            world.direct_url("messaging"),
            "SELECT case_id, round, holder_id, status = 'stopped' "
            "AND stop_reason IN ('rotated', 'recalled') AS stopped FROM contact_plans",
        )
    )
    recalled, rotated = facts["matching.case-recalled.v1"], facts["matching.case-rotated.v1"]
    opened = facts["matching.auction-opened.v1"]
    for intent in intents:
        if intent.kind != "accept-assignment" or intent.outcome != ACCEPTED:
            continue
        case_id, holder = intent.case_id, intent.actor
        if intent.round == ROUND_TWO:
            active, round_ = grants.get((case_id, holder), (False, 0))
            verdict.count("vault access (round 2)", case_id, int(active and round_ == ROUND_TWO))
            verdict.count(
                "messaging plan (round 2)", case_id, plans[(case_id, ROUND_TWO, holder, "live")]
            )
            continue
        key = (case_id, "1", "")
        if case_id in settled:
            if recalled[key] or rotated[key] or rounds.get(case_id, 1) > 1:
                verdict.duplicated["rotation of a case paid in full"].append(case_id)
            continue
        verdict.count("fact case-recalled", case_id, recalled[key])
        verdict.count("fact case-rotated", case_id, rotated[key])
        verdict.count("fact auction-opened (round 2)", case_id, opened[(case_id, "2", "")])
        verdict.count("matching round 2", case_id, int(rounds.get(case_id) == ROUND_TWO))
        active, _ = grants.get((case_id, holder), (True, 0))
        verdict.count("vault access revoked", case_id, int(not active))
        verdict.count("messaging plan stopped", case_id, plans[(case_id, 1, holder, "stopped")])
