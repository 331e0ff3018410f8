"""What intake and scoring said of a case, kept until both are here and the auction can open."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from matching.domain.providers import NOT_AUCTIONED_STRATEGIES, CaseFile, check_case_facts


@dataclass(frozen=True)
class SubmittedFacts:
    """What case-submitted said: the creditor, the amount and the debtor's kind and region."""

    creditor_id: str
    currency: str
    amount_minor: int
    debtor_is_business: bool
    due_date: str
    region: str = ""


@dataclass(frozen=True)
class ScoredFacts:
    """What case-scored said: segment, strategy and the odds of recovery."""

    segment: str
    strategy: str
    trustscore: int
    recovery_probability: str
    reason_codes: tuple[str, ...]
    debtor_insolvent: bool

    @property
    def auctioned(self) -> bool:
        """A debtor in insolvency proceedings, or a claim declared to the court, is not chased."""
        return not self.debtor_insolvent and self.strategy not in NOT_AUCTIONED_STRATEGIES


@dataclass(frozen=True)
class EarlyPayment:
    """A payment the creditor declared before the case's auction opened."""

    payment_id: str
    amount_minor: int
    paid_on: date
    settles_in_full: bool


@dataclass(frozen=True)
class BeforeAuction:
    """What happened to a case before its auction could open: a withdrawal, payments."""

    withdrawn: bool = False
    payments: tuple[EarlyPayment, ...] = ()

    def with_payment(self, payment: EarlyPayment) -> BeforeAuction:
        """The same history with one more payment."""
        return replace(self, payments=(*self.payments, payment))

    def after_withdrawal(self) -> BeforeAuction:
        """The same history, withdrawn."""
        return replace(self, withdrawn=True)

    def ends_matching(self, amount_minor: int) -> bool:
        """Withdrawn or paid before anyone could bid: nothing to auction."""
        paid = sum(p.amount_minor for p in self.payments)
        return (
            self.withdrawn or any(p.settles_in_full for p in self.payments) or paid >= amount_minor
        )


def case_file(case_id: str, submitted: SubmittedFacts, scored: ScoredFacts) -> CaseFile:
    """The case as it is auctioned, from both facts; refused when it cannot be auctioned."""
    case = CaseFile(
        case_id=case_id,
        creditor_id=submitted.creditor_id,
        currency=submitted.currency,
        amount_minor=submitted.amount_minor,
        debtor_is_business=submitted.debtor_is_business,
        due_date=submitted.due_date,
        region=submitted.region,
        segment=scored.segment,
        strategy=scored.strategy,
        trustscore=scored.trustscore,
        recovery_probability=Decimal(scored.recovery_probability or "0"),
        reason_codes=scored.reason_codes,
    )
    check_case_facts(case.currency, case.amount_minor, case.recovery_probability)
    return case


@dataclass(frozen=True)
class CaseSubmittedFact:
    """Intake took a case in."""

    case_id: str
    submitted: SubmittedFacts


@dataclass(frozen=True)
class CaseScoredFact:
    """Scoring scored a case (for this creditor)."""

    case_id: str
    creditor_id: str
    scored: ScoredFacts


@dataclass(frozen=True)
class PaymentDeclaredFact:
    """The creditor declared a payment it received; paid_on as the event said it."""

    case_id: str
    creditor_id: str
    payment_id: str
    amount_minor: int
    paid_on: str
    settles_in_full: bool


@dataclass(frozen=True)
class CaseWithdrawnFact:
    """The creditor withdrew a case."""

    case_id: str
    creditor_id: str
