"""`python -m intake rates import FILE|- [--downloaded-on YYYY-MM-DD]`: an operator brings the ECB
main refinancing rate table up to date from the ECB Data Portal's CSV export of series
FM.B.U2.EUR.4F.KR.MRR_FR.LEV (see services/intake/README.md).

The file is refused, changing nothing, when it is not that series' export, when a date or a rate
does not parse, when its dates do not increase, or when it contradicts the verified table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from intake.domain.commands import ImportRates
from recouvra_shared.errors import Refusal
from recouvra_shared.legal.ecb_rates import RateImport

ImportRateFile = Callable[[ImportRates], Coroutine[Any, Any, RateImport]]
REFUSED = 2


def summary(done: RateImport) -> str:
    """What the import changed, in one operator-readable paragraph."""
    added = ", ".join(f"{day} {rate}%" for day, rate in done.added) or "none"
    return (
        f"ECB rate changes added: {added}\n"
        f"verified through {done.table.verified_through} "
        f"(was {done.previously_verified_through})\n"
    )


def run(
    argv: Sequence[str] | None,
    import_rate_file: ImportRateFile,
    out: TextIO,
    stdin: BinaryIO | None = None,
) -> int:
    """Import one file ('-': standard input); the exit status: 0 imported, 2 refused (with why
    on `out`)."""
    parser = argparse.ArgumentParser(prog="python -m intake rates", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="import an ECB Data Portal CSV export")
    importing.add_argument(
        "file", type=Path, help="the CSV file downloaded from the portal ('-': standard input)"
    )
    importing.add_argument(
        "--downloaded-on",
        default="",
        help="the day the file was downloaded (YYYY-MM-DD): the table is verified through it",
    )
    args = parser.parse_args(argv)
    reading_stdin = str(args.file) == "-"
    try:
        content = (stdin or sys.stdin.buffer).read() if reading_stdin else args.file.read_bytes()
    except OSError as exc:
        out.write(f"refused: file: cannot be read ({exc.strerror})\n")
        return REFUSED
    name = "standard input" if reading_stdin else args.file.name
    command = ImportRates(content, name, args.downloaded_on)
    try:
        done = asyncio.run(import_rate_file(command))
    except Refusal as refusal:
        reasons = [str(v) for v in refusal.violations] or [refusal.message]
        out.write("refused, nothing changed:\n" + "".join(f"  {r}\n" for r in reasons))
        return REFUSED
    out.write(summary(done))
    return 0


def main(argv: Sequence[str] | None, *, import_rate_file: ImportRateFile) -> None:
    """Command line of the rate import."""
    sys.exit(run(argv, import_rate_file, sys.stdout))
