"""Drives messaging's use cases on fakes as its consumers and timer loop would, on a test clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from messaging.adapters.calendar import FrenchHolidays
from messaging.domain.case_contacts import MessageStatus
from messaging.service_layer import due_steps, plan_lifecycle
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from services.messaging.tests.unit.fakes import RecordingDispatcher, TestClock, Units

HOLIDAYS = FrenchHolidays()


class Driver:
    """Messaging on fakes: facts in, timers fired as time passes, messages recorded."""

    def __init__(
        self, start: datetime, units: Callable[[], MessagingUnitOfWork] | None = None
    ) -> None:
        self.fakes = Units()
        self.units: Callable[[], MessagingUnitOfWork] = units or self.fakes
        self.clock = TestClock(start)
        self.dispatcher = RecordingDispatcher()
        self.dispatcher.clock = self.clock

    async def submitted(
        self, case_id: str, creditor_id: str, debtor_key: str, region: str = "FR-IDF"
    ) -> None:
        async with self.units() as uow:
            await plan_lifecycle.case_submitted(
                uow, case_id=case_id, creditor_id=creditor_id, debtor_key=debtor_key, region=region
            )
            await uow.commit()

    async def scored(self, case_id: str, strategy: str, *, insolvent: bool = False) -> None:
        async with self.units() as uow:
            await plan_lifecycle.case_scored(
                uow, case_id=case_id, strategy=strategy, segment="", insolvent=insolvent
            )
            await uow.commit()

    async def assigned(
        self, case_id: str, creditor_id: str, holder_id: str, round: int = 1
    ) -> None:
        async with self.units() as uow:
            await plan_lifecycle.case_assigned(
                uow,
                case_id=case_id,
                creditor_id=creditor_id,
                holder_id=holder_id,
                round=round,
                now=self.clock.now(),
            )
            await uow.commit()

    async def fire_due(self) -> int:
        fired = 0
        while await due_steps.fire_next_due(
            self.units, clock=self.clock, dispatcher=self.dispatcher, holidays=HOLIDAYS
        ):
            fired += 1
        while await due_steps.redispatch_pending(
            self.units, clock=self.clock, dispatcher=self.dispatcher
        ):
            fired += 1
        return fired

    async def run_for(self, duration: timedelta) -> None:
        """Let time pass, firing each timer when it comes due, as the timer loop would."""
        end = self.clock.now() + duration
        while True:
            await self.fire_due()
            upcoming = await self.next_timer()
            if upcoming is None or upcoming > end:
                break
            self.clock.moment = max(self.clock.now(), upcoming)
        self.clock.moment = end

    async def next_timer(self) -> datetime | None:
        """The earliest moment a plan or a pending message is due (subclasses on PostgreSQL)."""
        tables = self.fakes.tables
        moments = [p.due_at for p in tables.plans.values() if p.due_at is not None]
        moments += [
            tables.retry_at[m.message_id]
            for m in tables.messages.values()
            if m.status is MessageStatus.PENDING
        ]
        return min(moments, default=None)

    def sent(self, case_id: str | None = None) -> list[tuple[datetime, str, int]]:
        """(when, case, step) of each message handed to the Dispatcher, once per id."""
        seen: dict[str, tuple[datetime, str, int]] = {}
        for message in self.dispatcher.calls:
            if case_id is None or message.case_id == case_id:
                seen.setdefault(
                    message.message_id,
                    (self.dispatcher.sent_at[message.message_id], message.case_id, message.step),
                )
        return sorted(seen.values())
