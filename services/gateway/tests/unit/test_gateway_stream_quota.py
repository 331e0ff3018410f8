"""The per-provider cap on open auction streams: taken and given back once each, per provider,
and given back when a stream is collected without ever having run."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import pytest

from gateway.domain.errors import TooManyAttempts
from gateway.service_layer.stream_quota import StreamQuota


def test_each_provider_has_its_own_places_and_a_slot_is_given_back_once() -> None:
    quota = StreamQuota(limit=2)
    first, _ = quota.take("prov-a"), quota.take("prov-a")
    with pytest.raises(TooManyAttempts) as refused:
        quota.take("prov-a")
    assert refused.value.retry_after == 60
    quota.take("prov-b")  # another provider is not held back by prov-a's streams
    first.release()
    first.release()  # the stream's end and its collection may both release it: counted once
    assert quota.open_streams("prov-a") == 1
    quota.take("prov-a")
    assert quota.open_streams("prov-a") == 2


def test_a_stream_collected_before_its_first_byte_gives_its_place_back() -> None:
    quota = StreamQuota(limit=1)

    async def never_run() -> AsyncIterator[str]:
        yield "event"

    stream = never_run()
    quota.take("prov-a").tie_to(stream)
    assert quota.open_streams("prov-a") == 1
    del stream
    gc.collect()
    assert quota.open_streams("prov-a") == 0
