"""`python -m settlement import-statement FILE`: an operator imports a camt.053 statement or a
camt.054 intraday notification."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from recouvra_shared.errors import Refusal
from settlement.adapters.camt054 import read_bank_file
from settlement.service_layer.statement_import import import_statement
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def import_statement_file(
    units: Callable[[], SettlementUnitOfWork],
    client_money_iban: str,
    args: Sequence[str],
    out: TextIO,
) -> int:
    """Import every statement of the file; print what each line became. Exit status 1 when
    the file is refused (each element named), 0 otherwise (a statement imported before
    included: it is a no-op)."""
    parser = argparse.ArgumentParser(
        prog="python -m settlement import-statement",
        description="Import a camt.053 statement or a camt.054 intraday notification "
        "(.001.02 or .001.08) of the client-money account: each booked line is matched and "
        "booked once, and a statement line a notification booked before books nothing.",
    )
    parser.add_argument("file", type=Path)
    options = parser.parse_args(args)
    try:
        statements = read_bank_file(options.file.read_bytes())
        for statement in statements:
            report = await import_statement(statement, units, client_money_iban)
            kind = "notification" if statement.intraday else "statement"
            out.write(
                f"{kind} {report.statement_id} of {report.account_iban}: "
                + (
                    "imported before, nothing done\n"
                    if report.already_imported
                    else f"{report.lines} lines: {report.by_reference} by reference, "
                    f"{report.by_amount} by amount, {report.suspense} in suspense, "
                    f"{report.reversed} reversed, {report.unmatched_debits} unmatched debits, "
                    f"{report.ignored} other debits ignored, {report.known} booked before, "
                    f"{report.already_booked} already booked from the "
                    f"{'statement' if statement.intraday else 'notification'}\n"
                )
            )
    except Refusal as refused:
        out.write(f"refused, nothing booked: {refused}\n")
        for violation in refused.violations:
            out.write(f"  {violation.field}: {violation.rule}\n")
        return 1
    return 0
