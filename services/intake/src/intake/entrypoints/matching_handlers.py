"""Matching's facts about a case, as intake follows them: each becomes a NoteCaseFact, with the
status it moves the case to and a sentence for the creditor's timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from intake.domain import case_life
from intake.domain.commands import NoteCaseFact
from intake.service_layer.follow_case_life import note_case_fact
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as matching
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.legal.money import AmountError, format_amount
from recouvra_shared.percentages import percent_field


@dataclass(frozen=True)
class Reading:
    """What a fact says: the status it moves the case to ('' for none), its round, the sentence
    for the timeline, and the holder it names with its window's end."""

    status: str
    round: int
    summary: str
    holder: str = ""
    window_ends_at: datetime | None = None


def _when(stamp: Timestamp) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if stamp.seconds or stamp.nanos else None


def _day(stamp: Timestamp) -> str:
    moment = _when(stamp)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown date"


def _money(money: Money) -> str:
    try:
        return f"{format_amount(money.minor_units, money.currency)} {money.currency}"
    except AmountError:
        return f"{money.minor_units} minor units of {money.currency or 'no currency'}"


def _fee(fact: Message, percent_name: str, fixed: Money) -> str:
    """The fee terms a fact names, its Percentage read exactly ("12.5", "7.25")."""
    percent = percent_field(fact, percent_name)
    fee = f"{percent if percent is not None else 0}% success fee"
    return fee + (f" + {_money(fixed)} fixed" if fixed.minor_units else "")


def quote_issued(fact: matching.QuoteIssued) -> Reading:
    """A quote offered to the creditor (offered to the provider at once when auto-accepted)."""
    summary = (
        f"quoted in round {fact.round}: provider {fact.provider_id} at "
        f"{_fee(fact, 'fee', fact.fixed_fee)}; costs {_money(fact.cost_on_full_recovery)} "
        f"on full recovery"
    )
    if fact.auto_accepted:
        summary += "; accepted automatically (below your auto-accept fee), offered to the provider"
        return Reading(case_life.OFFERED, fact.round, summary)
    return Reading(case_life.QUOTED, fact.round, summary)


def case_offered(fact: matching.CaseOffered) -> Reading:
    """The quote was accepted: the case is offered to its provider, who answers by a deadline."""
    by = "automatically (below your auto-accept fee)" if fact.auto_accepted else "by you"
    summary = (
        f"offered in round {fact.round} to provider {fact.provider_id}, the quote accepted {by}; "
        f"it answers by {_day(fact.accept_by)}"
    )
    return Reading(case_life.OFFERED, fact.round, summary)


def case_assigned(fact: assignment.CaseAssigned) -> Reading:
    """The provider accepted the case: it holds it until its window ends."""
    ends = _when(fact.window_ends_at)
    summary = (
        f"assigned in round {fact.round} to provider {fact.provider_id} until "
        f"{_day(fact.window_ends_at)}, at {_fee(fact, 'success_fee', fact.fixed_fee)}"
    )
    return Reading(case_life.ASSIGNED, fact.round, summary, fact.provider_id, ends)


def window_extended(fact: matching.WindowExtended) -> Reading:
    """The holder's window was extended: it holds the case longer."""
    ends = _when(fact.window_ends_at)
    summary = (
        f"window of provider {fact.provider_id} extended in round {fact.round} until "
        f"{_day(fact.window_ends_at)}"
    )
    return Reading(case_life.ASSIGNED, fact.round, summary, fact.provider_id, ends)


def action_reported(fact: matching.ActionReported) -> Reading:
    """What the holder did; it moves nothing. The provider's note is read from matching."""
    summary = f"provider {fact.provider_id} reported a {fact.kind} on {_day(fact.occurred_at)}"
    if fact.HasField("promised_amount") and fact.promised_amount.minor_units:
        summary += f": promised {_money(fact.promised_amount)}"
        if fact.promised_on:
            summary += f" by {fact.promised_on}"
    return Reading("", fact.round, summary)


def payment_attributed(fact: matching.PaymentAttributed) -> Reading:
    """A payment on the case; one settling it in full makes the case paid."""
    by = {"creditor": "the creditor", "bank": "the bank (received by transfer)"}.get(
        fact.source, f"provider {fact.provider_id}"
    )
    summary = f"payment of {_money(fact.amount)} on {fact.paid_on}, reported by {by}"
    if fact.receipt_id and fact.source != "bank":
        summary += f", its money received by bank (receipt {fact.receipt_id})"
    if fact.provider_id:
        summary += f", credited to provider {fact.provider_id} (round {fact.round})"
    if fact.settles_in_full:
        summary += ", settling the case in full"
    status = case_life.PAID if fact.settles_in_full else ""
    return Reading(status, fact.round, summary)


def case_recalled(fact: assignment.CaseRecalled) -> Reading:
    """The holder lost the case before or as its window ended."""
    summary = f"recalled from provider {fact.provider_id} in round {fact.round}: {fact.reason}"
    return Reading(case_life.RECALLED, fact.round, summary)


def case_rotated(fact: assignment.CaseRotated) -> Reading:
    """The round ended without full recovery: the case moves on to another provider."""
    summary = f"rotated: round {fact.round} with provider {fact.from_provider_id} ended"
    return Reading(case_life.ROTATED, fact.round, summary)


def case_exhausted(fact: matching.CaseExhausted) -> Reading:
    """Every round passed without full recovery: the creditor decides what next."""
    summary = f"exhausted after {fact.rounds} rounds: {fact.reason}"
    if fact.HasField("remaining"):
        summary += f"; {_money(fact.remaining)} remains"
    return Reading(case_life.EXHAUSTED, fact.rounds, summary)


def case_closed(fact: assignment.CaseClosed) -> Reading:
    """Matching is over for the case: nobody works it any more."""
    return Reading(case_life.CLOSED, 0, "closed: nobody works the case any more")


def case_reopened(fact: assignment.CaseReopened) -> Reading:
    """The bank reversed a payment that had paid the case in full: it is open again."""
    summary = "reopened: the bank reversed a payment that had paid the case in full"
    if fact.provider_id:
        summary += (
            f"; back with provider {fact.provider_id} (round {fact.round}) until "
            f"{_day(fact.window_ends_at)}"
        )
        return Reading(
            case_life.REOPENED,
            fact.round,
            summary,
            fact.provider_id,
            _when(fact.window_ends_at),
        )
    summary += f"; round {fact.round} is over, the case goes on to the next round"
    return Reading(case_life.REOPENED, fact.round, summary)


def _handler(
    read: Callable[[Any], Reading],
) -> Callable[[Message, EventEnvelope, IntakeUnitOfWork], Awaitable[None]]:
    async def on_fact(fact: Message, envelope: EventEnvelope, uow: IntakeUnitOfWork) -> None:
        reading = read(fact)
        command = NoteCaseFact(
            case_id=getattr(fact, "case_id", ""),
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            producer=envelope.producer,
            occurred_at=_when(envelope.occurred_at) if envelope.HasField("occurred_at") else None,
            summary=reading.summary,
            status=reading.status,
            round=reading.round,
            holder_provider_id=reading.holder,
            window_ends_at=reading.window_ends_at,
        )
        await note_case_fact(command, uow)

    on_fact.__name__ = f"on_{read.__name__}"
    on_fact.__doc__ = read.__doc__
    return on_fact


# (event name, version, event type, reader): the case's life as matching publishes it.
MATCHING_FACTS: tuple[tuple[str, int, type[Message], Callable[[Any], Reading]], ...] = (
    ("quote-issued", 1, matching.QuoteIssued, quote_issued),
    ("case-offered", 1, matching.CaseOffered, case_offered),
    ("case-assigned", 1, assignment.CaseAssigned, case_assigned),
    ("window-extended", 1, matching.WindowExtended, window_extended),
    ("action-reported", 1, matching.ActionReported, action_reported),
    ("payment-attributed", 1, matching.PaymentAttributed, payment_attributed),
    ("case-recalled", 1, assignment.CaseRecalled, case_recalled),
    ("case-rotated", 1, assignment.CaseRotated, case_rotated),
    ("case-exhausted", 1, matching.CaseExhausted, case_exhausted),
    ("case-closed", 1, assignment.CaseClosed, case_closed),
    ("case-reopened", 1, assignment.CaseReopened, case_reopened),
)


def matching_handlers() -> list[
    tuple[str, int, type[Message], Callable[[Message, EventEnvelope, IntakeUnitOfWork], Any]]
]:
    """Each fact intake follows, with the handler that notes it."""
    return [(name, version, kind, _handler(read)) for name, version, kind, read in MATCHING_FACTS]
