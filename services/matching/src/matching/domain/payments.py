"""Payments on a case: each is credited to whoever held the case the day it was paid.

A payment is what the creditor declared, a provider's claim once confirmed (payment_claims), or
money settlement saw reach the client-money account (bank_receipts).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime

from matching.domain import events
from matching.domain.activity import business_day
from matching.domain.case_state import Holding, Payment
from matching.domain.errors import StateConflict
from matching.domain.holdings import Holdings
from matching.domain.rules import MatchingRules
from matching.domain.status import Status

PAID_IN_FULL = "paid in full"


class Payments(Holdings):
    """The aggregate's payments: what the creditor declares and the claims it confirms.

    Built on the holdings: a payment is credited to the holding of its day.
    """

    @property
    def remaining_minor(self) -> int:
        """What the debtor still owes on the principal."""
        return max(0, self.case.amount_minor - self.recovered_minor)

    def _payment(self, payment_id: str) -> Payment | None:
        return next((p for p in self.payments if p.payment_id == payment_id), None)

    def record_payment(
        self,
        payment_id: str,
        amount_minor: int,
        paid_on: date,
        *,
        source: str,
        settles_in_full: bool,
        now: datetime,
        rules: MatchingRules,
        prefer: str | None = None,
        receipt_id: str = "",
    ) -> Payment:
        """Credit a payment to whoever held the case that day; a full one closes the case."""
        earlier = self._payment(payment_id)
        if earlier is not None:
            return earlier
        holding = self.holding_on(paid_on, prefer)
        payment = Payment(
            payment_id,
            amount_minor,
            paid_on,
            source,
            settles_in_full,
            "" if holding is None else holding.provider_id,
            0 if holding is None else holding.round,
            receipt_id,
        )
        self.payments.append(payment)
        self.recovered_minor += amount_minor
        self.pending.append(
            events.PaymentAttributed(
                self.case.case_id,
                payment_id,
                amount_minor,
                paid_on,
                source,
                payment.provider_id,
                payment.round,
                None if holding is None else holding.fee_percent,
                0 if holding is None else holding.fixed_fee_minor,
                settles_in_full,
                "collected" if holding is None else holding.fee_base,
                receipt_id,
            )
        )
        in_full = settles_in_full or self.recovered_minor >= self.case.amount_minor
        if holding is not None:
            self._credit(holding, amount_minor, paid_on, in_full=in_full, now=now)
        if in_full:
            self._close(PAID_IN_FULL, now)
        elif holding is not None and holding.ended_at is None and self.status is Status.ASSIGNED:
            # A partial payment earns the holder more time, like a promise to pay, up to the cap.
            with suppress(StateConflict):
                self.extend_window(holding.provider_id, now, rules)
        return payment

    def _credit(
        self,
        holding: Holding,
        amount_minor: int,
        paid_on: date,
        *,
        in_full: bool,
        now: datetime,
    ) -> None:
        before = self._share(holding.recovered_minor)
        holding.recovered_minor += amount_minor
        if holding.counted:
            # A payment made in a finished window, declared late: the record catches up.
            recovered = 0
            days = 0
            if in_full and not holding.recovered_in_full:
                holding.recovered_in_full = True
                recovered = 1
                days = (paid_on - business_day(holding.started_at)).days
            self._outcome(
                holding.provider_id,
                recovered=recovered,
                amount_share=self._share(holding.recovered_minor) - before,
                days_to_recover=days,
            )
        elif in_full:
            holding.recovered_in_full = True
            self._end_holding(holding, now, recovered=True, paid_on=paid_on)
