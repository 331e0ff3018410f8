"""How many auction streams one provider may hold open on this gateway at once (issue 13,
point 14): each stream keeps a server-sent-events connection here and a watch in matching that
polls its database, so a provider (or a leaked API key) opening streams in a loop would load
both for everyone. Counted per gateway replica, in memory: the cap a provider meets is this
limit times the replicas, still bounded."""

from __future__ import annotations

import weakref
from collections import Counter

from gateway.domain.errors import TooManyAttempts

# A dashboard, a phone and a script at once; more is a loop or a leak.
STREAMS_PER_PROVIDER = 3
# A refused provider may retry when one of its streams ends; a minute is a polite pause.
RETRY_AFTER_SECONDS = 60


class StreamSlot:
    """One open stream; released once, by the stream's end or, if the stream never started
    (the client went away before its first byte), when the stream is collected."""

    def __init__(self, quota: StreamQuota, provider_id: str) -> None:
        self._quota = quota
        self._provider_id = provider_id
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._quota._give_back(self._provider_id)

    def tie_to(self, stream: object) -> None:
        """Release when `stream` is garbage collected, whether or not it ever ran."""
        weakref.finalize(stream, self.release)


class StreamQuota:
    """The open streams per provider on this gateway."""

    def __init__(self, limit: int = STREAMS_PER_PROVIDER) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def open_streams(self, provider_id: str) -> int:
        return self._open[provider_id]

    def take(self, provider_id: str) -> StreamSlot:
        """A slot for one more stream, or TooManyAttempts (429) naming the limit."""
        if self._open[provider_id] >= self.limit:
            raise TooManyAttempts(
                RETRY_AFTER_SECONDS,
                f"auction streams: at most {self.limit} open at once per provider; close one "
                f"or retry in {RETRY_AFTER_SECONDS} s",
            )
        self._open[provider_id] += 1
        return StreamSlot(self, provider_id)

    def _give_back(self, provider_id: str) -> None:
        self._open[provider_id] -= 1
        if self._open[provider_id] <= 0:
            del self._open[provider_id]
