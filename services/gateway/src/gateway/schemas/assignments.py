"""REST shapes of the cases a provider holds: its answers to offers, the actions and payments it
reports (mirroring matching's contract, bidding.proto)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from gateway.domain.errors import InvalidField
from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    MONEY_EXAMPLE,
    PROVIDER_ID_EXAMPLE,
    Money,
    PositiveMoney,
    TextInput,
    moment_of,
    money_of,
)
from recouvra_shared.percentages import percent_field

ASSIGNMENT_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "status": "assigned",
    "window_ends_at": "2027-01-07T10:00:00Z",
}


class AssignmentView(BaseModel):
    """The case's assignment after your answer or report."""

    model_config = ConfigDict(json_schema_extra={"examples": [ASSIGNMENT_EXAMPLE]})

    case_id: str
    round: int
    status: str = Field(description="The case's matching status, e.g. assigned, bidding")
    window_ends_at: datetime | None = Field(description="End of your exclusive window")

    @classmethod
    def of(cls, reply: Any) -> AssignmentView:
        """From recouvra.matching.v1.AssignmentReply."""
        ends = reply.window_ends_at if reply.HasField("window_ends_at") else None
        return cls(
            case_id=reply.case_id,
            round=reply.round,
            status=reply.status,
            window_ends_at=ends.ToDatetime(tzinfo=UTC) if ends is not None else None,
        )


# --- what the provider did on a case: actions, payments, the cases it holds ---------------------

ActionKind = Literal[
    "letter",
    "email",
    "call",
    "visit",
    "formal-notice",
    "promise-to-pay",
    "dispute-raised",
    "debtor-unreachable",
    "injonction-filed",
    "court-hearing",
    "enforcement",
    "other",
]
PROMISE_TO_PAY = "promise-to-pay"
# Actions and payments are dated within the platform's life, never at the edges of the calendar
# (where a time zone would push a timestamp out of protobuf's range).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
DATE_RULE = "must be a date, YYYY-MM-DD"
DATETIME_RULE = "must be a date and time with its offset, e.g. 2026-11-20T14:30:00+01:00"


def iso_date(value: Any) -> Any:
    """Only a "YYYY-MM-DD" string is a date here: pydantic would also take a number of seconds."""
    if not isinstance(value, str):
        raise ValueError(DATE_RULE)
    return value


def iso_datetime(value: Any) -> Any:
    """Only an ISO 8601 string is a moment here: pydantic would also take a number of seconds."""
    if not isinstance(value, str):
        raise ValueError(DATETIME_RULE)
    return value


def since_2000(value: datetime) -> datetime:
    """A moment with its offset, in UTC, not before 2000."""
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be between 2000-01-01 and 9999-12-31") from None
    if moment < EARLIEST:
        raise ValueError("must not be before 2000-01-01")
    return moment


def date_since_2000(value: date) -> date:
    """A calendar date not before 2000."""
    if value < EARLIEST.date():
        raise ValueError("must not be before 2000-01-01")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_date), AfterValidator(date_since_2000)]
IsoMoment = Annotated[AwareDatetime, BeforeValidator(iso_datetime), AfterValidator(since_2000)]
MONEY_IN_EXAMPLE: Any = {"amount": "400.00", "currency": "EUR"}


ACTION_EXAMPLES: Any = [
    {
        "kind": "call",
        "occurred_at": "2026-11-20T14:30:00+01:00",
        "note": "Spoke to the accountant; the invoice is with the director for approval.",
    },
    {
        "kind": "promise-to-pay",
        "note": "The debtor promised to pay 400 EUR by the end of the month.",
        "promised_amount": MONEY_IN_EXAMPLE,
        "promised_on": "2026-11-30",
    },
]


class ActionIn(TextInput):
    """Something you did on a case you hold; the creditor sees it on the case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": ACTION_EXAMPLES})

    kind: ActionKind = Field(
        description="What was done. A promise-to-pay also extends your window, up to the "
        "platform's cap."
    )
    occurred_at: IsoMoment | None = Field(
        default=None,
        description="When it happened, with its offset; never in the future. Null: now.",
    )
    note: str = Field(
        default="",
        max_length=2000,
        description="What the creditor should know, at most 2000 characters",
    )
    promised_amount: PositiveMoney | None = Field(
        default=None, description="promise-to-pay only: the amount promised, optional"
    )
    promised_on: IsoDate | None = Field(
        default=None, description="promise-to-pay only: the date promised, optional"
    )

    def checked(self) -> ActionIn:
        """The action, once its promise fields fit its kind."""
        if self.kind != PROMISE_TO_PAY:
            for field in ("promised_amount", "promised_on"):
                if getattr(self, field) is not None:
                    raise InvalidField(field, f"only with kind {PROMISE_TO_PAY}")
        return self


ACTION_REPORTED_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "action_id": "2c9a8f61-7d3e-4b5a-9c1d-8e7f6a5b4c3d",
    "round": 1,
    "window_ends_at": "2027-01-07T10:00:00Z",
}


class ActionReported(BaseModel):
    """The action as recorded."""

    model_config = ConfigDict(json_schema_extra={"examples": [ACTION_REPORTED_EXAMPLE]})

    case_id: str
    action_id: str
    round: int = Field(description="The round in which you hold the case")
    window_ends_at: datetime | None = Field(
        description="End of your exclusive window, after any extension a promise to pay earned"
    )

    @classmethod
    def of(cls, reply: Any) -> ActionReported:
        """From recouvra.matching.v1.ReportActionReply."""
        return cls(
            case_id=reply.case_id,
            action_id=reply.action_id,
            round=reply.round,
            window_ends_at=moment_of(reply, "window_ends_at"),
        )


PAYMENT_IN_EXAMPLE: Any = {
    "amount": MONEY_IN_EXAMPLE,
    "paid_on": "2026-11-20",
    "settles_in_full": False,
    "reference": "VIR-2026-11-20-0042",
}


class PaymentIn(TextInput):
    """Money the debtor paid you, in your current window on a case you hold: a claim, counted
    (and credited to you) once the creditor confirms it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PAYMENT_IN_EXAMPLE]})

    amount: PositiveMoney = Field(description="What the debtor paid, in the case's currency")
    paid_on: IsoDate = Field(description="The day the debtor paid, not in the future")
    settles_in_full: bool = Field(
        default=False, description="True when this payment clears what the debtor owes"
    )
    reference: str = Field(
        min_length=1,
        max_length=64,
        description="Your own reference, unique per case: the same reference again is the same "
        "payment",
    )

    @field_validator("reference")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is required")
        return value.strip()


PAYMENT_REPORTED_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "payment_id": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a",
    "attributed_to": PROVIDER_ID_EXAMPLE,
    "status": "assigned",
    "state": "claimed",
}


class PaymentReported(BaseModel):
    """Your claim as recorded: it counts once the creditor confirms it."""

    model_config = ConfigDict(json_schema_extra={"examples": [PAYMENT_REPORTED_EXAMPLE]})

    case_id: str
    payment_id: str = Field(description="The claim's id")
    attributed_to: str | None = Field(description="You: credited once the creditor confirms")
    status: str = Field(description="The case's matching status (a claim does not change it)")
    state: str = Field(description="claimed, confirmed or disputed")

    @classmethod
    def of(cls, reply: Any) -> PaymentReported:
        """From recouvra.matching.v1.ReportPaymentReply."""
        return cls(
            case_id=reply.case_id,
            payment_id=reply.payment_id,
            attributed_to=reply.attributed_to or None,
            status=reply.status,
            state=reply.claim_state,
        )


HELD_CASE_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "round": 1,
    "status": "assigned",
    "accept_by": None,
    "window_ends_at": "2027-01-07T10:00:00Z",
    "fee_percent": "9.5",
    "fixed_fee": {"amount": "0.00", "currency": "EUR"},
    "amount": MONEY_EXAMPLE,
    "recovered": MONEY_IN_EXAMPLE,
}


class HeldCaseView(BaseModel):
    """A case you hold, or are asked to accept."""

    model_config = ConfigDict(json_schema_extra={"examples": [HELD_CASE_EXAMPLE]})

    case_id: str
    round: int
    status: str = Field(description="offered: answer by accept_by; assigned: yours to work")
    accept_by: datetime | None = Field(description="While offered: answer before this moment")
    window_ends_at: datetime | None = Field(description="Once assigned: end of your window")
    fee_percent: str = Field(description="Your success fee on what is recovered")
    fixed_fee: Money | None
    amount: Money | None = Field(description="What the debtor owes on the case")
    recovered: Money | None = Field(description="What was paid so far")

    @classmethod
    def of(cls, held: Any) -> HeldCaseView:
        """From recouvra.matching.v1.HeldCase."""
        return cls(
            case_id=held.case_id,
            round=held.round,
            status=held.status,
            accept_by=moment_of(held, "accept_by"),
            window_ends_at=moment_of(held, "window_ends_at"),
            fee_percent=str(percent_field(held, "fee")),
            fixed_fee=money_of(held, "fixed_fee"),
            amount=money_of(held, "amount"),
            recovered=money_of(held, "recovered"),
        )


class HeldCaseList(BaseModel):
    """The cases you hold or are asked to accept now."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [HELD_CASE_EXAMPLE]}]})

    items: list[HeldCaseView]
