"""`python -m settlement [serve|migrate|check|export-beancount|export-fec|statement|invoices|
payouts ...|held-funds|receipts CREDITOR|billing ...|import-statement FILE]`; each operator
command explains its options with --help."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from recouvra_shared.db import Database
from recouvra_shared.logging import configure_logging
from recouvra_shared.runtime import run_cli
from settlement.bootstrap import account_of, bank_side_of, build, payout_policy_of, units_of
from settlement.config import SettlementSettings
from settlement.entrypoints import (
    billing_commands,
    document_commands,
    ledger_commands,
    payout_commands,
    statement_commands,
)

OPERATOR_COMMANDS = ("payouts", "held-funds", "receipts")
MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


async def _ledger_command(settings: SettlementSettings, args: Sequence[str]) -> int:
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    units = units_of(database)
    try:
        if args[0] == "check":
            return await ledger_commands.check(units, sys.stdout)
        if args[0] == "payouts":
            return await payout_commands.payouts_command(
                units, payout_policy_of(settings), bank_side_of(settings), args[1:], sys.stdout
            )
        if args[0] == "held-funds":
            return await payout_commands.held_funds_command(
                units, settings.held_funds_warning_days, args[1:], sys.stdout
            )
        if args[0] == "receipts":
            return await payout_commands.receipts_command(units, args[1:], sys.stdout)
        if args[0] == "statement":
            return await document_commands.statement(units, args[1:], sys.stdout)
        if args[0] == "invoices":
            return await document_commands.invoices(units, args[1:], sys.stdout)
        if args[0] == "export-fec":
            return await ledger_commands.export_fec(units, args[1:], sys.stdout)
        if args[0] == "billing":
            return await billing_commands.billing(units, args[1:], sys.stdout)
        if args[0] == "import-statement":
            iban = account_of(settings).iban
            return await statement_commands.import_statement_file(units, iban, args[1:], sys.stdout)
        return await ledger_commands.export_beancount(units, args[1:], sys.stdout)
    finally:
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the settlement service, check or export its ledger, or import a statement."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in (
        "check",
        "export-beancount",
        "export-fec",
        "statement",
        "invoices",
        "billing",
        "import-statement",
        *OPERATOR_COMMANDS,
    ):
        settings = SettlementSettings()
        configure_logging(settings.service_name, settings.log_level)
        sys.exit(asyncio.run(_ledger_command(settings, args)))
    run_cli(SettlementSettings, build, MIGRATIONS, args)


if __name__ == "__main__":
    main()
