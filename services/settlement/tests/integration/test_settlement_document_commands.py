"""`python -m settlement statement` and `invoices` on the real database, as operators run them."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.builders import receipt, success_fee
from services.settlement.tests.unit.invoice_builders import PlainRenderer, provider_fee
from settlement.service_layer.invoices import issue_invoice
from settlement.service_layer.ledger import post_entry

pytestmark = pytest.mark.integration


async def test_an_operator_writes_statements_and_invoices_to_files(
    ledger: Ledger, tmp_path: Path
) -> None:
    await post_entry(receipt("L1", 120_000, date(2026, 12, 1)), ledger.units())
    await post_entry(
        success_fee("f-1", 18_000, 3_600, 3_600, 720, date(2026, 12, 2)), ledger.units()
    )
    fee = await issue_invoice(provider_fee(), ledger.units(), PlainRenderer())
    written = ledger.command(
        "statement", "--provider", "prov-1", "--month", "2026-12", "--output", str(tmp_path)
    )
    assert written.returncode == 0, written.stdout + written.stderr
    content = (tmp_path / "statement-provider-prov-1-2026-12.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(content), delimiter=";"))
    assert Decimal(rows[-1]["credit"]) == Decimal("172.80")  # 216.00 fee - 43.20 commission
    listed = ledger.command("invoices")
    assert listed.returncode == 0, listed.stderr
    assert f"{fee.invoice.invoice_id}  HON-prov-1-000001  2026-12-02" in listed.stdout
    downloaded = ledger.command(
        "invoices", "--download", fee.invoice.invoice_id, "--output", str(tmp_path)
    )
    assert downloaded.returncode == 0, downloaded.stderr
    assert (tmp_path / "HON-prov-1-000001.pdf").read_bytes() == b"%PDF HON-prov-1-000001"
    refused = ledger.command("statement", "--creditor", "cred-1", "--month", "2026-13")
    assert refused.returncode == 2
    assert "refused: month: a month as YYYY-MM" in refused.stdout
