"""One way to run a marketplace command from an entrypoint: its own unit of work, committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer.unit_of_work import MatchingUnitOfWork

C_contra = TypeVar("C_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)
C = TypeVar("C")
R = TypeVar("R")


class MarketCommand(Protocol[C_contra, R_co]):
    """A use case of (command, unit of work, clock, marketplace rules)."""

    def __call__(
        self, command: C_contra, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
    ) -> Awaitable[R_co]:
        """Carry the command out in the unit of work (which the caller commits)."""
        ...


class CommandRunner:
    """Runs each command in a unit of work of its own and commits it when the command succeeds;
    a refusal rolls everything back and reaches the caller through the platform's interceptor."""

    def __init__(
        self, units: Callable[[], MatchingUnitOfWork], clock: Clock, config: MatchingConfig
    ) -> None:
        self.units = units
        self.clock = clock
        self.config = config

    async def __call__(self, use_case: MarketCommand[C, R], command: C) -> R:
        """The use case's result, once its changes are committed."""
        async with self.units() as uow:
            result = await use_case(command, uow, clock=self.clock, config=self.config)
            await uow.commit()
        return result
