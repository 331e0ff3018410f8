"""Matching's use cases on fakes, wired as bootstrap wires them, with steps tests share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from stdnum import luhn

from matching.domain.case_facts import (
    CaseScoredFact,
    CaseSubmittedFact,
    ScoredFacts,
    SubmittedFacts,
)
from matching.domain.case_matching import CaseMatching
from matching.domain.commands import AcceptAssignment, AnswerQuote, SetAutoBidRule
from matching.domain.providers import new_provider
from matching.domain.rules import MatchingConfig
from matching.entrypoints.timer_loop import TimerLoop
from matching.service_layer import (
    creditor_commands,
    incoming_facts,
    provider_commands,
    provider_directory,
)
from services.matching.tests.unit.fakes import FakeDatabase, FakeUnitOfWork, ManualClock

R = TypeVar("R")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris
CREDITOR = "creditor-1"


def siren(n: int) -> str:
    """A valid SIREN (Luhn) built from a small number."""
    body = f"{n:08d}"
    return body + luhn.calc_check_digit(body)


@dataclass
class Market:
    """One in-memory matching: committed state, a clock the test moves, the platform's rules."""

    database: FakeDatabase = field(default_factory=FakeDatabase)
    clock: ManualClock = field(default_factory=lambda: ManualClock(T0))
    config: MatchingConfig = field(default_factory=MatchingConfig)

    @property
    def deps(self) -> dict[str, Any]:
        """The named dependencies every command takes."""
        return {"clock": self.clock, "config": self.config}

    async def committed(self, use_case: Callable[[FakeUnitOfWork], Awaitable[R]]) -> R:
        """Run a use case in a unit of work and commit it, as an entrypoint does."""
        async with self.database.unit_of_work() as uow:
            result = await use_case(uow)
            await uow.commit()
            return result

    def case(self, case_id: str) -> CaseMatching:
        """A case's matching as committed."""
        return self.database.state.matchings[case_id]

    def published(self) -> list[str]:
        """Event types committed to the outbox, oldest first."""
        return self.database.published()

    def timers(self) -> TimerLoop:
        """The timer loop on this market's store."""
        return TimerLoop(self.database.unit_of_work, self.clock, self.config, poll_seconds=0.01)

    async def register(self, provider_id: str, n: int, **overrides: Any) -> None:
        """Register a provider that takes any case in France unless told otherwise."""
        profile: dict[str, Any] = {
            "provider_id": provider_id,
            "name": f"Cabinet {provider_id}",
            "kind": "commissaire",
            "siren": siren(n),
            "regions": ["FR"],
            "serves_business": True,
            "serves_consumer": True,
            "min_amount_minor": 10_000,
            "max_amount_minor": 100_000_000,
            "judicial": True,
            "capacity": 10,
        }
        provider = new_provider(**{**profile, **overrides})
        await self.committed(
            lambda uow: provider_directory.register_provider(provider, uow, clock=self.clock)
        )

    async def auto_rule(self, provider_id: str, fee: str, **criteria: Any) -> None:
        """Give a provider a standing bid."""
        command = SetAutoBidRule(provider_id, "default", Decimal(fee), **criteria)
        await self.committed(
            lambda uow: provider_commands.set_auto_bid_rule(command, uow, **self.deps)
        )

    async def submit(self, case_id: str, *, amount_minor: int = 480_000) -> None:
        """Intake's case-submitted for a business debtor in Paris."""
        fact = CaseSubmittedFact(
            case_id,
            SubmittedFacts(CREDITOR, "EUR", amount_minor, True, "2026-09-01", "FR-IDF"),
        )
        await self.committed(lambda uow: incoming_facts.case_submitted(fact, uow, **self.deps))

    async def score(
        self, case_id: str, *, strategy: str = "amicable", insolvent: bool = False
    ) -> None:
        """Scoring's case-scored."""
        fact = CaseScoredFact(
            case_id,
            CREDITOR,
            ScoredFacts("good-faith", strategy, 64, "0.62", ("LATE_90",), insolvent),
        )
        await self.committed(lambda uow: incoming_facts.case_scored(fact, uow, **self.deps))

    async def submit_scored_case(self, case_id: str, *, amount_minor: int = 480_000) -> None:
        """Both facts, so the auction opens."""
        await self.submit(case_id, amount_minor=amount_minor)
        await self.score(case_id)

    async def close_bidding(self) -> int:
        """Let the bidding period pass and fire the timers; how many fired."""
        self.clock.advance(self.config.rules.bidding_period)
        return await self.timers().tick()

    async def assign(self, case_id: str, provider_id: str) -> None:
        """Close bidding, accept the quote and have the quoted provider take the case."""
        await self.close_bidding()
        await self.committed(
            lambda uow: creditor_commands.answer_quote(
                AnswerQuote(CREDITOR, case_id, accept=True), uow, **self.deps
            )
        )
        assert self.case(case_id).holder == provider_id
        await self.committed(
            lambda uow: provider_commands.accept_assignment(
                AcceptAssignment(provider_id, case_id), uow, **self.deps
            )
        )
