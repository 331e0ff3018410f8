"""`python -m settlement billing ...`: operators set providers' VAT status and creditors'
referring partners (each change audited with who made it and why), and who each party is on its
invoices (`billing identity`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TextIO

from recouvra_shared.errors import Refusal
from settlement.domain.fee_commands import SetCreditorBilling, SetProviderBilling
from settlement.domain.invoices import InvoiceParty, PartyRole
from settlement.service_layer.billing import (
    billing_history,
    set_creditor_billing,
    set_provider_billing,
)
from settlement.service_layer.invoice_issuing import set_billing_identity
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

Units = Callable[[], SettlementUnitOfWork]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m settlement billing",
        description="Billing profiles: a provider's VAT status, a creditor's referring partner.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    provider = commands.add_parser("provider", help="set a provider's VAT status")
    provider.add_argument("provider_id")
    provider.add_argument("--vat", required=True, choices=["liable", "franchise"])
    provider.add_argument("--vat-number", help="required when liable (e.g. FR40303265045)")
    creditor = commands.add_parser("creditor", help="set or clear a creditor's referring partner")
    creditor.add_argument("creditor_id")
    partner = creditor.add_mutually_exclusive_group(required=True)
    partner.add_argument("--partner", help="the partner that referred it")
    partner.add_argument("--no-partner", action="store_true", help="nobody referred it")
    for command in (provider, creditor):
        command.add_argument("--operator", required=True, help="who makes the change")
        command.add_argument("--reason", required=True, help="why (kept in the audit)")
    identity = commands.add_parser(
        "identity", help="set who a creditor or provider is on its invoices"
    )
    identity.add_argument("role", choices=["creditor", "provider"])
    identity.add_argument("party_id")
    for name in ("name", "address", "postcode", "city", "siren"):
        identity.add_argument(f"--{name}", required=True)
    identity.add_argument("--vat-number", help="its EU VAT number, if registered for VAT")
    identity.add_argument("--country", default="FR", help="ISO 3166 alpha-2 (default FR)")
    identity.add_argument("--operator", required=True, help="who sets it")
    history = commands.add_parser("history", help="the audit of changes")
    history.add_argument("party_id", nargs="?")
    return parser


async def billing(units: Units, args: Sequence[str], out: TextIO) -> int:
    """Run one billing command; a refusal is printed with its fields and exits 2."""
    options = _parser().parse_args(args)
    try:
        if options.command == "provider":
            profile = await set_provider_billing(
                SetProviderBilling(
                    options.provider_id,
                    options.vat,
                    options.vat_number,
                    options.operator,
                    options.reason,
                ),
                units(),
            )
            out.write(f"provider {profile.provider_id}: {profile.vat_status.value}")
            out.write(f" {profile.vat_number}\n" if profile.vat_number else "\n")
        elif options.command == "creditor":
            creditor = await set_creditor_billing(
                SetCreditorBilling(
                    options.creditor_id, options.partner, options.operator, options.reason
                ),
                units(),
            )
            partner = creditor.referring_partner_id or "no referring partner"
            out.write(f"creditor {creditor.creditor_id}: {partner}\n")
        elif options.command == "identity":
            party = await set_billing_identity(
                InvoiceParty(
                    PartyRole(options.role),
                    options.party_id,
                    options.name,
                    options.address,
                    options.postcode,
                    options.city,
                    options.siren,
                    options.vat_number,
                    options.country,
                ),
                options.operator,
                units(),
            )
            out.write(f"{party.role.value} {party.party_id}: {party.name}, SIREN {party.siren}\n")
        else:
            for change in await billing_history(units(), options.party_id):
                out.write(
                    f"{change.changed_at.isoformat()} {change.subject_kind} {change.subject_id} "
                    f"by {change.operator}: {change.before} -> {change.after} ({change.reason})\n"
                )
    except Refusal as refused:
        for violation in refused.violations:
            out.write(f"refused: {violation.field}: {violation.rule}\n")
        if not refused.violations:
            out.write(f"refused: {refused}\n")
        return 2
    return 0
