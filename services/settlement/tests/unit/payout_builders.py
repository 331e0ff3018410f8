"""Books and people a payout test needs: receipts and fees posted through the ledger's use case,
payees entered and confirmed by two operators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from settlement.domain.accounts import (
    CLIENT_MONEY_BANK,
    CREDITOR_RECEIVABLES,
    FUNDS_HELD,
    PLATFORM_REVENUE,
    PROVIDER_FEES,
    REFERRAL_COMMISSIONS,
    REFERRAL_EXPENSE,
    account,
)
from settlement.domain.commands import PostEntry
from settlement.domain.ledger import Journal, credit, debit
from settlement.domain.payment_instructions import client_money_account
from settlement.domain.payout_commands import ConfirmPayeeAccount, SetPayeeAccount
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.payee_accounts import confirm_payee_account, set_payee_account
from settlement.service_layer.payouts import BankSide
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

Units = Callable[[], SettlementUnitOfWork]
BANK_SIDE = BankSide(
    client_money_account("Recouvra SAS fonds de tiers", "FR7630006000011234567890189", "AGRIFRPP"),
    "DE98ZZZ09999999999",
)
IBANS = {
    "cred-1": ("DE89370400440532013000", "COBADEFFXXX"),
    "cred-2": ("FR1420041010050500013M02606", "PSSTFRPPPAR"),
    "prov-1": ("NL91ABNA0417164300", "ABNANL2A"),
    "part-1": ("FR1420041010050500013M02606", None),
}


def clock(day: date) -> Callable[[], datetime]:
    """A clock stopped at nine in the morning of `day`."""
    return lambda: datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


async def money_in(units: Units, fact: str, creditor: str, cents: int, on: date) -> None:
    """A debtor's transfer for `creditor`, read from the bank statement."""
    bank, held = account(CLIENT_MONEY_BANK), account(FUNDS_HELD, creditor)
    await post_entry(
        PostEntry(f"bank-line:{fact}", on, Journal.BANK, f"Receipt {fact}",
                  (debit(bank, cents, "case-1"), credit(held, cents, "case-1"))),
        units(),
    )  # fmt: skip


async def fee_taken(
    units: Units, fact: str, creditor: str, provider: str, fee: int, on: date
) -> None:
    """A provider's success fee taken from what is held for the creditor."""
    held, fees = account(FUNDS_HELD, creditor), account(PROVIDER_FEES, provider)
    await post_entry(
        PostEntry(f"event:{fact}", on, Journal.MISC, f"Fee {fact}",
                  (debit(held, fee, "case-1"), credit(fees, fee, "case-1"))),
        units(),
    )  # fmt: skip


async def fee_owed(
    units: Units, fact: str, creditor: str, provider: str, fee: int, on: date
) -> None:
    """A fee on money paid directly to the creditor: it owes it (4111)."""
    owed, fees = account(CREDITOR_RECEIVABLES, creditor), account(PROVIDER_FEES, provider)
    await post_entry(
        PostEntry(f"event:{fact}", on, Journal.MISC, f"Fee owed {fact}",
                  (debit(owed, fee, "case-1"), credit(fees, fee, "case-1"))),
        units(),
    )  # fmt: skip


async def commission(
    units: Units, fact: str, provider: str, partner: str, cents: int, share: int, on: date
) -> None:
    """The platform's commission on a provider's fee, and the partner's share of it."""
    fees = account(PROVIDER_FEES, provider)
    await post_entry(
        PostEntry(f"event:{fact}", on, Journal.MISC, f"Commission {fact}", (
            debit(fees, cents), credit(account(PLATFORM_REVENUE), cents),
            debit(account(REFERRAL_EXPENSE), share),
            credit(account(REFERRAL_COMMISSIONS, partner), share),
        )),
        units(),
    )  # fmt: skip


async def payee(
    units: Units,
    kind: str,
    party: str,
    *,
    confirm: bool = True,
    mandate: tuple[str, date] | None = None,
    iban: str | None = None,
) -> None:
    """Bank details entered by alice and, unless told otherwise, confirmed by bob."""
    known_iban, bic = IBANS[party]
    await set_payee_account(
        SetPayeeAccount(
            "alice", kind, party, f"{party} SARL", iban or known_iban, None if iban else bic,
            mandate[0] if mandate else None, mandate[1] if mandate else None,
        ),
        units(),
    )  # fmt: skip
    if confirm:
        await confirm_payee_account(ConfirmPayeeAccount("bob", kind, party), units())
