"""`python -m settlement check` and `python -m settlement export-beancount`: the ledger for
operators and auditors."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from settlement.adapters.beancount_export import render_beancount
from settlement.domain.invariants import INVARIANTS
from settlement.service_layer.reads import check_ledger, journal_and_closing
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

Units = Callable[[], SettlementUnitOfWork]


async def check(units: Units, out: TextIO) -> int:
    """Verify every invariant; name each one broken and where. Exit status 1 when any is."""
    checked = await check_ledger(units())
    breaches = checked.breaches
    broken = {b.invariant for b in breaches}
    for name, meaning in INVARIANTS.items():
        out.write(f"{'BROKEN' if name in broken else 'ok':6} {name}: {meaning}\n")
    for breach in breaches:
        out.write(f"  {breach}\n")
    out.write(
        f"{checked.entries} entries, {checked.lines} lines, {checked.accounts} accounts: "
        + (f"{len(broken)} invariant(s) broken\n" if broken else "every invariant holds\n")
    )
    return 1 if breaches else 0


async def export_beancount(units: Units, args: Sequence[str], out: TextIO) -> int:
    """Write the ledger as a beancount file (to --output, else to standard output)."""
    parser = argparse.ArgumentParser(
        prog="python -m settlement export-beancount",
        description="The whole ledger as beancount, with each account's closing balance "
        "asserted, for bean-check to verify independently.",
    )
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    options = parser.parse_args(args)
    rows, closing = await journal_and_closing(units())
    text = render_beancount(rows, closing)
    if options.output is None:
        out.write(text)
    else:
        options.output.write_text(text, encoding="utf-8")
    return 0
