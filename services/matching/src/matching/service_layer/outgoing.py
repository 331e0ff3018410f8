"""Matching's domain facts as protobuf events bound for their topics."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from matching.domain import events
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as matching
from recouvra_shared.events import new_events
from recouvra_shared.percentages import basis_points, to_percentage
from recouvra_shared.unit_of_work import OutgoingEvent

SERVICE = "matching"
AUCTION_OPENED = ("auction-opened", 1)
CASE_AWAITING_PROVIDER = ("case-awaiting-provider", 1)
BID_PLACED = ("bid-placed", 1)
AUTO_BIDS_PLACED = ("auto-bids-placed", 1)
QUOTE_ISSUED = ("quote-issued", 1)
CASE_OFFERED = ("case-offered", 1)
CASE_ASSIGNED = ("case-assigned", 1)
WINDOW_EXTENDED = ("window-extended", 1)
CASE_RECALLED = ("case-recalled", 1)
CASE_ROTATED = ("case-rotated", 1)
CASE_EXHAUSTED = ("case-exhausted", 1)
CASE_CLOSED = ("case-closed", 1)
CASE_REOPENED = ("case-reopened", 1)
ACTION_REPORTED = ("action-reported", 1)
PAYMENT_ATTRIBUTED = ("payment-attributed", 1)
PAYMENT_UNATTRIBUTED = ("payment-unattributed", 1)
PUBLISHED = (
    AUCTION_OPENED,
    CASE_AWAITING_PROVIDER,
    BID_PLACED,
    AUTO_BIDS_PLACED,
    QUOTE_ISSUED,
    CASE_OFFERED,
    CASE_ASSIGNED,
    WINDOW_EXTENDED,
    CASE_RECALLED,
    CASE_ROTATED,
    CASE_EXHAUSTED,
    CASE_CLOSED,
    CASE_REOPENED,
    ACTION_REPORTED,
    PAYMENT_ATTRIBUTED,
    PAYMENT_UNATTRIBUTED,
)


def timestamp(moment: datetime) -> Timestamp:
    """A protobuf timestamp of an aware datetime."""
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _payload(fact: events.DomainEvent, currency: str) -> tuple[tuple[str, int], Message]:
    def money(minor: int) -> Money:
        return Money(currency=currency, minor_units=minor)

    match fact:
        case events.AuctionOpened():
            return AUCTION_OPENED, matching.AuctionOpened(
                case_id=fact.case_id,
                round=fact.round,
                eligible_providers=fact.eligible_providers,
                closes_at=timestamp(fact.closes_at),
            )
        case events.CaseAwaitingProvider():
            return CASE_AWAITING_PROVIDER, matching.CaseAwaitingProvider(
                case_id=fact.case_id,
                next_round=fact.next_round,
                cause=fact.cause,
                reason=fact.reason,
                since=timestamp(fact.since),
            )
        case events.BidPlaced():
            return BID_PLACED, matching.BidPlaced(
                case_id=fact.case_id,
                round=fact.round,
                provider_id=fact.provider_id,
                fee=to_percentage(fact.fee_percent),
                fixed_fee=money(fact.fixed_fee_minor),
                source=fact.source,
                fee_base=fact.fee_base,
            )
        case events.AutoBidsPlaced():
            return AUTO_BIDS_PLACED, _auto_bids_placed(fact, currency)
        case events.QuoteIssued():
            return QUOTE_ISSUED, matching.QuoteIssued(
                case_id=fact.case_id,
                round=fact.round,
                provider_id=fact.provider_id,
                fee=to_percentage(fact.fee_percent),
                fixed_fee=money(fact.fixed_fee_minor),
                cost_on_full_recovery=money(fact.cost_on_full_recovery_minor),
                expected_net_recovery=money(fact.expected_net_minor),
                why=fact.why,
                auto_accepted=fact.auto_accepted,
                fee_base=fact.fee_base,
            )
        case events.CaseOffered():
            return CASE_OFFERED, matching.CaseOffered(
                case_id=fact.case_id,
                round=fact.round,
                provider_id=fact.provider_id,
                offered_at=timestamp(fact.offered_at),
                accept_by=timestamp(fact.accept_by),
                auto_accepted=fact.auto_accepted,
            )
        case events.CaseAssigned():
            return CASE_ASSIGNED, assignment.CaseAssigned(
                case_id=fact.case_id,
                provider_id=fact.provider_id,
                round=fact.round,
                window_ends_at=timestamp(fact.window_ends_at),
                success_fee=to_percentage(fact.fee_percent),
                fixed_fee=money(fact.fixed_fee_minor),
                window_started_at=timestamp(fact.window_started_at),
                fee_base=fact.fee_base,
            )
        case events.WindowExtended():
            return WINDOW_EXTENDED, matching.WindowExtended(
                case_id=fact.case_id,
                round=fact.round,
                provider_id=fact.provider_id,
                window_ends_at=timestamp(fact.window_ends_at),
            )
        case events.CaseRecalled():
            return CASE_RECALLED, assignment.CaseRecalled(
                case_id=fact.case_id,
                provider_id=fact.provider_id,
                reason=fact.reason,
                round=fact.round,
            )
        case events.CaseRotated():
            return CASE_ROTATED, assignment.CaseRotated(
                case_id=fact.case_id, from_provider_id=fact.from_provider_id, round=fact.round
            )
        case events.CaseExhausted():
            return CASE_EXHAUSTED, matching.CaseExhausted(
                case_id=fact.case_id,
                rounds=fact.rounds,
                reason=fact.reason,
                remaining=money(fact.remaining_minor),
            )
        case events.CaseClosed():
            return CASE_CLOSED, assignment.CaseClosed(case_id=fact.case_id)
        case events.CaseReopened():
            reopened = assignment.CaseReopened(
                case_id=fact.case_id, round=fact.round, provider_id=fact.provider_id
            )
            if fact.window_ends_at is not None:
                reopened.window_ends_at.CopyFrom(timestamp(fact.window_ends_at))
            return CASE_REOPENED, reopened
        case events.ActionReported():
            reported = matching.ActionReported(
                case_id=fact.case_id,
                round=fact.round,
                provider_id=fact.provider_id,
                action_id=fact.action_id,
                kind=fact.kind,
                occurred_at=timestamp(fact.occurred_at),
                promised_on="" if fact.promised_on is None else fact.promised_on.isoformat(),
            )
            if fact.promised_amount_minor:
                reported.promised_amount.CopyFrom(money(fact.promised_amount_minor))
            return ACTION_REPORTED, reported
        case events.PaymentAttributed():
            return PAYMENT_ATTRIBUTED, matching.PaymentAttributed(
                case_id=fact.case_id,
                payment_id=fact.payment_id,
                amount=money(fact.amount_minor),
                paid_on=fact.paid_on.isoformat(),
                source=fact.source,
                provider_id=fact.provider_id,
                round=fact.round,
                success_fee=None if fact.fee_percent is None else to_percentage(fact.fee_percent),
                fixed_fee=money(fact.fixed_fee_minor),
                settles_in_full=fact.settles_in_full,
                fee_base=fact.fee_base,
                receipt_id=fact.receipt_id,
            )
        case events.PaymentUnattributed():
            return PAYMENT_UNATTRIBUTED, matching.PaymentUnattributed(
                case_id=fact.case_id,
                payment_id=fact.payment_id,
                receipt_id=fact.receipt_id,
                amount=money(fact.amount_minor),
                reversed_on=fact.reversed_on.isoformat(),
                provider_id=fact.provider_id,
                round=fact.round,
            )


def _auto_bids_placed(fact: events.AutoBidsPlaced, currency: str) -> Message:
    """Each bid's message built in place in the event's list (fifty of them, for a busy
    market), rather than built apart and copied in with its fee and its fixed fee."""
    placed = matching.AutoBidsPlaced(case_id=fact.case_id, round=fact.round)
    for bid in fact.bids:
        auto = placed.bids.add(provider_id=bid.provider_id, fee_base=bid.fee_base)
        auto.fee.SetInParent()  # set even at 0 %, as to_percentage's message is
        auto.fee.basis_points = basis_points(bid.fee_percent)
        auto.fixed_fee.SetInParent()
        auto.fixed_fee.currency = currency
        auto.fixed_fee.minor_units = bid.fixed_fee_minor
    return placed


def to_outgoing(
    facts: list[events.DomainEvent], *, creditor_id: str, currency: str, now: datetime
) -> list[OutgoingEvent]:
    """Envelopes for the outbox; the tenant is the creditor that owns the case."""
    if not facts:
        return []
    wrapped = []
    for fact in facts:
        (event_type, version), payload = _payload(fact, currency)
        wrapped.append((event_type, version, fact.case_id, payload))
    return new_events(producer=SERVICE, tenant_id=creditor_id, facts=wrapped, occurred_at=now)
