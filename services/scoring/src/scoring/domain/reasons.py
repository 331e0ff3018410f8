"""Reason codes: the features that moved a case furthest from a reference case, in plain words."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scoring.domain.features import FEATURES, LinearModel

# Per feature: the reason code and its plain words when it helps, then when it hurts.
REASONS: Mapping[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "age": (
        ("debt-recent", "The invoice is recently overdue; recent debts are recovered most often."),
        (
            "debt-old",
            "The invoice has been overdue for a long time; old debts are harder to recover.",
        ),
    ),
    "time_barred": (
        ("", ""),
        ("claim-may-be-time-barred", "The claim may be past its legal limitation period."),
    ),
    "amount": (
        ("amount-small", "The amount is small, which debtors settle more readily."),
        ("amount-large", "The amount is large, which debtors settle less readily."),
    ),
    "disputed": (
        ("", ""),
        (
            "claim-disputed",
            "The debtor disputes the invoice; it will need proof and may need a judge.",
        ),
    ),
    "business": (
        ("", ""),
        (
            "debtor-is-a-consumer",
            "The debtor is a consumer: no B2B late-payment interest or indemnity applies.",
        ),
    ),
    "partly_paid": (
        (
            "partly-paid",
            "The debtor has already paid part of the amount, a sign of willingness to pay.",
        ),
        ("", ""),
    ),
    "extra_invoices": (
        ("", ""),
        ("several-invoices-unpaid", "Several invoices to this creditor are unpaid."),
    ),
    "no_evidence": (
        ("", ""),
        ("evidence-missing", "No evidence (signed quote, terms, delivery proof) backs the claim."),
    ),
    "company_young": (
        ("", ""),
        ("company-recently-created", "The debtor company was created less than two years ago."),
    ),
    "company_large": (
        ("company-established-size", "The debtor company employs 50 people or more."),
        ("", ""),
    ),
    "company_ceased": (
        ("", ""),
        ("company-ceased", "The debtor company is registered as ceased."),
    ),
    "insolvent": (
        ("", ""),
        (
            "debtor-in-insolvency-proceedings",
            "The debtor is in insolvency proceedings: the claim must be declared, not chased.",
        ),
    ),
    "company_unverified": (
        ("", ""),
        (
            "company-not-found-in-registry",
            "The debtor company could not be found in the company registry.",
        ),
    ),
    "history_paid": (
        ("debtor-paid-before", "This debtor has paid other debts collected through the platform."),
        ("", ""),
    ),
    "history_unpaid": (
        ("", ""),
        (
            "debtor-has-unpaid-debts",
            "This debtor has other debts on the platform that remain unpaid.",
        ),
    ),
    "history_lateness": (
        ("", ""),
        ("debtor-pays-late", "When this debtor paid debts on the platform, it paid late."),
    ),
}

REASON_TEXT: Mapping[str, str] = {
    code: text for pair in REASONS.values() for code, text in pair if code
}
MAX_REASONS = 4
MIN_REASON_WEIGHT = 0.1

# The reference case reasons are measured against: 30 days overdue, EUR 1,000, a business.
REFERENCE: Mapping[str, float] = {name: 0.0 for name in FEATURES} | {
    "age": math.log(2.0),
    "business": 1.0,
}


@dataclass(frozen=True)
class Reason:
    """One factor that moved the score, with its plain words and its weight in log-odds."""

    code: str
    text: str
    weight: float


def reasons_of(model: LinearModel, x: Mapping[str, float]) -> tuple[Reason, ...]:
    """The features that moved this case furthest from the reference case, largest first."""
    moved = []
    for name in FEATURES:
        weight = model.weights.get(name, 0.0) * (x[name] - REFERENCE[name])
        code, text = REASONS[name][0 if weight > 0 else 1]
        if code and abs(weight) >= MIN_REASON_WEIGHT:
            moved.append(Reason(code=code, text=text, weight=round(weight, 4)))
    moved.sort(key=lambda r: (r.code != "debtor-in-insolvency-proceedings", -abs(r.weight)))
    return tuple(moved[:MAX_REASONS])
