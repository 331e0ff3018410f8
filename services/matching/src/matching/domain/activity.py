"""What providers report on the cases they hold, on the calendar of the country they work in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from matching.domain.errors import InvalidField
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

# Payment dates and window boundaries are compared as calendar days in France, where the
# debtors pay and the providers work: a window starting at 23:30 UTC starts the next day there.
BUSINESS_TIMEZONE = ZoneInfo("Europe/Paris")
MAX_NOTE_LENGTH = 2000
# A provider's clock may run a little ahead of ours; more than this is a date in the future.
CLOCK_SKEW = timedelta(minutes=5)


def business_day(moment: datetime) -> date:
    """The calendar day in France of an aware moment."""
    return moment.astimezone(BUSINESS_TIMEZONE).date()


class ActionKind(StrEnum):
    """What a provider may report having done (or learnt) on a case."""

    LETTER = "letter"
    EMAIL = "email"
    CALL = "call"
    VISIT = "visit"
    FORMAL_NOTICE = "formal-notice"  # mise en demeure
    PROMISE_TO_PAY = "promise-to-pay"
    DISPUTE_RAISED = "dispute-raised"
    DEBTOR_UNREACHABLE = "debtor-unreachable"
    INJONCTION_FILED = "injonction-filed"
    COURT_HEARING = "court-hearing"
    ENFORCEMENT = "enforcement"
    OTHER = "other"


@dataclass(frozen=True)
class ActionReport:
    """A validated report of one action on a case."""

    kind: ActionKind
    occurred_at: datetime
    note: str
    promised_amount_minor: int = 0
    promised_on: date | None = None


def new_action_report(
    *,
    kind: str,
    occurred_at: datetime | None,
    note: str,
    promised_amount_minor: int,
    promised_currency: str,
    promised_on: str,
    case_currency: str,
    remaining_minor: int,
    window_started_at: datetime,
    now: datetime,
) -> ActionReport:
    """Check a provider's report against the case it holds; InvalidField names the culprit."""
    try:
        action_kind = ActionKind(kind.strip())
    except ValueError:
        allowed = ", ".join(k.value for k in ActionKind)
        raise InvalidField("kind", f"must be one of {allowed}") from None
    when = now if occurred_at is None else occurred_at
    if when > now + CLOCK_SKEW:
        raise InvalidField("occurred_at", "must not be in the future")
    if when < window_started_at:
        raise InvalidField(
            "occurred_at", f"must fall within your window, which started {window_started_at}"
        )
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidField("note", f"at most {MAX_NOTE_LENGTH} characters")
    if has_control_characters(note):
        raise InvalidField("note", CONTROL_CHARACTERS_RULE)
    promised_day: date | None = None
    if action_kind is not ActionKind.PROMISE_TO_PAY:
        if promised_amount_minor or promised_on.strip():
            raise InvalidField("promised_amount", "only a promise-to-pay carries a promise")
    else:
        if promised_amount_minor < 0:
            raise InvalidField("promised_amount.minor_units", "must not be negative")
        if promised_amount_minor and promised_currency != case_currency:
            raise InvalidField("promised_amount.currency", f"must be {case_currency}")
        if promised_amount_minor > remaining_minor:
            raise InvalidField("promised_amount.minor_units", "must not exceed what is still owed")
        if promised_on.strip():
            try:
                promised_day = date.fromisoformat(promised_on.strip())
            except ValueError:
                raise InvalidField("promised_on", "must be an ISO 8601 date (YYYY-MM-DD)") from None
            if promised_day < business_day(when):
                raise InvalidField("promised_on", "must not be before the promise was made")
    return ActionReport(action_kind, when, note.strip(), promised_amount_minor, promised_day)


def parse_paid_on(raw: str, today: date) -> date:
    """The day a payment was made: an ISO date, not in the future."""
    try:
        paid_on = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidField("paid_on", "must be an ISO 8601 date (YYYY-MM-DD)") from None
    if paid_on > today:
        raise InvalidField("paid_on", "must not be in the future")
    return paid_on
