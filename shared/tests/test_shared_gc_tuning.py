"""A service's garbage collector once it is built: what startup made is out of the collector's
reach, and it collects at the service's thresholds."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from recouvra_shared.gc_tuning import settle_after_startup
from recouvra_shared.settings import ServiceSettings


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_startup_objects_are_set_aside_and_the_thresholds_set(restored_collector: None) -> None:
    built_at_startup = [{"table": n} for n in range(1000)]
    settle_after_startup(ServiceSettings().gc_thresholds)
    assert gc.get_freeze_count() >= len(built_at_startup)
    assert gc.get_threshold() == (50_000, 20, 10)
    gc.collect()  # a full collection walks what requests made since, not what startup built
    assert gc.get_freeze_count() >= len(built_at_startup)
