"""Entries a test books: a debtor's payment reaching the client-money account, and its fee."""

from __future__ import annotations

from datetime import date

from settlement.domain.accounts import (
    CLIENT_MONEY_BANK,
    FUNDS_HELD,
    PLATFORM_REVENUE,
    PROVIDER_FEES,
    VAT_COLLECTED,
    account,
)
from settlement.domain.commands import PostEntry
from settlement.domain.ledger import Journal, credit, debit

BANK = account(CLIENT_MONEY_BANK)
HELD = account(FUNDS_HELD, "cred-1")
FEES = account(PROVIDER_FEES, "prov-1")
REVENUE = account(PLATFORM_REVENUE)
VAT = account(VAT_COLLECTED)


def receipt(fact: str, cents: int, on: date, case_id: str = "case-1") -> PostEntry:
    """A debtor's transfer received for creditor cred-1's case."""
    return PostEntry(
        fact_key=f"bank-line:{fact}",
        booked_on=on,
        journal=Journal.BANK,
        description=f"Debtor payment for {case_id}",
        lines=(debit(BANK, cents, case_id), credit(HELD, cents, case_id)),
    )


def success_fee(fact: str, fee: int, vat: int, commission: int, commission_vat: int, on: date):
    """The provider's fee (with its VAT) taken from the creditor's funds, and the platform's
    commission (with its VAT) taken from the provider's fee."""
    return PostEntry(
        fact_key=f"event:{fact}",
        booked_on=on,
        journal=Journal.MISC,
        description="Success fee on case-1",
        lines=(
            debit(HELD, fee + vat, "case-1"),
            credit(FEES, fee + vat, "case-1"),
            debit(FEES, commission + commission_vat, "case-1"),
            credit(REVENUE, commission, "case-1"),
            credit(VAT, commission_vat, "case-1"),
        ),
    )
