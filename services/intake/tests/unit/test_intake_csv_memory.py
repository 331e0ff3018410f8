"""Issue 13, point 10: a 100,000-row CSV import is parsed as it streams. The file is held once
(not joined, hashed or decoded into further copies) and cases go on in batches as they are read:
the parsing grows the process by under 100 MiB, where it grew by about 280 MiB before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROWS = 100_000
LIMIT_MIB = 100
HEADER = (
    "invoice_number,issue_date,due_date,currency,amount_due,debtor_kind,debtor_name,"
    "debtor_siren_or_siret,debtor_address_line1,debtor_postal_code,debtor_city,debtor_country,"
    "debtor_email\n"
)

# Run in a process of its own, so that its peak resident size is this import's alone: the file
# arrives in 1 MiB gRPC messages, is bound to its idempotency key, then read case by case, as
# the import reads it.
MEASURE = """
import asyncio, sys
from intake.domain import csv_import
from intake.entrypoints.grpc_commands import import_command
from intake.service_layer.idempotency import fingerprint
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller, caller_var

def status_mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

def start_measuring():
    # Reset the peak (VmHWM) to what is resident now: the imports above may have peaked higher
    # than they hold, which would hide the parse's own peak.
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return status_mib("VmRSS")

async def main(path):
    caller_var.set(Caller(kind="creditor", subject="c", tenant_id="c"))
    async def messages():
        with open(path, "rb") as f:
            while piece := f.read(1 << 20):
                yield intake_pb2.ImportCasesRequest(creditor_id="c", content=piece)
    before = start_measuring()
    command = await import_command(messages())
    fingerprint("ImportCases", command.content)
    cases = sum(1 for case in csv_import.read_cases(command.content, "c") if case.command)
    print(cases, status_mib("VmHWM") - before)

asyncio.run(main(sys.argv[1]))
"""


def test_issue_13_point_10_a_100000_row_csv_is_parsed_in_under_100_mib(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for i in range(ROWS):
            out.write(
                f"F-{i:07d},2026-08-01,2026-09-01,EUR,1234.56,business,"
                f"Société Générale des Éléphants {i},552100554,12 rue de la Paix,75002,Paris,FR,"
                f"compta{i}@exemple.fr\n"
            )
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    cases, growth = done.stdout.split()
    print(f"{ROWS:,} rows, {path.stat().st_size / 2**20:.1f} MiB: parsing grew by {growth} MiB")
    assert int(cases) == ROWS
    assert float(growth) < LIMIT_MIB
