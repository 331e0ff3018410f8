"""A portfolio simulator: realistic synthetic cases whose true chance of recovery is known.

It exists for tests, training demonstrations and benchmarks. Its "truth" is a model we wrote,
so any accuracy measured on it says how well a method recovers *this* model, never how accurate
scoring is on real debts.

How a case is drawn (per case, from a seeded generator, so a seed always gives the same book):
- amount: log-normal, median about EUR 1,800 (SME invoices), from EUR 50 to about EUR 200,000;
- days past due at scoring: log-normal, median about 45 days, capped at 7 years;
- 85% business debtors; 8% disputed; 15% partly paid (10-60% of the amount);
- 1 invoice, sometimes more (Poisson); evidence present 85%, absent 7%, unknown 8%;
- for business debtors: 85% found in the registry (age exponential with mean 9 years; 3% ceased,
  2% in collective proceedings, 12% with 50 employees or more);
- platform history: Poisson(0.7) other cases, each paid with a chance that depends on a hidden
  debtor "reliability", paid cases late by an exponential number of days.

The true log-odds of recovery share the scorecard's directions but not its shape: age hurts more
after six months, disputes hurt large claims more, and the debtor's hidden reliability (only
partly visible through its history) adds noise the features cannot explain.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from scoring.domain.facts import CaseFacts, CompanyFacts, DebtorHistory, ScoringInputs

AS_OF = date(2026, 6, 30)


@dataclass(frozen=True)
class SimulatedCase:
    """One synthetic case, its true probability of recovery and the outcome drawn from it."""

    inputs: ScoringInputs
    as_of: date
    true_probability: float
    recovered: bool


def _siren(rng: random.Random) -> str:
    """A random 9-digit SIREN with a valid Luhn check digit."""
    digits = [rng.randrange(10) for _ in range(8)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        doubled = d * 2 if i % 2 == 0 else d
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _true_logit(inputs: ScoringInputs, as_of: date, reliability: float) -> float:
    case, company, history = inputs.case, inputs.company, inputs.history
    days = case.days_past_due(as_of)
    months = days / 30
    amount = math.log10(max(case.outstanding_minor / 100, 1) / 1000)
    logit = 1.9 - 0.35 * math.log1p(months) - 0.004 * max(0, days - 180)
    logit -= 0.25 * amount
    if case.disputed:
        logit -= 0.9 + 0.4 * max(0.0, amount)
    logit += 0.3 if case.debtor_is_business else -0.1
    logit += 1.3 * case.paid_minor / case.amount_minor
    logit -= 0.25 * math.log(case.invoice_count)
    logit -= 0.8 if case.evidence_present is False else 0.0
    if days > case.prescription_days:
        logit -= 2.5
    if company is not None:
        age = company.age_years(as_of) or 0.0
        logit -= 0.6 if age < 2 else 0.0
        logit += 0.2 if company.size_band >= "21" else 0.0
        logit -= 2.0 if not company.active else 0.0
        logit -= 3.0 if company.in_insolvency_proceedings else 0.0
    elif case.debtor_is_business:
        logit -= 0.4
    logit += 0.5 * reliability
    logit += 0.2 * history.paid_cases - 0.5 * history.unpaid_cases
    logit -= 0.2 * min(3.0, history.average_days_late_when_paid / 100)
    return logit


def simulate_case(rng: random.Random, as_of: date = AS_OF) -> SimulatedCase:
    """Draw one case (see the module doc for the distributions)."""
    amount_minor = int(min(20_000_000, max(5_000, rng.lognormvariate(math.log(180_000), 1.1))))
    days_past_due = int(min(7 * 365, rng.lognormvariate(math.log(45), 1.0)))
    business = rng.random() < 0.85
    paid_minor = 0
    if rng.random() < 0.15:
        paid_minor = int(amount_minor * rng.uniform(0.1, 0.6))
    invoices = 1
    while rng.random() < 0.3 and invoices < 12:
        invoices += 1
    evidence_roll = rng.random()
    evidence = True if evidence_roll < 0.85 else (False if evidence_roll < 0.92 else None)
    company = None
    siren = None
    if business and rng.random() < 0.85:
        siren = _siren(rng)
        ceased = rng.random() < 0.03
        company = CompanyFacts(
            siren=siren,
            name=f"Simulated {siren}",
            created_on=as_of - timedelta(days=int(rng.expovariate(1 / (9 * 365.25)))),
            legal_category="5710",
            size_band="21" if rng.random() < 0.12 else "03",
            active=not ceased,
            insolvency_proceedings=(
                "Jugement d'ouverture de redressement judiciaire" if rng.random() < 0.02 else None
            ),
        )
    reliability = rng.gauss(0.0, 1.0)
    other_cases = 0
    while rng.random() < 0.4 and other_cases < 10:
        other_cases += 1
    pay_chance = 1 / (1 + math.exp(-(0.8 + reliability)))
    paid_cases = sum(rng.random() < pay_chance for _ in range(other_cases))
    lateness = (
        sum(rng.expovariate(1 / (40 + 30 * max(0.0, -reliability))) for _ in range(paid_cases))
        / paid_cases
        if paid_cases
        else 0.0
    )
    inputs = ScoringInputs(
        case=CaseFacts(
            amount_minor=amount_minor,
            due_date=as_of - timedelta(days=days_past_due),
            debtor_is_business=business,
            disputed=rng.random() < 0.08,
            paid_minor=paid_minor,
            invoice_count=invoices,
            evidence_present=evidence,
            debtor_siren=siren,
        ),
        company=company,
        history=DebtorHistory(
            other_cases=other_cases,
            paid_cases=paid_cases,
            unpaid_cases=other_cases - paid_cases,
            average_days_late_when_paid=round(lateness, 1),
        ),
    )
    probability = 1 / (1 + math.exp(-_true_logit(inputs, as_of, reliability)))
    return SimulatedCase(
        inputs=inputs,
        as_of=as_of,
        true_probability=probability,
        recovered=rng.random() < probability,
    )


def simulate_portfolio(cases: int, seed: int, as_of: date = AS_OF) -> Iterator[SimulatedCase]:
    """A reproducible book of `cases` synthetic cases."""
    rng = random.Random(seed)
    for _ in range(cases):
        yield simulate_case(rng, as_of)
