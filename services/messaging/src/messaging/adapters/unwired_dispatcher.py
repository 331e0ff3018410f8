"""The Dispatcher until the channels exist (issue 15, point 3, built separately): it sends
nothing and says so, so each message the plan let go is recorded `not-sent` with that reason
instead of being reported sent. bootstrap.py swaps in the real Dispatcher when it lands."""

from __future__ import annotations

import logging

from messaging.domain.outgoing import Channel, DispatchResult, MessageToSend

log = logging.getLogger(__name__)

UNWIRED = "no channel wired yet: nothing was sent (issue 15, point 3)"


class UnwiredDispatcher:
    """Refuses every message with the same plain reason."""

    async def dispatch(self, message: MessageToSend) -> DispatchResult:
        log.warning(
            "message %s of case %s step %s not sent: no channel wired",
            message.message_id,
            message.case_id,
            message.step,
        )
        return DispatchResult(sent=False, reason=UNWIRED)

    async def outcome(self, message_id: str, channel: Channel) -> DispatchResult | None:
        """Nothing was ever sent."""
        return None
