"""The verdict, once the system is quiet: every accepted intent's effects exactly once in every
service's database and on Kafka, nothing for a refused one, every dead letter listed with its
reason; a table of intents, faults by kind, effects found, lost and duplicated."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from google.protobuf.message import Message

from recouvra.events.v1 import assignment_events_pb2 as assignment_events
from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived
from recouvra_shared.events import unpack
from tests.chaos.driver import ACCEPTED, DATABASE_DOWN, Intent
from tests.chaos.lag import consumer_lag
from tests.chaos.world import SERVICES, World
from tests.support.databases import plain
from tests.support.kafka_read import read_topic

# Each topic's facts: what makes two events the same fact, whatever their ids.
TOPICS: dict[str, type[Message]] = {
    "intake.case-submitted.v1": CaseSubmitted,
    "scoring.case-scored.v1": CaseScored,
    "matching.auction-opened.v1": matching_events.AuctionOpened,
    "matching.bid-placed.v1": matching_events.BidPlaced,
    "matching.auto-bids-placed.v1": matching_events.AutoBidsPlaced,
    "matching.quote-issued.v1": matching_events.QuoteIssued,
    "matching.case-offered.v1": matching_events.CaseOffered,
    "matching.case-assigned.v1": assignment_events.CaseAssigned,
    "matching.case-closed.v1": assignment_events.CaseClosed,
    "matching.case-recalled.v1": assignment_events.CaseRecalled,
    "matching.case-rotated.v1": assignment_events.CaseRotated,
    "matching.payment-attributed.v1": matching_events.PaymentAttributed,
    "settlement.payment-received.v1": PaymentReceived,
}


def fact_key(topic: str, case_id: str, payload: Any) -> tuple[str, ...]:
    if topic == "scoring.case-scored.v1":
        return (case_id, payload.trigger or "case-submitted")
    if topic in ("intake.case-submitted.v1", "matching.case-closed.v1"):
        return (case_id,)
    if topic == "settlement.payment-received.v1":
        return (case_id, payload.receipt_id)
    if topic == "matching.payment-attributed.v1":
        return (case_id, payload.payment_id)
    with_provider = ("matching.bid-placed.v1", "matching.case-assigned.v1")
    provider = getattr(payload, "provider_id", "") if topic in with_provider else ""
    return (case_id, str(payload.round), provider)


@dataclass
class Verdict:
    intents: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)  # effect -> how many exactly once
    lost: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    duplicated: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: list[str] = field(default_factory=list)
    lagging: dict[str, int] = field(default_factory=dict)  # consumer group -> records behind
    money: dict[str, str] = field(default_factory=dict)  # totals, as the table prints them
    broken: list[str] = field(default_factory=list)  # an invariant that does not hold
    phases: dict[str, float] = field(default_factory=dict)  # the run's phases, seconds each
    facts: dict[str, Counter[tuple[str, ...]]] = field(default_factory=dict)  # topic -> facts

    @property
    def clean(self) -> bool:
        return not (
            self.lost or self.duplicated or self.dead_letters or self.lagging or self.broken
        )

    def count(self, effect: str, subject: str, seen: int) -> None:
        if seen == 1:
            self.found[effect] += 1
        elif seen == 0:
            self.lost[effect].append(subject)
        else:
            self.duplicated[effect].append(f"{subject} x{seen}")

    def table(self) -> str:
        lines = ["intents:"] + [f"  {k:<24} {v:>7}" for k, v in sorted(self.intents.items())]
        lines += ["faults:"] + [f"  {k:<24} {v:>7}" for k, v in sorted(self.faults.items())]
        lines.append(f"  {'effect':<28} {'found':>7} {'lost':>7} {'duplicated':>10}")
        effects = sorted(set(self.found) | set(self.lost) | set(self.duplicated))
        for effect in effects:
            lines.append(
                f"  {effect:<28} {self.found[effect]:>7} {len(self.lost.get(effect, [])):>7} "
                f"{len(self.duplicated.get(effect, [])):>10}"
            )
        lines += [f"  {k:<28} {v}" for k, v in self.money.items()]
        for effect, subjects in {**self.lost}.items():
            lines.append(f"LOST {effect}: {', '.join(subjects[:5])}")
        for effect, subjects in {**self.duplicated}.items():
            lines.append(f"DUPLICATED {effect}: {', '.join(subjects[:5])}")
        lines += [f"DEAD LETTER {d}" for d in self.dead_letters]
        lines += [f"CONSUMER BEHIND {g}: {n} record(s)" for g, n in self.lagging.items()]
        lines += [f"BROKEN {b}" for b in self.broken]
        if self.phases:
            lines.append("phases (s):")
            lines += [f"  {k:<24} {v:>7.1f}" for k, v in self.phases.items()]
        lines.append("verdict: " + ("clean" if self.clean else "FAILED"))
        return "\n".join(lines)


async def rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(plain(url))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def rows_once_up(url: str, sql: str, *args: Any, within: float = 300) -> list[asyncpg.Record]:
    """`rows`, asked again until the database answers: for a read the run cannot go on
    without, made while faults may have its server down."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await rows(url, sql, *args)
        except DATABASE_DOWN:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def tally(keys: Iterable[Any]) -> Counter[Any]:
    return Counter(keys)


def by_case(facts: Counter[tuple[str, ...]]) -> Counter[str]:
    """How many times each case's facts of one topic were seen, all its facts together."""
    counted: Counter[str] = Counter()
    for key, times in facts.items():
        counted[key[0]] += times
    return counted


async def judge(world: World, intents: list[Intent], faults: Counter[str]) -> Verdict:
    verdict = Verdict(faults=Counter(faults))
    verdict.intents.update(
        f"{i.kind} {i.outcome}" + (f" (round {i.round})" if i.round != 1 else "") for i in intents
    )
    cases = [i for i in intents if i.kind.startswith("case-")]
    accepted = [i for i in cases if i.outcome == ACCEPTED]
    db = world.direct_url

    # intake: one case per accepted invoice, none for a refused one.
    lines = tally(
        r["invoice_number"]
        for r in await rows(db("intake"), "SELECT invoice_number FROM invoice_lines")
    )
    for intent in cases:
        seen = lines[intent.subject]
        if intent.outcome == ACCEPTED:
            verdict.count("intake case", intent.subject, seen)
        elif seen:
            verdict.duplicated["intake case of a refused intent"].append(intent.subject)

    # scoring: one score of record per case, triggered by its submission.
    scores = tally(
        r["case_id"]
        for r in await rows(
            db("scoring"),
            "SELECT case_id::text AS case_id FROM scores WHERE trigger = 'case-submitted'",
        )
    )
    # matching: one matching per case; every accepted quote's case offered.
    matching_rows = await rows(db("matching"), "SELECT case_id, status, round FROM case_matchings")
    matchings = {r["case_id"]: r["status"] for r in matching_rows}
    rounds = {r["case_id"]: r["round"] for r in matching_rows}
    for intent in accepted:
        verdict.count("scoring score", intent.case_id, scores[intent.case_id])
        verdict.count("matching case", intent.case_id, int(intent.case_id in matchings))

    # Kafka: every fact once, whatever the event ids.
    facts: dict[str, Counter[tuple[str, ...]]] = {}
    read = await asyncio.gather(
        *(read_topic(world.stack, world.prefix + topic, 2.0) for topic in TOPICS)
    )
    for (topic, kind), contents in zip(TOPICS.items(), read, strict=True):
        unique = {e.event_id: e for e in contents.envelopes}  # a re-sent record is one event
        facts[topic] = tally(fact_key(topic, e.case_id, unpack(e, kind)) for e in unique.values())
    verdict.facts = facts
    for intent in accepted:
        verdict.count(
            "fact case-submitted",
            intent.case_id,
            facts["intake.case-submitted.v1"][(intent.case_id,)],
        )
        verdict.count(
            "fact case-scored",
            intent.case_id,
            facts["scoring.case-scored.v1"][(intent.case_id, "case-submitted")],
        )
        verdict.count(
            "fact auction-opened",
            intent.case_id,
            facts["matching.auction-opened.v1"][(intent.case_id, "1", "")],
        )
    offered = facts["matching.case-offered.v1"]
    for intent in intents:
        refused = intent.outcome != ACCEPTED
        bid = (intent.case_id, "1", intent.actor)
        of_round = (intent.case_id, str(intent.round), "")  # an offer's fact, in the intent's round
        if intent.kind == "bid" and refused and facts["matching.bid-placed.v1"][bid]:
            verdict.duplicated["bid-placed of a refused bid"].append(intent.case_id)
        if intent.kind == "accept-quote" and refused and offered[of_round]:
            verdict.duplicated["case-offered of a refused acceptance"].append(intent.case_id)
        if intent.kind == "bid" and intent.outcome == ACCEPTED:
            key = (intent.case_id, "1", intent.actor)
            verdict.count(
                "fact bid-placed (live)", intent.case_id, facts["matching.bid-placed.v1"][key]
            )
        if intent.kind == "accept-quote" and intent.outcome == ACCEPTED:
            suffix = "" if intent.round == 1 else f" (round {intent.round})"
            verdict.count(f"fact case-offered{suffix}", intent.case_id, offered[of_round])
            # offered, and taken since by its provider (then paid in full, perhaps, or rotated)
            status, now_in = matchings.get(intent.case_id), rounds.get(intent.case_id, 0)
            held = status in ("offered", "assigned", "closed") and now_in == intent.round
            verdict.count(
                f"matching offered{suffix}", intent.case_id, int(held or now_in > intent.round)
            )
    # side by side: each runs an operator's command (settlement check, vault verify-audit)
    await asyncio.gather(
        judge_money(world, intents, verdict, facts, matchings),
        judge_letters(world, intents, verdict),
    )
    # No fact at all may appear twice, whether or not an intent names it (auto bids, quotes).
    for topic, counted in facts.items():
        for fact, times in counted.items():
            if times > 1:
                verdict.duplicated[f"fact {topic.split('.')[1]}"].append(f"{fact} x{times}")

    lag = await consumer_lag(world.stack, world.prefix)
    verdict.lagging = {group: behind for group, behind in lag.items() if behind}

    # Dead letters and unpublishable outbox rows, with their reasons.
    for name in SERVICES:
        for r in await rows(db(name), "SELECT consumer, topic, event_id, error FROM dead_letters"):
            if "UniqueViolation" in r["error"]:
                # The handler ran again for an event it had handled: only a unique key of its
                # table stopped the second effect. An inbox that works never lets this happen.
                verdict.duplicated[f"{name} handler ran twice"].append(str(r["event_id"]))
            verdict.dead_letters.append(
                f"{name} {r['consumer']} {r['topic']} {r['event_id']}: {r['error'][:200]}"
            )
        for r in await rows(db(name), "SELECT topic, event_id, error FROM outbox_dead_letters"):
            verdict.dead_letters.append(
                f"{name} outbox {r['topic']} {r['event_id']}: {r['error'][:200]}"
            )
    return verdict


def euros(cents: int) -> str:
    return f"EUR {Decimal(cents).scaleb(-2):,.2f}"


async def judge_money(
    world: World,
    intents: list[Intent],
    verdict: Verdict,
    facts: dict[str, Counter[tuple[str, ...]]],
    matchings: dict[str, str],
) -> None:
    """Assignments and payments: each payment booked once (a receipt, its bank entry), told
    once (payment-received), attributed once by matching (payment-attributed, one fee booked),
    a case paid in full closed once; the ledger balanced, `python -m settlement check` clean,
    and the money received equal to the money the driver paid, to the cent."""
    db = world.direct_url("settlement")
    for intent in intents:
        if intent.kind == "accept-assignment" and intent.outcome == ACCEPTED:
            key = (intent.case_id, str(intent.round), intent.actor)
            suffix = "" if intent.round == 1 else f" (round {intent.round})"
            verdict.count(
                f"fact case-assigned{suffix}",
                intent.case_id,
                facts["matching.case-assigned.v1"][key],
            )
    receipts: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for r in await rows(
        db,
        "SELECT case_id::text AS case_id, receipt_id::text AS receipt_id, amount_minor, "
        "settles_in_full FROM receipts WHERE case_id IS NOT NULL",
    ):
        receipts[r["case_id"]].append(r)
    fees = tally(
        r["case_id"]
        for r in await rows(
            db, "SELECT case_id::text AS case_id FROM fee_bookings WHERE reversed_by IS NULL"
        )
    )
    received = by_case(facts["settlement.payment-received.v1"])
    attributed = by_case(facts["matching.payment-attributed.v1"])
    closed = facts["matching.case-closed.v1"]
    paid = [i for i in intents if i.kind == "payment" and i.outcome == ACCEPTED]
    for intent in paid:
        found = receipts.get(intent.case_id, [])
        verdict.count("settlement receipt", intent.case_id, len(found))
        if any(r["amount_minor"] != intent.cents for r in found):
            verdict.broken.append(f"receipt of {intent.case_id} is not {euros(intent.cents)}")
        verdict.count("fact payment-received", intent.case_id, received[intent.case_id])
        verdict.count("fact payment-attributed", intent.case_id, attributed[intent.case_id])
        verdict.count("settlement fee booked", intent.case_id, fees[intent.case_id])
        in_full = any(r["settles_in_full"] for r in found)
        if in_full:
            verdict.count("fact case-closed (paid)", intent.case_id, closed[(intent.case_id,)])
            verdict.count(
                "matching closed (paid)",
                intent.case_id,
                int(matchings.get(intent.case_id) == "closed"),
            )
        elif closed[(intent.case_id,)] or matchings.get(intent.case_id) == "closed":
            verdict.duplicated["case closed, not paid in full"].append(intent.case_id)
    for intent in intents:
        if intent.kind == "payment" and intent.outcome != ACCEPTED and receipts.get(intent.case_id):
            verdict.duplicated["receipt of a refused payment"].append(intent.case_id)

    # The money, to the cent: what the driver paid, what settlement received, what the
    # client-money account (5121) holds, and the ledger's two sides.
    driver_paid = sum(i.cents for i in paid)
    in_receipts = sum(r["amount_minor"] for found in receipts.values() for r in found)
    (sides,) = await rows(
        db,
        "SELECT coalesce(sum(debit), 0) AS debit, coalesce(sum(credit), 0) AS credit, "
        "coalesce(sum(debit) FILTER (WHERE account_code = '5121'), 0) "
        "- coalesce(sum(credit) FILTER (WHERE account_code = '5121'), 0) AS bank "
        "FROM journal_lines",
    )
    # What released payout batches sent out by transfer left the client-money account.
    (out,) = await rows(
        db,
        "SELECT coalesce(sum(l.amount), 0) AS paid FROM payout_lines l "
        "JOIN payout_batches b USING (batch_id) WHERE b.state = 'released' AND l.kind = 'transfer'",
    )
    verdict.money = {
        "money paid (driver)": euros(driver_paid),
        "money received (receipts)": euros(in_receipts),
        "paid out (released batches)": euros(out["paid"]),
        "client-money account 5121": euros(sides["bank"]),
        "ledger debits (= credits)": euros(sides["debit"]),
    }
    if not (driver_paid == in_receipts and in_receipts - out["paid"] == sides["bank"]):
        verdict.broken.append(
            f"money paid {euros(driver_paid)}, received {euros(in_receipts)}, paid out "
            f"{euros(out['paid'])}, on 5121 {euros(sides['bank'])}"
        )
    if sides["debit"] != sides["credit"]:
        verdict.broken.append(
            f"ledger: debits {euros(sides['debit'])}, credits {euros(sides['credit'])}"
        )
    settlement = world.processes["settlement"]
    try:
        checked = await asyncio.to_thread(
            settlement.run_command, "check", RECOUVRA_SETTLEMENT_DATABASE_URL=db
        )
    except AssertionError as failed:  # exit 1: an invariant is broken
        verdict.broken.append(f"python -m settlement check: {str(failed)[-500:]}")
    else:
        if "BROKEN" in checked:
            verdict.broken.append(f"python -m settlement check: {checked[-500:]}")
        verdict.money["settlement check"] = "ok"


async def judge_letters(world: World, intents: list[Intent], verdict: Verdict) -> None:
    """Each taken case, in each round it was taken: its holder's first letter once in
    messaging (sent, or postponed by the contact limits with its reasons) and once in the
    vault, the holder granted once (the grant and its audit entry); and `python -m vault
    verify-audit` finds the audit chain intact."""
    messaging, vault = world.direct_url("messaging"), world.direct_url("vault")
    step_one = await rows(
        messaging,
        "SELECT m.message_id::text AS message_id, m.case_id, p.round, m.status "
        "FROM outgoing_messages m JOIN contact_plans p USING (plan_id) WHERE m.step = 1",
    )
    firsts = tally((r["case_id"], r["round"]) for r in step_one)
    sent = tally((r["case_id"], r["round"]) for r in step_one if r["status"] == "sent")
    letter_of = {f"messaging:{r['message_id']}": (r["case_id"], r["round"]) for r in step_one}
    postponed = {
        (r["case_id"], r["round"])
        for r in await rows(
            messaging,
            "SELECT o.case_id, p.round FROM plan_postponements o "
            "JOIN contact_plans p USING (plan_id) WHERE o.step = 1",
        )
    }
    documents = await rows(vault, "SELECT case_id, kind, idempotency_key FROM documents")
    # A letter the vault keeps counts for its message's round (its key, as the vault scopes it:
    # "<caller>/messaging:<message id>"); one of no first letter counts for round 1.
    stored = tally(
        letter_of.get((r["idempotency_key"] or "").rsplit("/", 1)[-1], (r["case_id"], 1))
        for r in documents
        if r["kind"] == "correspondence"
    )
    invoices = tally(r["case_id"] for r in documents if r["kind"] == "invoice")
    grants = {
        (r["case_id"], r["provider_id"])
        for r in await rows(vault, "SELECT case_id, provider_id FROM grants")
    }
    audited = tally(  # detail: "provider=<id> event=<id>"
        (r["case_id"], r["detail"].split()[0].removeprefix("provider="))
        for r in await rows(
            vault,
            "SELECT case_id, detail FROM audit_log WHERE action = 'grant' AND outcome = 'granted'",
        )
    )
    for intent in intents:
        if intent.kind == "invoice-upload":
            if intent.outcome == ACCEPTED:
                verdict.count("vault invoice stored", intent.case_id, invoices[intent.case_id])
            elif invoices[intent.case_id]:
                verdict.duplicated["invoice of a refused upload"].append(intent.case_id)
        if intent.kind != "accept-assignment" or intent.outcome != ACCEPTED:
            continue
        case_id, held = intent.case_id, (intent.case_id, intent.round)
        suffix = "" if intent.round == 1 else f" (round {intent.round})"
        verdict.count(f"vault grant{suffix}", case_id, int((case_id, intent.actor) in grants))
        verdict.count(f"vault grant audited{suffix}", case_id, audited[(case_id, intent.actor)])
        if not firsts[held] and held in postponed:
            verdict.found[f"first letter postponed{suffix}"] += 1
            continue
        verdict.count(f"messaging first letter{suffix}", case_id, firsts[held])
        verdict.count(f"messaging first letter sent{suffix}", case_id, sent[held])
        verdict.count(f"vault letter stored{suffix}", case_id, stored[held])
    await judge_posted_letters(world, verdict)
    process = world.processes["vault"]
    try:
        key = (await asyncio.to_thread(process.run_command, "audit-public-key")).strip()
        checked = await asyncio.to_thread(
            process.run_command,
            "verify-audit",
            RECOUVRA_VAULT_AUDIT_PUBLIC_KEY=key.splitlines()[-1],
            RECOUVRA_VAULT_DATABASE_URL=vault,
        )
    except AssertionError as failed:  # exit 1: the chain is broken somewhere
        verdict.broken.append(f"python -m vault verify-audit: {str(failed)[-500:]}")
    else:
        verdict.money["vault audit chain"] = checked.strip().splitlines()[-1]


def handed_over(folder: Path) -> tuple[Counter[str], set[str]]:
    """The print-and-post folder: manifest lines per message id, and the PDFs' message ids."""
    manifest = folder / "manifest.jsonl"
    lines = manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else []
    return Counter(json.loads(line)["message_id"] for line in lines if line), {
        pdf.stem for pdf in folder.glob("*.pdf")
    }


async def judge_posted_letters(world: World, verdict: Verdict) -> None:
    """What the post received, against messaging's records: each letter handed over once, each
    with its PDF, each recorded sent in messaging (a letter the debtor got and messaging calls
    not sent, or one posted twice, is what a debtor or a court would notice)."""
    lines, pdfs = handed_over(world.workdir / "letters")
    records = {
        str(r["message_id"]): r["status"]
        for r in await rows(
            world.direct_url("messaging"),
            "SELECT message_id, status FROM outgoing_messages WHERE channel = 'letter'",
        )
    }
    for message_id, copies in lines.items():
        verdict.count("post letter handed over", message_id, copies)
        if message_id not in pdfs:
            verdict.broken.append(f"letter {message_id} in the manifest without its PDF")
        status = records.get(message_id)
        if status != "sent":
            verdict.broken.append(f"letter {message_id} was posted; messaging says {status}")
    for message_id in sorted(pdfs - set(lines)):
        verdict.broken.append(f"PDF {message_id}.pdf in the letters folder, not in the manifest")
