"""The chart of accounts: what each account means, in the French PCG's numbering.

The platform holds debtors' money for creditors in a client-money bank account kept apart from its
own (Code des procédures civiles d'exécution R124-2); what it holds is owed to each creditor, out
of which providers' fees are paid. Only the platform's commission is its revenue. Accounts that
name a third party (a creditor, a provider, a partner) are sub-accounts of their class, one per
party, as an accountant keeps auxiliary accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from recouvra_shared.errors import InvalidField


class AccountType(StrEnum):
    """The five kinds of account; assets and expenses carry debit balances, the rest credit."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        """Whether a debit increases this kind of account."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class PartyKind(StrEnum):
    """Who a sub-account is kept for."""

    CREDITOR = "creditor"
    PROVIDER = "provider"
    PARTNER = "partner"


@dataclass(frozen=True)
class AccountClass:
    """One heading of the chart: its PCG number, its name, its type, whose sub-accounts it has."""

    number: str
    name: str
    type: AccountType
    party: PartyKind | None = None
    # Beancount's account component (ASCII, starts with a digit): the export's name for it.
    slug: str = ""


CLIENT_MONEY_BANK = AccountClass(
    "5121", "Banque - compte de fonds de tiers (R124-2 CPCE)", AccountType.ASSET,
    slug="5121-Banque-fonds-de-tiers",
)  # fmt: skip
PLATFORM_BANK = AccountClass(
    "5122", "Banque - compte propre de la plateforme", AccountType.ASSET,
    slug="5122-Banque-compte-propre",
)  # fmt: skip
FUNDS_HELD = AccountClass(
    "4671", "Fonds encaissés pour le compte des créanciers", AccountType.LIABILITY,
    PartyKind.CREDITOR, "4671-Fonds-detenus-creanciers",
)  # fmt: skip
PROVIDER_FEES = AccountClass(
    "4011", "Fournisseurs - honoraires de résultat des prestataires", AccountType.LIABILITY,
    PartyKind.PROVIDER, "4011-Fournisseurs-prestataires",
)  # fmt: skip
REFERRAL_COMMISSIONS = AccountClass(
    "4012", "Fournisseurs - commissions dues aux partenaires apporteurs", AccountType.LIABILITY,
    PartyKind.PARTNER, "4012-Fournisseurs-partenaires",
)  # fmt: skip
CREDITOR_RECEIVABLES = AccountClass(
    "4111", "Clients - créances sur les créanciers (frais dus)", AccountType.ASSET,
    PartyKind.CREDITOR, "4111-Clients-creanciers",
)  # fmt: skip
VAT_COLLECTED = AccountClass(
    "44571", "État - TVA collectée", AccountType.LIABILITY, slug="44571-TVA-collectee",
)  # fmt: skip
SUSPENSE = AccountClass(
    "471", "Compte d'attente - encaissements à identifier", AccountType.LIABILITY,
    slug="471-Compte-attente",
)  # fmt: skip
PLATFORM_REVENUE = AccountClass(
    "706", "Prestations de services - commissions de la plateforme", AccountType.INCOME,
    slug="706-Prestations-de-services",
)  # fmt: skip
ANNOUNCED_TO_COLLECT = AccountClass(
    "5112", "Valeurs à l'encaissement - virements annoncés (paiement par lien)", AccountType.ASSET,
    slug="5112-Virements-annonces",
)  # fmt: skip
ANNOUNCED_PAYMENTS = AccountClass(
    "4718", "Compte d'attente - paiements annoncés, non encore reçus", AccountType.LIABILITY,
    slug="4718-Paiements-annonces",
)  # fmt: skip
REFERRAL_EXPENSE = AccountClass(
    "6222", "Commissions et courtages - apporteurs d'affaires", AccountType.EXPENSE,
    slug="6222-Commissions-apporteurs",
)  # fmt: skip

CHART: dict[str, AccountClass] = {
    c.number: c
    for c in (
        CLIENT_MONEY_BANK,
        PLATFORM_BANK,
        FUNDS_HELD,
        PROVIDER_FEES,
        REFERRAL_COMMISSIONS,
        CREDITOR_RECEIVABLES,
        VAT_COLLECTED,
        SUSPENSE,
        PLATFORM_REVENUE,
        REFERRAL_EXPENSE,
        ANNOUNCED_TO_COLLECT,
        ANNOUNCED_PAYMENTS,
    )
}

_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Account:
    """An account of the ledger: a class of the chart, for one party when the class has them."""

    account_class: AccountClass
    party_id: str | None = None

    @property
    def code(self) -> str:
        """The account's key in the ledger: the PCG number, then `/party` for a sub-account."""
        if self.party_id is None:
            return self.account_class.number
        return f"{self.account_class.number}/{self.party_id}"

    @property
    def name(self) -> str:
        """The heading's name, with the party it is kept for."""
        base = self.account_class.name
        return base if self.party_id is None else f"{base} - {self.party_id}"

    @property
    def type(self) -> AccountType:
        """Its class's type."""
        return self.account_class.type


def account(account_class: AccountClass, party_id: str | None = None) -> Account:
    """An account of the chart; a party is required exactly where the class keeps sub-accounts."""
    if account_class.number not in CHART or CHART[account_class.number] != account_class:
        raise InvalidField("account", f"{account_class.number} is not in the chart of accounts")
    if account_class.party is None:
        if party_id is not None:
            raise InvalidField("account", f"{account_class.number} keeps no sub-account per party")
        return Account(account_class)
    if party_id is None or not _PARTY_ID.match(party_id):
        raise InvalidField(
            "account",
            f"{account_class.number} needs the {account_class.party} id (letters, digits, . _ -, "
            "at most 64)",
        )
    return Account(account_class, party_id)


def account_of_code(code: str) -> Account:
    """The account a ledger code names (`4671/creditor-1`), refused when the chart lacks it."""
    number, _, party = code.partition("/")
    found = CHART.get(number)
    if found is None:
        raise InvalidField("account", f"{number} is not in the chart of accounts")
    return account(found, party or None)
