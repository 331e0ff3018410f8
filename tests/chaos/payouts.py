"""The money out, as operators move it over settlement's gRPC while faults play: each provider's
and creditor's bank details entered by one operator and confirmed by another, one payout batch
proposed, approved by two more and released. A step whose answer a fault lost is asked again,
and the refusal that may follow ("nothing waits for confirmation", "already approved", "another
batch is open (its id)") is read as the step done, the way an operator would read it; the
verdict then checks what the ledger and the bank file say, not what the operators were told."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import grpc
from schwifty import IBAN

from recouvra.settlement.v1 import settlement_pb2 as spb
from recouvra.settlement.v1 import settlement_pb2_grpc as spb_grpc
from tests.chaos.driver import ACCEPTED, DATABASE_DOWN, REFUSED, Intent
from tests.chaos.verdict import Verdict, euros, rows
from tests.chaos.world import World

# Four-eyes: who enters bank details does not confirm them; two others approve, a third releases.
ENTERS, CONFIRMS, APPROVES, RELEASES = (
    "ops-anne",
    "ops-bruno",
    ("ops-anne", "ops-chloe"),
    "ops-david",
)
# Far enough ahead that today's receipts are past the hold (3 business days).
VALUE_DATE_AFTER = timedelta(days=10)
OPEN_BATCH = re.compile(r"another batch is open \(([0-9a-f-]{36})\)")


def iban_of(number: int) -> str:
    """A valid German IBAN of its own for each payee (no national check digit to compute)."""
    return str(IBAN.generate("DE", bank_code="37040044", account_code=f"{number:010d}"))


@dataclass
class Payouts:
    """What the operators did: the intents (as the driver keeps them) and the batch released."""

    intents: list[Intent] = field(default_factory=list)
    batch_id: str = ""
    retries: int = 0


async def wait_fees_booked(world: World, payments: int, within: float) -> None:
    """Until settlement booked a fee for each payment (matching's payment-attributed): what a
    batch proposed before would leave for the next one."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        try:
            (booked,) = await rows(
                world.direct_url("settlement"),
                "SELECT count(*) AS n FROM fee_bookings WHERE reversed_by IS NULL",
            )
            if booked["n"] >= payments:
                return
        except DATABASE_DOWN:  # faults still play: the server may be down
            pass
        await asyncio.sleep(0.5)


async def pay_out(world: World, parties: list[tuple[str, str]], today: date) -> Payouts:
    """Bank details for every (kind, id) of `parties`, then one batch proposed, approved and
    released; the batch's id, or "" when it never was."""
    done = Payouts()

    async def ask(method: str, request: Any, operator: str) -> tuple[Any, str]:
        answer, retried = await world.ask_settlement(
            lambda channel: getattr(spb_grpc.PayoutOperationsStub(channel), method), request,
            operator=operator,
        )  # fmt: skip
        done.retries += retried
        if isinstance(answer, grpc.aio.AioRpcError):
            # Refused after a retry: the first try may have done it (read by the verdict).
            return answer, f"{REFUSED}{' after a retry' if retried else ''}: {answer.details()}"
        return answer, ACCEPTED

    for number, (kind, party_id) in enumerate(parties):
        ref = spb.PayeeRef(party_kind=kind, party_id=party_id)
        holder = f"{kind.title()} {party_id[:8]}"
        request = spb.SetPayeeAccountRequest(party=ref, holder=holder, iban=iban_of(number))
        _, outcome = await ask("SetPayeeAccount", request, ENTERS)
        done.intents.append(Intent("payee-account", party_id, ENTERS, outcome))
        _, outcome = await ask("ConfirmPayeeAccount", ref, CONFIRMS)
        done.intents.append(Intent("payee-confirmed", party_id, CONFIRMS, outcome))

    value_date = (today + VALUE_DATE_AFTER).isoformat()
    proposal, outcome = await ask(
        "ProposePayoutBatch", spb.ProposePayoutBatchRequest(value_date=value_date), ENTERS
    )
    if outcome == ACCEPTED:
        done.batch_id = proposal.batch.batch_id
    elif found := OPEN_BATCH.search(outcome):  # our own proposal, whose answer was lost
        done.batch_id = found.group(1)
    done.intents.append(Intent("payout-proposed", done.batch_id, ENTERS, outcome))
    if not done.batch_id:
        return done
    batch = spb.PayoutBatchRef(batch_id=done.batch_id)
    for operator in APPROVES:
        _, outcome = await ask("ApprovePayoutBatch", batch, operator)
        done.intents.append(Intent("payout-approved", done.batch_id, operator, outcome))
    _, outcome = await ask("ReleasePayoutBatch", batch, RELEASES)  # released again: same batch
    done.intents.append(Intent("payout-released", done.batch_id, RELEASES, outcome))
    return done


def transfers_in(pain_001: bytes) -> Counter[tuple[str, int]]:
    """Each credit transfer of a pain.001 as (end-to-end id, cents), counted."""
    found: Counter[tuple[str, int]] = Counter()
    for transfer in ET.fromstring(pain_001).iter():
        if transfer.tag.rpartition("}")[2] != "CdtTrfTxInf":
            continue
        named = {e.tag.rpartition("}")[2]: (e.text or "") for e in transfer.iter()}
        cents = int(Decimal(named.get("InstdAmt", "0")).scaleb(2))
        found[(named.get("EndToEndId", ""), cents)] += 1
    return found


async def judge_payouts(
    world: World, payouts: Payouts, parties: list[tuple[str, str]], verdict: Verdict
) -> None:
    """The batch released once, each of its lines booked once and, for a transfer, in the bank
    file once with its amount; afterwards nothing left owed to (or by) any party of the run."""
    db = world.direct_url("settlement")
    released = [
        r["batch_id"]
        for r in await rows(
            db, "SELECT batch_id::text AS batch_id FROM payout_batches WHERE state = 'released'"
        )
    ]
    verdict.count("settlement payout released", payouts.batch_id or "(none)", len(released))
    if released != [payouts.batch_id]:
        verdict.broken.append(f"payout batches released: {released}, the operators' {payouts}")
        return
    lines = await rows(
        db,
        "SELECT line_id::text AS line_id, kind, party_kind, party_id, gross, offset_amount, "
        "amount FROM payout_lines WHERE batch_id = $1::uuid",
        payouts.batch_id,
    )
    booked = Counter(
        r["fact_key"]
        for r in await rows(
            db, "SELECT fact_key FROM journal_entries WHERE fact_key LIKE 'payout-line:%'"
        )
    )
    (pain,) = await rows(
        db,
        "SELECT content FROM payout_files WHERE batch_id = $1::uuid AND kind = 'pain.001'",
        payouts.batch_id,
    ) or [{"content": b"<Document/>"}]
    in_file = transfers_in(bytes(pain["content"]))
    for line in lines:
        moves = line["gross"] or line["offset_amount"] or line["amount"]
        if moves:
            fact = f"payout-line:{line['line_id']}"
            verdict.count("settlement payout booked", line["line_id"], booked[fact])
        if line["kind"] == "transfer":
            key = (line["line_id"].replace("-", "")[:35], line["amount"])
            verdict.count("bank file transfer (pain.001)", line["line_id"], in_file[key])
    if sum(in_file.values()) != sum(1 for line in lines if line["kind"] == "transfer"):
        verdict.broken.append(f"pain.001 holds {sum(in_file.values())} transfers: {in_file}")
    # Nothing owed left behind: each party's liability (4671 creditors, 4011 providers) and
    # each creditor's fees owed (4111) are back to zero once the batch is booked.
    codes = [f"{'4671' if kind == 'creditor' else '4011'}/{p}" for kind, p in parties] + [
        f"4111/{p}" for kind, p in parties if kind == "creditor"
    ]
    for r in await rows(
        db,
        "SELECT account_code, sum(credit) - sum(debit) AS owed FROM journal_lines "
        "WHERE account_code = ANY($1::text[]) GROUP BY account_code",
        codes,
    ):
        if r["owed"]:
            verdict.broken.append(
                f"after the payout, {r['account_code']} still at {euros(r['owed'])}"
            )
