"""`python -m settlement check`, `export-beancount` and `export-fec`: the ledger for operators,
auditors and the tax office."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

from recouvra_shared.errors import Refusal
from settlement.adapters.beancount_export import render_beancount
from settlement.domain.fec import fec_period
from settlement.domain.invariants import INVARIANTS
from settlement.service_layer.fec_export import fec_of
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


def _day(text: str) -> date:
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as bad:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYYMMDD") from bad


async def export_fec(units: Units, args: Sequence[str], out: TextIO) -> int:
    """Write the exercise's FEC as `<SIREN>FEC<closing>.txt` in --output (default: here); a
    refusal (bad SIREN, empty period) is printed with its field and rule, exit status 2."""
    parser = argparse.ArgumentParser(
        prog="python -m settlement export-fec",
        description="The Fichier des écritures comptables of an exercise (LPF A47 A-1).",
    )
    parser.add_argument("--siren", required=True, help="the platform's SIREN (9 digits)")
    parser.add_argument("--closing", required=True, type=_day, help="closing date, YYYYMMDD")
    parser.add_argument(
        "--opening", type=_day, help="first day, YYYYMMDD (default: twelve months before)"
    )
    parser.add_argument("--output", type=Path, default=Path("."), help="folder to write in")
    options = parser.parse_args(args)
    try:
        period = fec_period(options.siren, options.closing, options.opening)
        content = await fec_of(units(), period)
    except Refusal as refused:
        for violation in refused.violations:
            out.write(f"refused: {violation.field}: {violation.rule}\n")
        return 2
    target = options.output / period.file_name
    target.write_bytes(content)
    out.write(f"{target}\n")
    return 0
