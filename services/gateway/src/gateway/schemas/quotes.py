"""REST shapes of the creditor's side of the marketplace: quotes with the provider's record, the
creditor's policy and what providers did on a case (mirroring matching's contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    MONEY_EXAMPLE,
    PROVIDER_ID_EXAMPLE,
    Money,
    TextInput,
    moment_of,
    money_of,
)
from gateway.schemas.payment_claims import PAYMENT_CLAIM_EXAMPLE, PaymentClaimView
from recouvra_shared.percentages import percent_field

RECORD_EXAMPLE: Any = {
    "segment": "good-faith-difficulty",
    "cases_finished": 12,
    "cases_recovered": 9,
    "recovery_rate": "0.7500",
    "amount_recovered_share": "0.8125",
    "average_days_to_recover": "23.5",
    "offers_received": 15,
    "offers_answered_in_time": 14,
}
QUOTE_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "status": "quoted",
    "awaiting_provider": None,
    "provider": {
        "id": PROVIDER_ID_EXAMPLE,
        "name": "Etude Lambert, commissaires de justice",
        "kind": "commissaire",
        "cases_finished": 12,
        "cases_recovered": 9,
        "record": RECORD_EXAMPLE,
    },
    "fee_percent": "9.5",
    "fee_base": "collected",
    "fixed_fee": {"amount": "0.00", "currency": "EUR"},
    "cost_on_full_recovery": {"amount": "456.00", "currency": "EUR"},
    "expected_net_recovery": MONEY_EXAMPLE,
    "recovery_probability": "0.6120",
    "why": "best expected net recovery among 3 offers",
}


class ProviderRecord(BaseModel):
    """A provider's outcomes in one segment, measured by the platform from the cases it held;
    decimals are strings, null while there is nothing to measure."""

    model_config = ConfigDict(json_schema_extra={"examples": [RECORD_EXAMPLE]})

    segment: str = Field(description="The segment measured: this case's")
    cases_finished: int = Field(
        description="Cases it held that ended: recovered, recalled or released"
    )
    cases_recovered: int = Field(description="Of those, cases paid in full while it held them")
    recovery_rate: str | None = Field(
        description="cases_recovered / cases_finished, a decimal from 0 to 1, e.g. 0.7500"
    )
    amount_recovered_share: str | None = Field(
        description="The mean share of the amount owed it recovered while holding a case, "
        "a decimal from 0 to 1"
    )
    average_days_to_recover: str | None = Field(
        description="Mean days from the start of its window to full payment, over the cases "
        "it recovered, e.g. 23.5"
    )
    offers_received: int = Field(description="Cases it was asked to accept")
    offers_answered_in_time: int = Field(
        description="Of those, offers it accepted or declined before the deadline"
    )

    @classmethod
    def of(cls, record: Any) -> ProviderRecord:
        """From recouvra.matching.v1.ProviderRecord."""
        return cls(
            segment=record.segment,
            cases_finished=record.cases_finished,
            cases_recovered=record.cases_recovered,
            recovery_rate=record.recovery_rate or None,
            amount_recovered_share=record.amount_recovered_share or None,
            average_days_to_recover=record.average_days_to_recover or None,
            offers_received=record.offers_received,
            offers_answered_in_time=record.offers_answered_in_time,
        )


AWAITING_EXAMPLE: Any = {
    "since": "2026-11-23T09:00:00Z",
    "next_round": 1,
    "cause": "not-covered",
    "reason": "no provider covers the debtor's region (FR-IDF) yet",
}


class AwaitingProvider(BaseModel):
    """Why no round is open: no provider may take the case yet. None of its three rounds is used
    up while it waits; the round opens as soon as one can (a provider joins, widens what it
    covers, frees a slot, or you stop excluding one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [AWAITING_EXAMPLE]})

    since: datetime | None = Field(description="When the case started waiting")
    next_round: int = Field(description="The round that opens once a provider can take the case")
    cause: str = Field(
        description="no-provider | not-covered (region, debtor type, amount or court route) | "
        "at-capacity | excluded (by your quote policy) | already-held (every provider that "
        "covers it had it in an earlier round)"
    )
    reason: str = Field(description="The same, in words")

    @classmethod
    def of(cls, message: Any, field: str) -> AwaitingProvider | None:
        """From the recouvra.matching.v1.AwaitingProvider field of a reply, None when unset."""
        if not message.HasField(field):
            return None
        awaiting = getattr(message, field)
        return cls(
            since=moment_of(awaiting, "since"),
            next_round=awaiting.next_round,
            cause=awaiting.cause,
            reason=awaiting.reason,
        )


class QuotedProvider(BaseModel):
    """Who would work the case, and its measured record in this case's segment."""

    id: str
    name: str
    kind: str = Field(description="agency | commissaire | lawyer")
    cases_finished: int
    cases_recovered: int
    record: ProviderRecord | None = Field(
        description="Its record in this case's segment: recovery rate, share of the amount "
        "recovered, days to recover, offers answered in time; null when matching sent none"
    )


class QuoteView(BaseModel):
    """What collecting this case would cost, and who would do it; null fields while no quote
    is waiting (the auction is still open, or the case is already assigned)."""

    model_config = ConfigDict(json_schema_extra={"examples": [QUOTE_EXAMPLE]})

    case_id: str
    round: int
    status: str = Field(
        description="awaiting-provider, bidding, quoted, offered, assigned, declined, exhausted, "
        "closed"
    )
    awaiting_provider: AwaitingProvider | None = Field(
        description="While status is awaiting-provider: why no round is open, and since when"
    )
    provider: QuotedProvider | None
    fee_percent: str | None
    fee_base: str | None = Field(
        default=None, description="What fee_percent is a share of: collected or principal"
    )
    fixed_fee: Money | None
    cost_on_full_recovery: Money | None = Field(description="Fees if everything is recovered")
    expected_net_recovery: Money | None
    recovery_probability: str | None
    why: str | None

    @classmethod
    def of(cls, reply: Any) -> QuoteView:
        """From recouvra.matching.v1.QuoteReply."""
        quoted = bool(reply.provider_id)
        return cls(
            case_id=reply.case_id,
            round=reply.round,
            status=reply.status,
            awaiting_provider=AwaitingProvider.of(reply, "awaiting_provider"),
            provider=QuotedProvider(
                id=reply.provider_id,
                name=reply.provider_name,
                kind=reply.provider_kind,
                cases_finished=reply.provider_cases_finished,
                cases_recovered=reply.provider_cases_recovered,
                record=ProviderRecord.of(reply.provider_record)
                if reply.HasField("provider_record")
                else None,
            )
            if quoted
            else None,
            fee_percent=str(percent_field(reply, "fee")) if quoted else None,
            fee_base=(reply.fee_base or "collected") if quoted else None,
            fixed_fee=Money.of(reply.fixed_fee) if quoted else None,
            cost_on_full_recovery=Money.of(reply.cost_on_full_recovery) if quoted else None,
            expected_net_recovery=Money.of(reply.expected_net_recovery) if quoted else None,
            recovery_probability=reply.recovery_probability if quoted else None,
            why=reply.why if quoted else None,
        )


POLICY_EXAMPLE: Any = {
    "max_fee_percent": "20",
    "auto_accept_below_percent": "10",
    "window_days": 45,
    "excluded_providers": [],
}


class CreditorPolicyIn(TextInput):
    """Your standing choices for every quote from now on; replaces the whole policy."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [POLICY_EXAMPLE]})

    max_fee_percent: str | None = Field(
        default=None, max_length=10, description="Offers above it are never quoted; null: none"
    )
    auto_accept_below_percent: str | None = Field(
        default=None,
        max_length=10,
        description="Quotes at or below it are accepted for you; null: always ask",
    )
    window_days: int | None = Field(
        default=None, ge=1, le=365, description="Exclusive window; null: platform default (45)"
    )
    excluded_providers: list[str] = Field(
        default_factory=list, max_length=100, description="Provider ids never to take part"
    )

    @field_validator("max_fee_percent", "auto_accept_below_percent")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        """An empty fee means none; matching owns the others' bounds."""
        return value.strip() if value is not None and value.strip() else None

    @field_validator("excluded_providers")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        if any(not p.strip() or len(p) > 64 for p in value):
            raise ValueError("each provider id must be 1 to 64 characters")
        return [p.strip() for p in value]


class CreditorPolicyView(BaseModel):
    """The policy as stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [POLICY_EXAMPLE]})

    max_fee_percent: str | None
    auto_accept_below_percent: str | None
    window_days: int | None
    excluded_providers: list[str]


# --- the case's activity, for its creditor --------------------------------------------------------

CASE_ACTION_EXAMPLE: Any = {
    "action_id": "2c9a8f61-7d3e-4b5a-9c1d-8e7f6a5b4c3d",
    "round": 1,
    "provider_id": PROVIDER_ID_EXAMPLE,
    "kind": "promise-to-pay",
    "occurred_at": "2026-11-20T13:30:00Z",
    "note": "The debtor promised to pay 400 EUR by the end of the month.",
    "promised_amount": {"amount": "400.00", "currency": "EUR"},
    "promised_on": "2026-11-30",
}
ATTRIBUTED_PAYMENT_EXAMPLE: Any = {
    "payment_id": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a",
    "amount": {"amount": "400.00", "currency": "EUR"},
    "paid_on": "2026-11-28",
    "source": "provider",
    "provider_id": PROVIDER_ID_EXAMPLE,
    "round": 1,
}


class CaseAction(BaseModel):
    """Something a provider reported doing on the case."""

    action_id: str
    round: int = Field(description="The round in which the provider held the case")
    provider_id: str
    kind: str = Field(description="letter, email, call, visit, formal-notice, promise-to-pay, ...")
    occurred_at: datetime | None
    note: str
    promised_amount: Money | None = Field(description="promise-to-pay: the amount promised")
    promised_on: str | None = Field(description="promise-to-pay: the date promised")

    @classmethod
    def of(cls, action: Any) -> CaseAction:
        """From recouvra.matching.v1.CaseAction."""
        return cls(
            action_id=action.action_id,
            round=action.round,
            provider_id=action.provider_id,
            kind=action.kind,
            occurred_at=moment_of(action, "occurred_at"),
            note=action.note,
            promised_amount=money_of(action, "promised_amount"),
            promised_on=action.promised_on or None,
        )


class AttributedPayment(BaseModel):
    """A payment on the case, and the provider it is attributed to."""

    payment_id: str
    amount: Money | None
    paid_on: str = Field(description="ISO 8601 date")
    source: str = Field(
        description="creditor: you declared it; provider: a provider's claim you confirmed"
    )
    provider_id: str | None = Field(
        description="The provider that held the case on paid_on; null when nobody did"
    )
    round: int | None = Field(description="That provider's round; null when nobody held it")

    @classmethod
    def of(cls, payment: Any) -> AttributedPayment:
        """From recouvra.matching.v1.AttributedPayment."""
        return cls(
            payment_id=payment.payment_id,
            amount=money_of(payment, "amount"),
            paid_on=payment.paid_on,
            source=payment.source,
            provider_id=payment.provider_id or None,
            round=payment.round or None,
        )


ACTIVITY_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "status": "assigned",
    "round": 1,
    "awaiting_provider": None,
    "actions": [CASE_ACTION_EXAMPLE],
    "payments": [ATTRIBUTED_PAYMENT_EXAMPLE],
    "claims": [PAYMENT_CLAIM_EXAMPLE],
    "recovered": {"amount": "400.00", "currency": "EUR"},
}


class CaseActivity(BaseModel):
    """Every action the providers reported on the case, every payment with the provider it is
    attributed to, and every payment a provider claims with your answer, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [ACTIVITY_EXAMPLE]})

    case_id: str
    status: str = Field(
        description="The case's matching status, e.g. awaiting-provider, assigned, closed"
    )
    round: int
    awaiting_provider: AwaitingProvider | None = Field(
        description="While status is awaiting-provider: why no round is open, and since when"
    )
    actions: list[CaseAction]
    payments: list[AttributedPayment] = Field(
        description="Payments that count: yours, and providers' claims you confirmed"
    )
    claims: list[PaymentClaimView] = Field(
        description="Payments providers reported: counted only once you confirm them "
        "(POST .../payment-claims/{claim_id}/confirmation) or dispute them (.../dispute)"
    )
    recovered: Money | None = Field(
        description="Everything paid so far (claims only once confirmed)"
    )

    @classmethod
    def of(cls, activity: Any) -> CaseActivity:
        """From recouvra.matching.v1.CaseActivity."""
        return cls(
            case_id=activity.case_id,
            status=activity.status,
            round=activity.round,
            awaiting_provider=AwaitingProvider.of(activity, "awaiting_provider"),
            actions=[CaseAction.of(a) for a in activity.actions],
            payments=[AttributedPayment.of(p) for p in activity.payments],
            claims=[PaymentClaimView.of(c) for c in activity.claims],
            recovered=money_of(activity, "recovered"),
        )


class ProviderRecordList(BaseModel):
    """A provider's own record, one item per segment it has had a case in."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [RECORD_EXAMPLE]}]})

    items: list[ProviderRecord]


class ProviderResultView(BaseModel):
    """What one provider did on the creditor's cases (the dashboard's per-provider table)."""

    provider_id: str
    provider_name: str
    cases_finished: int
    cases_recovered: int
    recovery_rate: str | None = Field(description="A decimal from 0 to 1; null before any")
    average_days_to_recover: str | None
    recovered: Money | None

    @classmethod
    def of(cls, result: Any) -> ProviderResultView:
        """From recouvra.matching.v1.ProviderResult."""
        return cls(
            provider_id=result.provider_id,
            provider_name=result.provider_name,
            cases_finished=result.cases_finished,
            cases_recovered=result.cases_recovered,
            recovery_rate=result.recovery_rate or None,
            average_days_to_recover=result.average_days_to_recover or None,
            recovered=Money.of(result.recovered) if result.HasField("recovered") else None,
        )
