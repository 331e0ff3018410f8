"""The verdict, once the system is quiet: every accepted intent's effects exactly once in every
service's database and on Kafka, nothing for a refused one, every dead letter listed with its
reason; a table of intents, faults by kind, effects found, lost and duplicated."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from google.protobuf.message import Message

from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import unpack
from tests.chaos.driver import ACCEPTED, Intent
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
    "matching.quote-issued.v1": matching_events.QuoteIssued,
    "matching.case-offered.v1": matching_events.CaseOffered,
}


def fact_key(topic: str, case_id: str, payload: Any) -> tuple[str, ...]:
    if topic == "scoring.case-scored.v1":
        return (case_id, payload.trigger or "case-submitted")
    if topic in ("intake.case-submitted.v1",):
        return (case_id,)
    provider = getattr(payload, "provider_id", "") if topic == "matching.bid-placed.v1" else ""
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

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.dead_letters or self.lagging)

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
        for effect, subjects in {**self.lost}.items():
            lines.append(f"LOST {effect}: {', '.join(subjects[:5])}")
        for effect, subjects in {**self.duplicated}.items():
            lines.append(f"DUPLICATED {effect}: {', '.join(subjects[:5])}")
        lines += [f"DEAD LETTER {d}" for d in self.dead_letters]
        lines += [f"CONSUMER BEHIND {g}: {n} record(s)" for g, n in self.lagging.items()]
        lines.append("verdict: " + ("clean" if self.clean else "FAILED"))
        return "\n".join(lines)


async def rows(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(plain(url))
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


def tally(keys: Iterable[Any]) -> Counter[Any]:
    return Counter(keys)


async def judge(world: World, intents: list[Intent], faults: Counter[str]) -> Verdict:
    verdict = Verdict(faults=Counter(faults))
    verdict.intents.update(f"{i.kind} {i.outcome}" for i in intents)
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
    matchings = {
        r["case_id"]: r["status"]
        for r in await rows(db("matching"), "SELECT case_id, status FROM case_matchings")
    }
    for intent in accepted:
        verdict.count("scoring score", intent.case_id, scores[intent.case_id])
        verdict.count("matching case", intent.case_id, int(intent.case_id in matchings))

    # Kafka: every fact once, whatever the event ids.
    facts: dict[str, Counter[tuple[str, ...]]] = {}
    for topic, kind in TOPICS.items():
        contents = await read_topic(world.stack, world.prefix + topic, 2.0)
        unique = {e.event_id: e for e in contents.envelopes}  # a re-sent record is one event
        facts[topic] = tally(fact_key(topic, e.case_id, unpack(e, kind)) for e in unique.values())
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
    offered = {k[0] for k in facts["matching.case-offered.v1"]}
    for intent in intents:
        refused = intent.outcome != ACCEPTED
        bid = (intent.case_id, "1", intent.actor)
        if intent.kind == "bid" and refused and facts["matching.bid-placed.v1"][bid]:
            verdict.duplicated["bid-placed of a refused bid"].append(intent.case_id)
        if intent.kind == "accept-quote" and refused and intent.case_id in offered:
            verdict.duplicated["case-offered of a refused acceptance"].append(intent.case_id)
        if intent.kind == "bid" and intent.outcome == ACCEPTED:
            key = (intent.case_id, "1", intent.actor)
            verdict.count(
                "fact bid-placed (live)", intent.case_id, facts["matching.bid-placed.v1"][key]
            )
        if intent.kind == "accept-quote" and intent.outcome == ACCEPTED:
            offers = [k for k in facts["matching.case-offered.v1"] if k[0] == intent.case_id]
            seen = sum(facts["matching.case-offered.v1"][k] for k in offers)
            verdict.count("fact case-offered", intent.case_id, seen)
            verdict.count(
                "matching offered", intent.case_id, int(matchings.get(intent.case_id) == "offered")
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
