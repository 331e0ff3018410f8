"""How often and when one debtor may be contacted, across every case and creditor.

Defaults follow the nearest French benchmark, Code de la consommation art. D223-9 (decree
2022-1313 on telephone solicitation): weekdays only, 10:00-13:00 and 14:00-20:00 in the debtor's
time, never on a Saturday, a Sunday or a public holiday. D223-9 allows 4 solicitations per 30
days; a debtor chased by several creditors at once gets at most 1 message a day and 3 in any 7
days (rolling), whoever sends them. A creditor may only make these stricter.

A step that breaks a rule is postponed to the next allowed moment, with every reason recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from messaging.domain.outgoing import Channel
from recouvra_shared.errors import InvalidField, InvalidRequest, Violation

WEEK = timedelta(days=7)
LUNCH = (time(13), time(14))
MAX_SEARCH_DAYS = 60
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ContactLimits:
    """The caps and allowed hours; hours are in the debtor's time zone, [start, end)."""

    per_day: int = 1
    per_week: int = 3
    start_hour: int = 10
    end_hour: int = 20
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))  # Mon-Fri


PLATFORM_LIMITS = ContactLimits()


def stricter_limits(
    asked: ContactLimits, platform: ContactLimits = PLATFORM_LIMITS
) -> ContactLimits:
    """A creditor's limits, refused field by field where laxer than the platform's."""
    problems = []
    if not 0 < asked.per_day <= platform.per_day:
        problems.append(Violation("per_day", f"between 1 and {platform.per_day} (stricter only)"))
    if not 0 < asked.per_week <= platform.per_week:
        problems.append(Violation("per_week", f"between 1 and {platform.per_week} (stricter only)"))
    if asked.per_day > asked.per_week:
        problems.append(Violation("per_day", "at most per_week"))
    if asked.start_hour < platform.start_hour:
        problems.append(Violation("start_hour", f"{platform.start_hour} or later (stricter only)"))
    if asked.end_hour > platform.end_hour:
        problems.append(Violation("end_hour", f"{platform.end_hour} or earlier (stricter only)"))
    if asked.end_hour - asked.start_hour < 1:
        problems.append(Violation("end_hour", "at least an hour after start_hour"))
    if not asked.weekdays:
        problems.append(Violation("weekdays", "at least one day"))
    if extra := asked.weekdays - platform.weekdays:
        names = ", ".join(WEEKDAY_NAMES[d] for d in sorted(extra) if 0 <= d < 7)
        problems.append(Violation("weekdays", f"not {names or 'unknown days'} (stricter only)"))
    if problems:
        raise InvalidRequest(problems)
    return asked


def channel_allowed_to_refuse(channel: Channel) -> Channel:
    """The channel a debtor refuses, refused itself for letters: a registered letter is how a
    demand to pay is lawfully made, and the debtor's address cannot be opted out of."""
    if channel is Channel.LETTER:
        raise InvalidField("channel", "a letter cannot be refused; only email or sms")
    return channel


def channel_for(wanted: Channel, refused: frozenset[Channel]) -> tuple[Channel, str]:
    """The channel a step goes by: a refused e-mail or SMS goes by letter, the reason said."""
    if wanted in refused:
        return Channel.LETTER, f"{wanted.value} refused by the debtor: sent by letter"
    return wanted, ""


@dataclass(frozen=True)
class Verdict:
    """When a step may go, and why not earlier (empty when at once)."""

    at: datetime
    reasons: tuple[str, ...]

    @property
    def postponed(self) -> bool:
        return bool(self.reasons)


def _at(day: date, hour: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, hour, zone)


def next_allowed(
    wanted: datetime,
    *,
    zone: ZoneInfo,
    limits: ContactLimits,
    contacts: Sequence[datetime],
    is_holiday: Callable[[date], bool],
) -> Verdict:
    """The first moment at or after `wanted` when this debtor may be contacted, given the moments
    it was contacted (`contacts`, every creditor), and the reasons for any wait."""
    reasons: list[str] = []

    def because(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    start, end = time(limits.start_hour), time(limits.end_hour)
    moment = wanted
    for _ in range(MAX_SEARCH_DAYS * 4):
        local = moment.astimezone(zone)
        day, clock = local.date(), local.time()
        next_day = _at(day + timedelta(days=1), start, zone)
        if is_holiday(day):
            because(f"public holiday ({day.isoformat()})")
            moment = next_day
        elif day.weekday() not in limits.weekdays:
            because(f"no contact on a {WEEKDAY_NAMES[day.weekday()]}")
            moment = next_day
        elif clock < start:
            because(f"before {start:%H:%M} in the debtor's time")
            moment = _at(day, start, zone)
        elif clock >= end:
            because(f"after {end:%H:%M} in the debtor's time")
            moment = next_day
        elif LUNCH[0] <= clock < LUNCH[1]:
            because("lunch break (13:00-14:00) in the debtor's time")
            moment = _at(day, LUNCH[1], zone)
        elif sum(1 for c in contacts if c.astimezone(zone).date() == day) >= limits.per_day:
            because(f"daily cap of {limits.per_day} reached for this debtor")
            moment = next_day
        elif len(recent := sorted(c for c in contacts if moment - WEEK < c <= moment)) >= (
            limits.per_week
        ):
            because(f"cap of {limits.per_week} in 7 days reached for this debtor")
            # The window frees a place when the oldest counted contact leaves it.
            moment = recent[len(recent) - limits.per_week] + WEEK + timedelta(seconds=1)
        else:
            return Verdict(moment, tuple(reasons))
    raise ValueError("no allowed moment within the search horizon")  # limits are validated


def debtor_zone(region: str) -> ZoneInfo:
    """The debtor's time zone from intake's region (ISO 3166-2 or country); Paris by default."""
    code = region.upper()
    if code in OVERSEAS_ZONES:
        return ZoneInfo(OVERSEAS_ZONES[code])
    return ZoneInfo(COUNTRY_ZONES.get(code.split("-")[0], "Europe/Paris"))


OVERSEAS_ZONES = {
    "FR-971": "America/Guadeloupe",
    "FR-972": "America/Martinique",
    "FR-973": "America/Cayenne",
    "FR-974": "Indian/Reunion",
    "FR-976": "Indian/Mayotte",
    "FR-GP": "America/Guadeloupe",
    "FR-MQ": "America/Martinique",
    "FR-GF": "America/Cayenne",
    "FR-RE": "Indian/Reunion",
    "FR-YT": "Indian/Mayotte",
}
COUNTRY_ZONES = {
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "LU": "Europe/Luxembourg",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "PT": "Europe/Lisbon",
    "CH": "Europe/Zurich",
    "AT": "Europe/Vienna",
    "IE": "Europe/Dublin",
    "GB": "Europe/London",
    "PL": "Europe/Warsaw",
    "MC": "Europe/Monaco",
}
