"""One way to run a marketplace command from an entrypoint: its own unit of work, committed."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from matching.domain.clock import Clock
from matching.domain.rules import MatchingConfig
from matching.service_layer.idempotency import once
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra_shared.context import caller_var, idempotency_key_var

C_contra = TypeVar("C_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)
C = TypeVar("C")
R = TypeVar("R")
M = TypeVar("M", bound=Message)


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

    async def answer(
        self,
        use_case: MarketCommand[C, R],
        command: C,
        request: Message,
        reply: Callable[[R], M],
        reply_type: type[M],
    ) -> M:
        """The reply to `request`, acting once per (caller, Idempotency-Key) when the call
        carries a key: a retry gets the first reply, kept in the transaction of its effect."""
        key = idempotency_key_var.get()
        if not key:
            return reply(await self(use_case, command))
        caller = caller_var.get()
        owner = "" if caller is None else f"{caller.kind}/{caller.tenant_id or ''}/{caller.subject}"
        name = getattr(use_case, "__qualname__", type(request).__name__)
        asked = name.encode() + b"\0" + request.SerializeToString(deterministic=True)
        fingerprint = hashlib.sha256(asked).hexdigest()

        async with self.units() as uow:

            async def act() -> bytes:
                result = await use_case(command, uow, clock=self.clock, config=self.config)
                return reply(result).SerializeToString()

            answer, _ = await once(uow, owner, key, fingerprint, act)
            await uow.commit()
        return reply_type.FromString(answer)
