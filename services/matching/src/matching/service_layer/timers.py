"""What happens when a deadline passes: a bidding period ends, a provider lets its accept
deadline pass, a holder's window ends; and when a case waiting for a provider is woken because a
provider may have become available. The timer loop fires each due case here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from matching.domain.case_matching import CaseMatching
from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.domain.status import Status
from matching.service_layer.auction_rounds import award, open_next_round, save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


@dataclass(frozen=True)
class Fired:
    """What a timer did, named as its trace shows it, and the trace that armed it (if kept)."""

    work: str
    armed_by: str | None = None


# The root span of each timer's work is named for what it did.
AUCTION_CLOSE = "auction close"
OFFER_LAPSE = "offer lapse"
WINDOW_END = "exclusive window end"
PROVIDER_WAKE = "awaiting provider wake"
NOT_DUE = "timer re-arm"


async def due_cases(uow: MatchingUnitOfWork, *, clock: Clock, limit: int) -> list[str]:
    """Cases whose deadline has passed, oldest first."""
    return await uow.timers.due(clock.now(), limit)


async def fire_timer(
    case_id: str, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> Fired | None:
    """Act on a case whose deadline passed; None when another worker has it or it is gone."""
    now = clock.now()
    claimed = await uow.timers.claim(case_id, now)
    if claimed is None:
        return None
    matching = await uow.cases.get(case_id)
    if matching is None:
        return None
    work = NOT_DUE
    if matching.status is Status.AWAITING_PROVIDER:
        work = PROVIDER_WAKE
        await provider_may_be_available(uow, matching, now, config)
    elif matching.due(now):
        if matching.status is Status.BIDDING:
            work = AUCTION_CLOSE
            await bidding_period_ended(uow, matching, now, config)
        elif matching.status is Status.OFFERED:
            work = OFFER_LAPSE
            accept_deadline_passed(matching, now, config)
        elif matching.status is Status.ASSIGNED:
            work = WINDOW_END
            window_ended(matching, now, config)
    await save_and_publish(uow, matching, now, config)
    return Fired(work, claimed.armed_by)


async def bidding_period_ended(
    uow: MatchingUnitOfWork, matching: CaseMatching, now: datetime, config: MatchingConfig
) -> None:
    """Bidding closes: the bids are ranked and the best one is quoted to the creditor."""
    await award(uow, matching, now, config)


async def provider_may_be_available(
    uow: MatchingUnitOfWork, matching: CaseMatching, now: datetime, config: MatchingConfig
) -> None:
    """A provider registered, changed or freed a slot: the waiting case's round opens if it can."""
    await open_next_round(uow, matching, now, config)


def accept_deadline_passed(matching: CaseMatching, now: datetime, config: MatchingConfig) -> None:
    """The provider never answered the offer: it counts as a late decline, the next is quoted."""
    matching.accept_deadline_passed(now, config.rules)


def window_ended(matching: CaseMatching, now: datetime, config: MatchingConfig) -> None:
    """The holder's window is over without full recovery: recalled, and the case rotates."""
    matching.window_ended(now, config.rules)
