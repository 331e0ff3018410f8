"""`python -m intake rates import FILE` run as an operator runs it, against the real database:
the import reaches an intake serving that database, and a refused file changes nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from recouvra.intake.v1 import intake_pb2
from recouvra_shared.percentages import percent_text
from services.intake.tests.integration.intake_harness import Intake, company, invoice
from services.intake.tests.integration.test_intake_submit import count

pytestmark = pytest.mark.integration

EXPORT = Path(__file__).parents[1] / "data" / "ecb_mro_export.csv"
ROOT = Path(__file__).parents[4]
CREDITOR = "creditor-a"


async def rates_import(database_url: str, *args: str) -> tuple[int, str]:
    """Run the command in its own process, as an operator would; its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intake",
        "rates",
        "import",
        *args,
        cwd=ROOT,
        env={**os.environ, "RECOUVRA_INTAKE_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def interest_lines(intake: Intake, case_id: str) -> list[intake_pb2.ComputationLine]:
    found = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=case_id, as_of="2026-11-20"),
        metadata=Intake.as_creditor(CREDITOR),
    )
    return [line for line in found.legal_amounts.lines if line.kind == "interest"]


async def test_an_imported_export_reaches_the_serving_intake_and_ends_the_warnings(
    intake: Intake, tmp_path: Path
) -> None:
    url = intake.database.engine.url.render_as_string(hide_password=False)
    reply = await intake.stub.SubmitCase(
        intake_pb2.SubmitCaseRequest(
            creditor_id=CREDITOR,
            debtor=company(),
            invoices=[invoice("F-1", "10000.00", issue_date="2025-11-01", due_date="2025-12-01")],
        ),
        metadata=Intake.as_creditor(CREDITOR),
    )
    before = await interest_lines(intake, reply.case_id)
    assert ["may be missing" in line.explanation for line in before] == [False, True, True]

    wrong = tmp_path / "deposit-facility.csv"
    wrong.write_text(EXPORT.read_text().replace("MRR_FR.LEV", "DFR.LEV"))
    status, output = await rates_import(url, str(wrong))
    assert status == 2
    assert "file: is the series FM.B.U2.EUR.4F.KR.DFR.LEV, not" in output
    assert await count(intake, "ecb_rate_imports") == 0

    status, output = await rates_import(url, str(EXPORT), "--downloaded-on", "2026-11-20")
    assert status == 0, output
    assert output == (
        "ECB rate changes added: 2026-06-17 2.40%, 2026-09-16 2.65%\n"
        "verified through 2026-11-20 (was 2025-10-30)\n"
    )
    after = await interest_lines(intake, reply.case_id)
    assert not any("may be missing" in line.explanation for line in after)
    assert [percent_text(line.rate) for line in after] == ["12.15", "12.15", "12.4"]
    assert await count(intake, "ecb_rate_changes") == 2
