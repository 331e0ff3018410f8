"""Money settlement saw reach the client-money account, and the rule that counts one real euro
once, however many ways it is told.

The same payment may be told three ways: the creditor declares it, the holder claims it (a
claim, counted once confirmed), settlement sees it arrive by bank. The rule (`same_money`, in
recouvra_shared.legal, which intake applies too): on
one case, a bank receipt and a declaration or a claim of the same amount, paid within
SAME_MONEY_DAYS calendar days of each other, are the same euro. So:

- a receipt that matches an open claim (claimed or disputed) confirms it, by settlement: the
  claim becomes the payment, credited to its claimant's holding, naming the receipt;
- else a receipt that matches a payment already counted (a declaration, a confirmed claim) with
  no receipt yet names the receipt on that payment (published again, same payment id) and adds
  nothing;
- else it is a new payment, source "bank", credited to whoever held the case on the day it was
  received, on that round's terms;
- a declaration or a claim arriving after a bank payment it matches is that payment: the
  declaration adds nothing, the claim is confirmed at once. A bank payment stands for one
  declaration and one claim at most; a second one of the same amount is another euro.

A reversal of the bank credit undoes what its receipt counted: a bank payment or a claim it
confirmed stops counting (the claim is a claim again, for the creditor to answer), the provider's
record loses what it gained, and `PaymentUnattributed` tells settlement to unwind the fee; a
declaration it confirmed, or absorbed, stays the creditor's word and counts as such. A reversal
heard before its receipt keeps that receipt from ever counting.

A case a payment in full closed, that the reversal leaves unpaid, is open again
(`CaseReopened`): back with its holder when the holder's window has not ended (its holding goes
on, `CaseAssigned` is told again so that access is granted again), else the holder's round ends
and the next one opens (or the case is exhausted), as when a window ends. A case closed for
another reason (withdrawn, insolvency) stays closed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from matching.domain import events
from matching.domain.activity import business_day
from matching.domain.case_state import ClaimState, ConfirmedBy, Payment, PaymentClaim
from matching.domain.payment_claims import PaymentClaims
from matching.domain.payments import PAID_IN_FULL
from matching.domain.rules import MatchingRules
from matching.domain.status import Status
from recouvra_shared.legal.same_money import same_money

BANK = "bank"
_CREDITOR = "creditor:"
_CLAIM = "claim:"


class BankReceipts(PaymentClaims):
    """The aggregate's bank receipts: counted once, matched to what was already told.

    Built on the claims: a receipt may confirm one.
    """

    def _seen(self, receipt_id: str) -> bool:
        return receipt_id in self.reversed_receipts or any(
            p.receipt_id == receipt_id for p in self.payments
        )

    def _bank_payment_for(self, amount_minor: int, paid_on: date, kind: str) -> Payment | None:
        """A bank payment this declaration or claim is, not yet told by one of its kind."""
        found = [
            p
            for p in self.payments
            if p.source == BANK
            and not any(t.startswith(kind) for t in p.told_by)
            and same_money(amount_minor, paid_on, p.amount_minor, p.paid_on)
        ]
        return min(found, key=lambda p: abs((p.paid_on - paid_on).days), default=None)

    def _told(self, payment: Payment, by: str) -> None:
        index = self.payments.index(payment)
        self.payments[index] = replace(payment, told_by=(*payment.told_by, by))

    def receive(
        self,
        receipt_id: str,
        amount_minor: int,
        received_on: date,
        *,
        settles_in_full: bool,
        now: datetime,
        rules: MatchingRules,
    ) -> None:
        """Money for the case reached the client-money account: counted once, by the rule."""
        if self._seen(receipt_id):
            return
        claims = [
            c
            for c in self.claims
            if c.state is not ClaimState.CONFIRMED
            and same_money(amount_minor, received_on, c.amount_minor, c.paid_on)
        ]
        if claims:
            claim = min(claims, key=lambda c: abs((c.paid_on - received_on).days))
            self.confirm_claim(
                claim.claim_id, now, rules, by=ConfirmedBy.SETTLEMENT, receipt_id=receipt_id
            )
            return
        counted = [
            p
            for p in self.payments
            if not p.receipt_id and same_money(amount_minor, received_on, p.amount_minor, p.paid_on)
        ]
        if counted:
            told = min(counted, key=lambda p: abs((p.paid_on - received_on).days))
            self.payments[self.payments.index(told)] = replace(told, receipt_id=receipt_id)
            self.pending.append(self._attributed(told, receipt_id))
            return
        self.record_payment(
            receipt_id,
            amount_minor,
            received_on,
            source=BANK,
            settles_in_full=settles_in_full,
            now=now,
            rules=rules,
            receipt_id=receipt_id,
        )

    def declared_by_creditor(
        self,
        payment_id: str,
        amount_minor: int,
        paid_on: date,
        *,
        settles_in_full: bool,
        now: datetime,
        rules: MatchingRules,
    ) -> None:
        """The creditor says it was paid: the bank payment it matches, or a new payment."""
        if any(
            p.payment_id == payment_id or _CREDITOR + payment_id in p.told_by for p in self.payments
        ):
            return
        bank = self._bank_payment_for(amount_minor, paid_on, _CREDITOR)
        if bank is not None:
            self._told(bank, _CREDITOR + payment_id)
            return
        self.record_payment(
            payment_id,
            amount_minor,
            paid_on,
            source="creditor",
            settles_in_full=settles_in_full,
            now=now,
            rules=rules,
        )

    def _claimable_minor(self, amount_minor: int, paid_on: date) -> int:
        """What is still owed, plus a bank payment the claim would turn out to be."""
        bank = self._bank_payment_for(amount_minor, paid_on, _CLAIM)
        return self.remaining_minor + (0 if bank is None else bank.amount_minor)

    def claim_payment(
        self,
        provider_id: str,
        reference: str,
        amount_minor: int,
        paid_on: date,
        *,
        settles_in_full: bool,
        now: datetime,
    ) -> PaymentClaim:
        """The holder's claim; confirmed at once when the money already came in by bank."""
        claim = super().claim_payment(
            provider_id,
            reference,
            amount_minor,
            paid_on,
            settles_in_full=settles_in_full,
            now=now,
        )
        if claim.state is ClaimState.CLAIMED:
            bank = self._bank_payment_for(amount_minor, paid_on, _CLAIM)
            if bank is not None:
                self._told(bank, _CLAIM + claim.claim_id)
                claim.state = ClaimState.CONFIRMED
                claim.decided_at = now
                claim.decided_by = ConfirmedBy.SETTLEMENT.value
        return claim

    def reverse_receipt(
        self, receipt_id: str, reversed_on: date, *, now: datetime, rules: MatchingRules
    ) -> None:
        """The bank took the money back: what its receipt counted stops counting."""
        payment = next((p for p in self.payments if p.receipt_id == receipt_id), None)
        if payment is None:
            if receipt_id not in self.reversed_receipts:
                self.reversed_receipts.append(receipt_id)
            return
        if payment.source == "creditor":
            # The creditor's word stands; only the bank's confirmation of it is gone.
            self.payments[self.payments.index(payment)] = replace(payment, receipt_id="")
            self.reversed_receipts.append(receipt_id)
            return
        self._uncount(payment)
        self.reversed_receipts.append(receipt_id)
        self._restore_declaration(payment, now, rules)
        for claim in self.claims:
            if claim.claim_id == payment.payment_id or _CLAIM + claim.claim_id in payment.told_by:
                claim.state, claim.decided_at, claim.decided_by = ClaimState.CLAIMED, None, ""
        self.pending.append(
            events.PaymentUnattributed(
                self.case.case_id,
                payment.payment_id,
                receipt_id,
                payment.amount_minor,
                reversed_on,
                payment.provider_id,
                payment.round,
            )
        )
        self._reopen_if_unpaid(now, rules)

    def _reopen_if_unpaid(self, now: datetime, rules: MatchingRules) -> None:
        """A case a payment in full closed, no longer paid in full: open again."""
        if self.status is not Status.CLOSED or self.closed_by != PAID_IN_FULL:
            return
        if self.recovered_minor >= self.case.amount_minor or any(
            p.settles_in_full for p in self.payments
        ):
            return
        self.closed_by = ""
        assignment = self.assignment
        last = self.holdings[-1] if self.holdings else None
        if (
            assignment is not None
            and assignment.started_at is not None
            and assignment.window_ends_at is not None
            and now < assignment.window_ends_at
            and last is not None
            and (last.provider_id, last.round) == (assignment.provider_id, assignment.round)
        ):
            if last.counted:
                # Its holding goes on: it no longer counts as finished until it ends again.
                self._outcome(
                    last.provider_id,
                    finished=-1,
                    amount_share=-self._share(last.recovered_minor),
                )
                last.counted = False
            last.ended_at = None
            self.status = Status.ASSIGNED
            self.pending.append(
                events.CaseReopened(
                    self.case.case_id, self.round, assignment.provider_id, assignment.window_ends_at
                )
            )
            self.pending.append(
                events.CaseAssigned(
                    self.case.case_id,
                    self.round,
                    assignment.provider_id,
                    assignment.fee_percent,
                    assignment.fixed_fee_minor,
                    assignment.started_at,
                    assignment.window_ends_at,
                    assignment.fee_base,
                )
            )
            return
        self.pending.append(events.CaseReopened(self.case.case_id, self.round))
        self._end_round_without_holder(now, rules, reason="a payment in full was reversed")

    def _restore_declaration(self, payment: Payment, now: datetime, rules: MatchingRules) -> None:
        """A declaration a reversed bank payment absorbed is the creditor's word again."""
        declared = [t.removeprefix(_CREDITOR) for t in payment.told_by if t.startswith(_CREDITOR)]
        if not declared:
            return
        self.record_payment(
            declared[0],
            payment.amount_minor,
            payment.paid_on,
            source="creditor",
            settles_in_full=payment.settles_in_full,
            now=now,
            rules=rules,
        )

    def _uncount(self, payment: Payment) -> None:
        """Take a payment off the case and off the record of the holding it was credited to."""
        self.payments.remove(payment)
        self.recovered_minor -= payment.amount_minor
        holding = next(
            (
                h
                for h in self.holdings
                if (h.provider_id, h.round) == (payment.provider_id, payment.round)
            ),
            None,
        )
        if holding is None:
            return
        before = self._share(holding.recovered_minor)
        holding.recovered_minor -= payment.amount_minor
        if not holding.counted:
            return
        still_full = self.recovered_minor >= self.case.amount_minor or any(
            p.settles_in_full and (p.provider_id, p.round) == (holding.provider_id, holding.round)
            for p in self.payments
        )
        lost_full = holding.recovered_in_full and not still_full
        days = max(0, (payment.paid_on - business_day(holding.started_at)).days)
        if lost_full:
            holding.recovered_in_full = False
        self._outcome(
            holding.provider_id,
            recovered=-1 if lost_full else 0,
            amount_share=self._share(holding.recovered_minor) - before,
            days_to_recover=-days if lost_full else 0,
        )

    def _attributed(self, payment: Payment, receipt_id: str) -> events.PaymentAttributed:
        """A counted payment published again, now naming the receipt that showed its money."""
        holding = next(
            (
                h
                for h in self.holdings
                if (h.provider_id, h.round) == (payment.provider_id, payment.round)
            ),
            None,
        )
        return events.PaymentAttributed(
            self.case.case_id,
            payment.payment_id,
            payment.amount_minor,
            payment.paid_on,
            payment.source,
            payment.provider_id,
            payment.round,
            None if holding is None else holding.fee_percent,
            0 if holding is None else holding.fixed_fee_minor,
            payment.settles_in_full,
            "collected" if holding is None else holding.fee_base,
            receipt_id,
        )
