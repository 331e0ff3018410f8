"""Random receipts, attributions across rotations and reversals: the books hold whatever the order.

After every step: the ledger balances and passes every invariant of `check`; no creditor's funds
held go below zero; no payment's fee (with VAT) exceeds the payment, and no creditor is charged
more in fees than was collected for it.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork
from settlement.domain.accounts import CLIENT_MONEY_BANK, FUNDS_HELD, account
from settlement.domain.billing import FeeRates
from settlement.domain.commands import PostEntry
from settlement.domain.fee_commands import (
    BookFees,
    ReverseFees,
    SetCreditorBilling,
    SetProviderBilling,
)
from settlement.domain.fees import Attribution, FeeBase, Source
from settlement.domain.ledger import Journal, credit, debit
from settlement.service_layer.billing import set_creditor_billing, set_provider_billing
from settlement.service_layer.fees import book_fees, reverse_fees
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.reads import check_ledger, trial_balance

CREDITORS = ("cred-1", "cred-2")
PROVIDERS = ("prov-1", "prov-2", "prov-3", "prov-4")
START = date(2026, 1, 5)
WHO = {"operator": "ops", "reason": "test"}


class FeeBooks(RuleBasedStateMachine):
    """Settlement's fee booking driven by random facts, on the fakes."""

    def __init__(self) -> None:
        super().__init__()
        self.uow = FakeSettlementUnitOfWork()
        self.ids = itertools.count(1)
        self.day = START
        # case -> (creditor, round, holder, its fee in basis points, its fixed fee)
        self.cases: dict[str, tuple[str, int, str, int, int]] = {}
        self.had: dict[str, set[str]] = {}
        self.booked: list[str] = []  # payment ids whose fees stand
        self.unbooked: list[tuple[str, str, int]] = []  # (payment, case, cents) unattributed

    def run(self, step):  # type: ignore[no-untyped-def]
        return asyncio.run(step)

    def next_id(self) -> int:
        return next(self.ids)

    @initialize(
        rates=st.tuples(st.integers(0, 5_000), st.integers(0, 10_000)),
        franchise=st.sets(st.sampled_from(PROVIDERS)),
        referred=st.sets(st.sampled_from(CREDITORS)),
    )
    def setup(self, rates: tuple[int, int], franchise: set[str], referred: set[str]) -> None:
        self.rates = FeeRates(*rates)
        for provider in franchise:
            profile = SetProviderBilling(provider, "franchise", None, **WHO)
            self.run(set_provider_billing(profile, self.uow))
        for creditor in referred:
            self.run(set_creditor_billing(SetCreditorBilling(creditor, "part-1", **WHO), self.uow))

    @rule(
        creditor=st.sampled_from(CREDITORS),
        provider=st.sampled_from(PROVIDERS),
        fee_bp=st.integers(0, 5_000),
        fixed=st.sampled_from([0, 1, 999, 5_000, 100_000]),
    )
    def assign(self, creditor: str, provider: str, fee_bp: int, fixed: int) -> None:
        case = f"case-{self.next_id()}"
        self.cases[case] = (creditor, 1, provider, fee_bp, fixed)
        self.had[case] = {provider}

    @precondition(lambda self: self.cases)
    @rule(data=st.data(), fee_bp=st.integers(0, 5_000), fixed=st.sampled_from([0, 777, 5_000]))
    def rotate(self, data: st.DataObject, fee_bp: int, fixed: int) -> None:
        case = data.draw(st.sampled_from(sorted(self.cases)))
        creditor, round_, _, _, _ = self.cases[case]
        fresh = [p for p in PROVIDERS if p not in self.had[case]]
        if round_ >= 3 or not fresh:
            return
        provider = data.draw(st.sampled_from(fresh))
        self.had[case].add(provider)
        self.cases[case] = (creditor, round_ + 1, provider, fee_bp, fixed)

    @rule(creditor=st.sampled_from(CREDITORS), cents=st.integers(1, 2_000_000))
    def receive(self, creditor: str, cents: int) -> None:
        self.day += timedelta(days=1)
        self.run(
            post_entry(
                PostEntry(
                    f"bank-line:L{self.next_id()}",
                    self.day,
                    Journal.BANK,
                    "Debtor payment",
                    (
                        debit(account(CLIENT_MONEY_BANK), cents),
                        credit(account(FUNDS_HELD, creditor), cents),
                    ),
                ),
                self.uow,
            )
        )

    @precondition(lambda self: self.cases)
    @rule(
        data=st.data(),
        cents=st.integers(1, 2_000_000),
        source=st.sampled_from(list(Source)),
        base=st.sampled_from(list(FeeBase)),
        principal=st.none() | st.integers(0, 2_000_000),
        unheld=st.booleans(),
    )
    def attribute(
        self,
        data: st.DataObject,
        cents: int,
        source: Source,
        base: FeeBase,
        principal: int | None,
        unheld: bool,
    ) -> None:
        case = data.draw(st.sampled_from(sorted(self.cases)))
        creditor, round_, provider, fee_bp, fixed = self.cases[case]
        n = self.next_id()
        payment = f"pay-{n}"
        if self.unbooked and data.draw(st.booleans()):  # an unattributed payment, credited again
            payment, case, cents = self.unbooked.pop(0)
            creditor, round_, provider, fee_bp, fixed = self.cases[case]
        attribution = Attribution(
            event_id=f"00000000-0000-4000-8000-{n:012d}",
            case_id=case,
            creditor_id=creditor,
            payment_id=payment,
            amount_minor=cents,
            paid_on=self.day,
            source=source,
            provider_id="" if unheld else provider,
            round=0 if unheld else round_,
            fee_bp=None if unheld else fee_bp,
            fixed_fee_minor=0 if unheld else fixed,
            base=base,
            principal_minor=principal,
        )
        self.run(self._book(attribution))
        self.booked.append(attribution.payment_id)

    async def _book(self, attribution: Attribution) -> None:
        async with self.uow:
            await book_fees(BookFees(attribution), self.uow, self.rates)
            await self.uow.commit()

    @precondition(lambda self: self.booked)
    @rule(data=st.data())
    def unattribute(self, data: st.DataObject) -> None:
        payment = data.draw(st.sampled_from(self.booked))
        self.booked.remove(payment)
        booking = self.run(self.uow.fees.of_payment(payment))
        assert booking is not None
        self.unbooked.append(
            (payment, booking.attribution.case_id, booking.attribution.amount_minor)
        )
        self.day += timedelta(days=1)
        self.run(self._reverse(ReverseFees(payment, f"u-{self.next_id()}", self.day)))

    async def _reverse(self, command: ReverseFees) -> None:
        async with self.uow:
            await reverse_fees(command, self.uow)
            await self.uow.commit()

    @invariant()
    def books_balance_and_hold(self) -> None:
        balances = self.run(trial_balance(self.uow, date.max))
        assert sum(b.debit - b.credit for b in balances) == 0
        assert not self.run(check_ledger(self.uow)).breaches
        for b in balances:
            if b.account.startswith("4671/"):
                assert b.amount >= 0, f"{b.account} went negative: {b.amount}"

    @invariant()
    def fees_never_exceed_what_was_collected(self) -> None:
        collected: dict[str, int] = {}
        charged: dict[str, int] = {}
        for booking in self.uow.kept.fee_bookings.values():
            a, f = booking.attribution, booking.figures
            assert f.fee_with_vat <= a.amount_minor
            if a.fixed_fee_minor:
                assert f.fixed_part <= a.fixed_fee_minor
            if booking.reversed_by is None:
                collected[a.creditor_id] = collected.get(a.creditor_id, 0) + a.amount_minor
                charged[a.creditor_id] = charged.get(a.creditor_id, 0) + f.fee_with_vat
        for creditor, fees in charged.items():
            assert fees <= collected[creditor]
        per_round: dict[tuple[str, int], tuple[int, int]] = {}
        for booking in self.uow.kept.fee_bookings.values():
            a = booking.attribution
            if booking.reversed_by is None and a.provider_id:
                total, fixed = per_round.get((a.case_id, a.round), (0, a.fixed_fee_minor))
                per_round[a.case_id, a.round] = (total + booking.figures.fixed_part, fixed)
        for total, fixed in per_round.values():
            assert total <= fixed  # a round's fixed fee is charged at most once


FeeBooks.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_fee_books = FeeBooks.TestCase
