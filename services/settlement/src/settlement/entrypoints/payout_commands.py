"""`python -m settlement payouts ...`, `held-funds` and `receipts`: payouts for operators.

The command line runs with settlement's database credentials and believes the `--operator` it
is given; between people, the four-eyes rule is as strong as the control of those credentials.
The gRPC API (`SettlementService.ApprovePayoutBatch`...) takes the operator from the verified
token instead.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from recouvra_shared.errors import Refusal
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    CancelPayoutBatch,
    ProposePayoutBatch,
    ReleasePayoutBatch,
)
from settlement.domain.payouts import PayoutBatch
from settlement.service_layer import held_funds, payouts
from settlement.service_layer.payouts import BankSide, PayoutPolicy
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

Units = Callable[[], SettlementUnitOfWork]
REFUSED = 2


def euros(cents: int) -> str:
    """Cents as euros with two decimals, for people."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _show(batch: PayoutBatch, out: TextIO) -> None:
    out.write(
        f"batch {batch.batch_id} for {batch.value_date}: {batch.state}, proposed by "
        f"{batch.proposed_by}, approved by {', '.join(batch.approvals) or 'nobody yet'}\n"
    )
    for line in batch.lines:
        out.write(
            f"  {line.kind:12} {line.party_kind:8} {line.party_id:20} {euros(line.amount):>14}"
            f" (gross {euros(line.gross)}, fees offset {euros(line.offset)})"
            f"{' to ' + line.iban if line.iban else ''}\n"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m settlement payouts")
    steps = parser.add_subparsers(dest="step", required=True)
    propose = steps.add_parser("propose", help="gather what is payable into a batch")
    propose.add_argument("--date", type=date.fromisoformat, required=True)
    for name in ("approve", "release", "cancel"):
        step = steps.add_parser(name)
        step.add_argument("batch_id")
    for step in (propose, *(steps.choices[n] for n in ("approve", "release", "cancel"))):
        step.add_argument("--operator", required=True, help="who you are (see the module doc)")
    steps.add_parser("show").add_argument("batch_id")
    download = steps.add_parser("file", help="a released batch's bank file")
    download.add_argument("batch_id")
    download.add_argument("--kind", choices=payouts.FILE_KINDS, default="pain.001")
    download.add_argument("--output", type=Path, help="file to write (default: standard output)")
    return parser


async def _run_payouts(
    options: argparse.Namespace, units: Units, policy: PayoutPolicy, bank: BankSide, out: TextIO
) -> int:
    if options.step == "propose":
        proposal = await payouts.propose_batch(
            ProposePayoutBatch(options.operator, options.date), units(), policy
        )
        _show(proposal.batch, out)
        for left in proposal.skipped:
            out.write(
                f"  left for later: {left.party_kind} {left.party_id} {euros(left.amount)} "
                f"({left.reason})\n"
            )
        return 0
    if options.step == "file":
        content = await payouts.batch_file(options.batch_id, options.kind, units())
        if options.output is None:
            out.write(content.decode("utf-8"))
        else:
            options.output.write_bytes(content)
        return 0
    if options.step == "approve":
        batch = await payouts.approve_batch(
            ApprovePayoutBatch(options.operator, options.batch_id), units()
        )
    elif options.step == "release":
        batch = await payouts.release_batch(
            ReleasePayoutBatch(options.operator, options.batch_id), units, bank
        )
    elif options.step == "cancel":
        batch = await payouts.cancel_batch(
            CancelPayoutBatch(options.operator, options.batch_id), units()
        )
    else:
        batch = await payouts.batch_of(options.batch_id, units())
    _show(batch, out)
    return 0


async def payouts_command(
    units: Units, policy: PayoutPolicy, bank: BankSide, args: Sequence[str], out: TextIO
) -> int:
    """Run one payout step; a refusal is printed with its rule, exit status 2."""
    options = _parser().parse_args(args)
    try:
        return await _run_payouts(options, units, policy, bank, out)
    except Refusal as refused:
        out.write(f"refused: {refused}\n")
        return REFUSED


async def held_funds_command(
    units: Units, warning_days: int, args: Sequence[str], out: TextIO
) -> int:
    """List every creditor's funds held; exit status 1 when one waits `warning_days` or more
    (R124-6: funds are paid within a month of receipt)."""
    parser = argparse.ArgumentParser(prog="python -m settlement held-funds")
    parser.add_argument("--on", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--warning-days", type=int, default=warning_days)
    options = parser.parse_args(args)
    found = await held_funds.held_funds_on(units(), options.on)
    late = [h for h in found if h.overdue(options.warning_days)]
    for h in found:
        flag = "LATE" if h.overdue(options.warning_days) else "ok"
        since = (
            f"oldest unpaid receipt {h.oldest_unpaid_on}, {h.age_days} days"
            if h.oldest_unpaid_on
            else "nothing held"
        )
        out.write(f"{flag:4} creditor {h.creditor_id}: {euros(h.held)} held, {since}\n")
    out.write(
        f"{len(late)} creditor(s) with funds held {options.warning_days} days or more on "
        f"{options.on} (R124-6: pay within one month of receipt)\n"
    )
    return 1 if late else 0


async def receipts_command(units: Units, args: Sequence[str], out: TextIO) -> int:
    """Every payment received for a creditor, as CSV: one receipt per line."""
    parser = argparse.ArgumentParser(prog="python -m settlement receipts")
    parser.add_argument("creditor_id")
    options = parser.parse_args(args)
    try:
        found = await held_funds.receipts_of(units(), options.creditor_id)
    except Refusal as refused:
        out.write(f"refused: {refused}\n")
        return REFUSED
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["receipt_no", "received_on", "creditor_id", "case_id", "amount_eur", "fact"])
    for r in found:
        writer.writerow(
            [
                r.receipt_no,
                r.received_on,
                r.creditor_id,
                r.case_id or "",
                euros(r.amount),
                r.fact_key,
            ]
        )
    return 0
