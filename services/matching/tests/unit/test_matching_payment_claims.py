"""Payments a provider reports are claims: only the current holder makes them, for its own window,
and they count nowhere until the creditor confirms them (or settlement matches money to them)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from matching.domain.activity import business_day
from matching.domain.case_state import ClaimState, ConfirmedBy, PaymentClaim
from matching.domain.commands import ConfirmPayment, DisputePayment, ReportPayment
from matching.domain.errors import InvalidField, NotFound, StateConflict
from matching.domain.provider_records import ProviderRecord
from matching.domain.status import Status
from matching.service_layer import payment_claims, provider_commands
from services.matching.tests.unit.matching_market import CREDITOR, T0, Market


async def rotated_market() -> Market:
    """case-a held by p1 in round 1 (from T0), then by p2 in round 2 after p1's window lapsed."""
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.auto_rule("p2", "20")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    m.clock.advance(timedelta(days=m.config.default_window_days, hours=1))
    await m.timers().tick()
    await m.assign("case-a", "p2")
    return m


def report(provider_id: str, minor: int, paid_on: str, *, full: bool, ref: str) -> ReportPayment:
    return ReportPayment(provider_id, "case-a", minor, "EUR", paid_on, full, ref)


async def test_issue_13_point_1_a_past_holder_cannot_close_a_case_or_inflate_its_record() -> None:
    m = await rotated_market()
    published = m.published()
    p1_before = m.database.state.records.get(("p1", "good-faith"), ProviderRecord("good-faith"))
    in_p1_window = business_day(T0 + timedelta(days=3)).isoformat()

    # p1 lost the case; it claims the debtor paid it 0.01 EUR that settled everything.
    with pytest.raises(NotFound):
        await m.committed(
            lambda uow: provider_commands.report_payment(
                report("p1", 1, in_p1_window, full=True, ref="FAKE-1"), uow, **m.deps
            )
        )

    case = m.case("case-a")
    # The case stays open with p2: no close, no recall, so p2 keeps its access to the evidence.
    assert (case.status, case.holder, case.recovered_minor) == (Status.ASSIGNED, "p2", 0)
    assert m.published() == published
    # p1's record (what ranks it in later auctions) is exactly what it was.
    assert m.database.state.records.get(("p1", "good-faith")) == p1_before


async def held_market() -> Market:
    """case-a held by p1 since T0 (p2 registered, never held it)."""
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    return m


async def claim(
    m: Market, provider_id: str, minor: int, *, full: bool, ref: str, paid_on: str = ""
) -> PaymentClaim:
    day = paid_on or business_day(m.clock.now()).isoformat()
    command = report(provider_id, minor, day, full=full, ref=ref)
    _, made = await m.committed(
        lambda uow: provider_commands.report_payment(command, uow, **m.deps)
    )
    return made


async def confirm(
    m: Market, claim_id: str, *, creditor: str = CREDITOR, by: ConfirmedBy = ConfirmedBy.CREDITOR
) -> PaymentClaim:
    command = ConfirmPayment("case-a", claim_id, by, creditor)
    _, answered = await m.committed(
        lambda uow: payment_claims.confirm_payment(command, uow, **m.deps)
    )
    return answered


async def dispute(m: Market, claim_id: str, reason: str, creditor: str = CREDITOR) -> PaymentClaim:
    command = DisputePayment(creditor, "case-a", claim_id, reason)
    _, answered = await m.committed(
        lambda uow: payment_claims.dispute_payment(command, uow, **m.deps)
    )
    return answered


def p1_record(m: Market) -> ProviderRecord:
    return m.database.state.records.get(("p1", "good-faith"), ProviderRecord("good-faith"))


async def test_the_holders_claim_to_have_collected_everything_changes_nothing_until_confirmed() -> (
    None
):
    m = await held_market()
    published, record = m.published(), p1_record(m)
    made = await claim(m, "p1", 1, full=True, ref="R-1")
    case = m.case("case-a")
    assert made.state is ClaimState.CLAIMED
    assert (case.status, case.holder, case.recovered_minor, case.payments) == (
        Status.ASSIGNED,
        "p1",
        0,
        [],
    )
    assert m.published() == published
    assert p1_record(m) == record


async def test_a_confirmed_full_claim_closes_the_case_and_credits_its_holder() -> None:
    m = await held_market()
    made = await claim(m, "p1", 480_000, full=True, ref="R-1")
    confirmed = await confirm(m, made.claim_id)
    case = m.case("case-a")
    assert (confirmed.state, confirmed.decided_by) == (ClaimState.CONFIRMED, "creditor")
    assert (case.status, case.recovered_minor) == (Status.CLOSED, 480_000)
    assert [(p.payment_id, p.source, p.provider_id) for p in case.payments] == [
        (made.claim_id, "provider", "p1")
    ]
    assert m.published()[-2:] == ["payment-attributed", "case-closed"]
    assert (p1_record(m).finished, p1_record(m).recovered) == (1, 1)
    # Confirming again is the same answer, not a second payment.
    await confirm(m, made.claim_id)
    assert len(m.case("case-a").payments) == 1


async def test_a_disputed_claim_counts_nowhere_shows_why_and_may_still_be_confirmed() -> None:
    m = await held_market()
    made = await claim(m, "p1", 100_000, full=False, ref="R-1")
    for blank in ("", "   ", "x" * 501, "no\x00"):
        with pytest.raises(InvalidField) as refused:
            await dispute(m, made.claim_id, blank)
        assert refused.value.field == "reason"
    published = m.published()
    disputed = await dispute(m, made.claim_id, "Nothing reached our account")
    assert (disputed.state, disputed.dispute_reason) == (
        ClaimState.DISPUTED,
        "Nothing reached our account",
    )
    assert (m.case("case-a").recovered_minor, m.published()) == (0, published)
    # The money turns up after all: settlement (or the creditor) confirms it.
    confirmed = await confirm(m, made.claim_id, creditor="", by=ConfirmedBy.SETTLEMENT)
    assert (confirmed.state, confirmed.decided_by) == (ClaimState.CONFIRMED, "settlement")
    assert m.case("case-a").recovered_minor == 100_000
    with pytest.raises(StateConflict):
        await dispute(m, made.claim_id, "changed my mind")


async def test_only_the_cases_creditor_answers_a_claim_and_an_unknown_claim_is_not_found() -> None:
    m = await held_market()
    made = await claim(m, "p1", 100_000, full=False, ref="R-1")
    for refused_call in (
        confirm(m, made.claim_id, creditor="creditor-2"),
        confirm(m, made.claim_id, creditor=""),  # the creditor's path always names one
        dispute(m, made.claim_id, "no", creditor="creditor-2"),
        confirm(m, "no-such-claim"),
    ):
        with pytest.raises(NotFound):
            await refused_call
    assert m.case("case-a").claims[0].state is ClaimState.CLAIMED


async def test_a_past_holder_may_retry_its_own_claim_and_see_its_answer_but_make_no_new_one() -> (
    None
):
    m = await held_market()
    made = await claim(m, "p1", 50_000, full=False, ref="R-1")
    await dispute(m, made.claim_id, "not received")
    m.clock.advance(timedelta(days=m.config.default_window_days, hours=1))
    await m.timers().tick()
    assert m.case("case-a").holder is None
    first_day = made.paid_on.isoformat()
    again = await claim(m, "p1", 50_000, full=False, ref="R-1", paid_on=first_day)
    assert again.claim_id == made.claim_id
    with pytest.raises(NotFound):
        await claim(m, "p1", 50_000, full=False, ref="R-2", paid_on=first_day)
    async with m.database.unit_of_work() as uow:
        _, mine = await provider_commands.payment_claims("p1", "case-a", uow)
        with pytest.raises(NotFound):
            await provider_commands.payment_claims("p2", "case-a", uow)
    assert [(c.reference, c.state, c.dispute_reason) for c in mine] == [
        ("R-1", ClaimState.DISPUTED, "not received")
    ]
