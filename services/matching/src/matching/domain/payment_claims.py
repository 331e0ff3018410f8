"""Payments a provider reports: claims, which count nowhere (recovered amount, case status,
the provider's record, later auctions) until the creditor confirms them or settlement matches
them to money received; the creditor may dispute one instead.

    claimed --confirm--> confirmed (a payment, credited like a declared one; terminal)
    claimed --dispute--> disputed  --confirm--> confirmed (the money turned up after all)
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from matching.domain.activity import business_day
from matching.domain.case_state import ClaimState, ConfirmedBy, Holding, PaymentClaim
from matching.domain.errors import NO_SUCH_CASE, InvalidField, NotFound, StateConflict
from matching.domain.payments import Payments
from matching.domain.rules import MatchingRules
from recouvra_shared.text import has_control_characters

MAX_REFERENCE_LENGTH = 64
MAX_DISPUTE_REASON_LENGTH = 500
NO_SUCH_CLAIM = "claim_id: no such payment claim on this case"
# Claim ids are derived, so a retried report finds its claim without a lookup table.
_CLAIMS = uuid.UUID("5f0c1d2e-8a4b-4c6d-9e7f-1a2b3c4d5e6f")


def check_reported_payment(
    *, reference: str, currency: str, amount_minor: int, case_currency: str
) -> str:
    """The provider's own reference for a payment it reports, once the payment is well formed."""
    reference = reference.strip()
    if not reference:
        raise InvalidField("reference", "is required (your own reference for this payment)")
    if len(reference) > MAX_REFERENCE_LENGTH or has_control_characters(reference):
        raise InvalidField(
            "reference", f"at most {MAX_REFERENCE_LENGTH} characters, no control characters"
        )
    if currency != case_currency:
        raise InvalidField("amount.currency", f"must be {case_currency}")
    if amount_minor <= 0:
        raise InvalidField("amount.minor_units", "must be positive")
    return reference


def check_dispute_reason(reason: str) -> str:
    """Why the creditor disputes a claim: required, so the provider knows what to answer."""
    reason = reason.strip()
    if not reason:
        raise InvalidField("reason", "is required (why you dispute this payment)")
    if len(reason) > MAX_DISPUTE_REASON_LENGTH or has_control_characters(reason):
        raise InvalidField(
            "reason", f"at most {MAX_DISPUTE_REASON_LENGTH} characters, no control characters"
        )
    return reason


def claim_id_of(case_id: str, provider_id: str, reference: str) -> str:
    """One id per provider's reference on a case, safe in a URL."""
    return str(uuid.uuid5(_CLAIMS, f"{case_id}\x1f{provider_id}\x1f{reference}"))


class PaymentClaims(Payments):
    """The aggregate's claims: what the holder reports, and the creditor's answer to it.

    Built on the payments: a confirmed claim is recorded as a payment of the claimant's holding.
    """

    def claim(self, claim_id: str) -> PaymentClaim:
        """A claim on this case; NotFound for any other id, like a claim of another case."""
        found = next((c for c in self.claims if c.claim_id == claim_id), None)
        if found is None:
            raise NotFound(NO_SUCH_CLAIM)
        return found

    def claims_of(self, provider_id: str) -> list[PaymentClaim]:
        """The claims this provider made on the case, oldest first."""
        return [c for c in self.claims if c.provider_id == provider_id]

    def _holding_now(self, provider_id: str) -> Holding:
        """The provider's current holding; NotFound for anyone else, past holders included."""
        self.held_by(provider_id)
        current = self.holdings[-1] if self.holdings else None
        if current is None or current.ended_at is not None or current.provider_id != provider_id:
            raise NotFound(NO_SUCH_CASE)
        return current

    def _claimable_minor(self, amount_minor: int, paid_on: date) -> int:
        """The most a claim may be for: what is still owed."""
        return self.remaining_minor

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
        """The holder says the debtor paid it, in its current window: recorded as a claim only.

        The same reference again is the same claim (a retry), even once the window is over.
        """
        claim_id = claim_id_of(self.case.case_id, provider_id, reference)
        earlier = next((c for c in self.claims if c.claim_id == claim_id), None)
        if earlier is not None and earlier.repeats(
            provider_id, amount_minor, paid_on, settles_in_full
        ):
            return earlier
        holding = self._holding_now(provider_id)
        if earlier is not None:
            raise InvalidField("reference", "already used for a different payment")
        if not holding.covers(paid_on):
            start = business_day(holding.started_at).isoformat()
            raise InvalidField("paid_on", f"must fall within your current window (from {start})")
        owed = self._claimable_minor(amount_minor, paid_on)
        if amount_minor > owed:
            raise InvalidField("amount.minor_units", f"must not exceed what is still owed ({owed})")
        claim = PaymentClaim(
            claim_id,
            reference,
            provider_id,
            holding.round,
            amount_minor,
            paid_on,
            settles_in_full,
            claimed_at=now,
        )
        self.claims.append(claim)
        return claim

    def confirm_claim(
        self,
        claim_id: str,
        now: datetime,
        rules: MatchingRules,
        *,
        by: ConfirmedBy,
        receipt_id: str = "",
    ) -> PaymentClaim:
        """The creditor (or settlement, seeing the money) confirms it: it becomes a payment,
        credited to the claimant's holding; one that settles in full closes the case."""
        claim = self.claim(claim_id)
        if claim.state is ClaimState.CONFIRMED:
            return claim
        claim.state = ClaimState.CONFIRMED
        claim.decided_at = now
        claim.decided_by = by.value
        self.record_payment(
            claim.claim_id,
            claim.amount_minor,
            claim.paid_on,
            source="provider",
            settles_in_full=claim.settles_in_full,
            now=now,
            rules=rules,
            prefer=claim.provider_id,
            receipt_id=receipt_id,
        )
        return claim

    def dispute_claim(self, claim_id: str, reason: str, now: datetime) -> PaymentClaim:
        """The creditor says it did not happen: the claim counts nowhere and shows why."""
        claim = self.claim(claim_id)
        reason = check_dispute_reason(reason)
        if claim.state is ClaimState.CONFIRMED:
            raise StateConflict("claim: already confirmed; a confirmed payment cannot be disputed")
        if claim.state is ClaimState.DISPUTED:
            return claim
        claim.state = ClaimState.DISPUTED
        claim.decided_at = now
        claim.decided_by = ConfirmedBy.CREDITOR.value
        claim.dispute_reason = reason
        return claim
