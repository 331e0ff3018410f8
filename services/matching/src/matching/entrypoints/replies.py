"""Domain values as matching's gRPC replies: what each caller is shown of a case."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from matching.domain.auction import amount_band
from matching.domain.case_matching import CaseMatching
from matching.domain.case_state import PaymentClaim
from matching.domain.events import ActionReported
from matching.domain.provider_records import ProviderRecord
from matching.domain.status import Status
from matching.service_layer.creditor_commands import QuoteView
from matching.service_layer.outgoing import timestamp
from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.percentages import to_percentage


def assignment_reply(matching: CaseMatching) -> pb.AssignmentReply:
    """Where the provider's offered or held case stands after its command."""
    reply = pb.AssignmentReply(
        case_id=matching.case.case_id, round=matching.round, status=matching.status.value
    )
    if matching.assignment is not None and matching.assignment.window_ends_at is not None:
        reply.window_ends_at.CopyFrom(timestamp(matching.assignment.window_ends_at))
    return reply


def money(currency: str, minor: int) -> Money:
    """An amount in the case's currency."""
    return Money(currency=currency, minor_units=minor)


def provider_record(record: ProviderRecord) -> pb.ProviderRecord:
    """The quoted provider's measured record, as the creditor reads it."""
    return pb.ProviderRecord(
        segment=record.segment,
        cases_finished=record.finished,
        cases_recovered=record.recovered,
        recovery_rate=record.recovery_rate,
        amount_recovered_share=record.amount_recovered_share,
        average_days_to_recover=record.average_days_to_recover,
        offers_received=record.offers,
        offers_answered_in_time=record.offers_in_time,
    )


def held_case(matching: CaseMatching) -> pb.HeldCase:
    """A case the provider holds or is offered, with its terms and deadlines."""
    assignment = matching.assignment
    assert assignment is not None
    currency = matching.case.currency
    held = pb.HeldCase(
        case_id=matching.case.case_id,
        round=matching.round,
        status=matching.status.value,
        fee=to_percentage(assignment.fee_percent),
        fixed_fee=money(currency, assignment.fixed_fee_minor),
        amount=money(currency, matching.case.amount_minor),
        recovered=money(currency, matching.recovered_minor),
        fee_base=assignment.fee_base,
    )
    if matching.status is Status.OFFERED:
        held.accept_by.CopyFrom(timestamp(assignment.accept_by))
    if assignment.window_ends_at is not None:
        held.window_ends_at.CopyFrom(timestamp(assignment.window_ends_at))
    return held


def payment_claim(claim: PaymentClaim, currency: str) -> pb.PaymentClaim:
    """A provider's payment claim and where it stands."""
    view = pb.PaymentClaim(
        claim_id=claim.claim_id,
        reference=claim.reference,
        provider_id=claim.provider_id,
        round=claim.round,
        amount=money(currency, claim.amount_minor),
        paid_on=claim.paid_on.isoformat(),
        settles_in_full=claim.settles_in_full,
        state=claim.state.value,
        claimed_at=timestamp(claim.claimed_at),
        decided_by=claim.decided_by,
        dispute_reason=claim.dispute_reason,
    )
    if claim.decided_at is not None:
        view.decided_at.CopyFrom(timestamp(claim.decided_at))
    return view


def payment_claim_reply(matching: CaseMatching, claim: PaymentClaim) -> pb.PaymentClaimReply:
    """The claim after the creditor's answer, with the case's status and confirmed recovery."""
    currency = matching.case.currency
    return pb.PaymentClaimReply(
        case_id=matching.case.case_id,
        status=matching.status.value,
        claim=payment_claim(claim, currency),
        recovered=money(currency, matching.recovered_minor),
    )


def awaiting_provider(matching: CaseMatching) -> pb.AwaitingProvider | None:
    """Why the case waits for a provider before its next round, and since when; None if not."""
    awaiting = matching.awaiting
    if awaiting is None:
        return None
    return pb.AwaitingProvider(
        since=timestamp(awaiting.since),
        next_round=matching.round + 1,
        cause=awaiting.cause.value,
        reason=awaiting.reason,
    )


def case_activity(matching: CaseMatching, actions: list[ActionReported]) -> pb.CaseActivity:
    """The creditor's view of its case: reported actions and payments with whom they credit."""
    currency = matching.case.currency
    activity = pb.CaseActivity(
        case_id=matching.case.case_id,
        status=matching.status.value,
        round=matching.round,
        recovered=money(currency, matching.recovered_minor),
        awaiting_provider=awaiting_provider(matching),
    )
    for action in actions:
        view = activity.actions.add(
            action_id=action.action_id,
            round=action.round,
            provider_id=action.provider_id,
            kind=action.kind,
            occurred_at=timestamp(action.occurred_at),
            note=action.note,
            promised_on="" if action.promised_on is None else action.promised_on.isoformat(),
        )
        if action.promised_amount_minor:
            view.promised_amount.CopyFrom(money(currency, action.promised_amount_minor))
    for payment in matching.payments:
        activity.payments.add(
            payment_id=payment.payment_id,
            amount=money(currency, payment.amount_minor),
            paid_on=payment.paid_on.isoformat(),
            source=payment.source,
            provider_id=payment.provider_id,
            round=payment.round,
        )
    activity.claims.extend(payment_claim(c, currency) for c in matching.claims)
    return activity


def quote_reply(view: QuoteView) -> pb.QuoteReply:
    """The case's quote as its creditor sees it: who, at what cost, why, and its record."""
    matching, provider, record = view.matching, view.provider, view.record
    reply = pb.QuoteReply(
        case_id=matching.case.case_id,
        round=matching.round,
        status=matching.status.value,
        awaiting_provider=awaiting_provider(matching),
    )
    quote = matching.quote
    if quote is not None:
        currency = matching.case.currency
        reply.provider_id = quote.provider_id
        reply.fee.CopyFrom(to_percentage(quote.fee_percent))
        reply.fixed_fee.CopyFrom(Money(currency=currency, minor_units=quote.fixed_fee_minor))
        reply.cost_on_full_recovery.CopyFrom(
            Money(currency=currency, minor_units=quote.cost_on_full_recovery_minor)
        )
        reply.expected_net_recovery.CopyFrom(
            Money(currency=currency, minor_units=quote.expected_net_minor)
        )
        reply.why = quote.why
        reply.fee_base = quote.fee_base
        reply.provider_cases_finished = quote.cases_finished
        reply.provider_cases_recovered = quote.cases_recovered
        reply.recovery_probability = str(quote.recovery_probability.quantize(Decimal("0.0001")))
    if provider is not None:
        reply.provider_name = provider.name
        reply.provider_kind = provider.kind.value
    if record is not None:
        reply.provider_record.CopyFrom(provider_record(record))
    return reply


def open_auctions(
    auctions: list[CaseMatching], provider_id: str, today: date
) -> list[pb.OpenAuction]:
    """Open auctions as a bidder sees them: bands and segments, never the debtor."""
    views = []
    for m in auctions:
        case = m.case
        overdue = (today - date.fromisoformat(case.due_date)).days if case.due_date else 0
        mine = m.bids.get(provider_id)
        views.append(
            pb.OpenAuction(
                case_id=case.case_id,
                round=m.round,
                amount_band=amount_band(case.amount_minor, case.currency),
                days_overdue=max(0, overdue),
                segment=case.segment,
                trustscore=case.trustscore,
                reason_codes=list(case.reason_codes),
                region=case.region,
                debtor_type="business" if case.debtor_is_business else "consumer",
                closes_at=timestamp(m.closes_at),
                my_fee=None if mine is None else to_percentage(mine.fee_percent),
            )
        )
    return views
