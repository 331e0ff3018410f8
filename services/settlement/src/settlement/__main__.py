"""`python -m settlement [serve|migrate|check|export-beancount [--output FILE]|
import-statement FILE]`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from recouvra_shared.db import Database
from recouvra_shared.logging import configure_logging
from recouvra_shared.runtime import run_cli
from settlement.bootstrap import account_of, build, units_of
from settlement.config import SettlementSettings
from settlement.entrypoints import ledger_commands, statement_commands

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


async def _ledger_command(settings: SettlementSettings, args: Sequence[str]) -> int:
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    units = units_of(database)
    try:
        if args[0] == "check":
            return await ledger_commands.check(units, sys.stdout)
        if args[0] == "import-statement":
            iban = account_of(settings).iban
            return await statement_commands.import_statement_file(units, iban, args[1:], sys.stdout)
        return await ledger_commands.export_beancount(units, args[1:], sys.stdout)
    finally:
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the settlement service, check or export its ledger, or import a statement."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("check", "export-beancount", "import-statement"):
        settings = SettlementSettings()
        configure_logging(settings.service_name, settings.log_level)
        sys.exit(asyncio.run(_ledger_command(settings, args)))
    run_cli(SettlementSettings, build, MIGRATIONS, args)


if __name__ == "__main__":
    main()
