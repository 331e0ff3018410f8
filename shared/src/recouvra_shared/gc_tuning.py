"""The garbage collector of a long-running service: what startup built is set aside for good,
and the collector runs less often, so that a full collection walks only what requests made.

A service builds most of what it will ever hold while it starts (modules, its web or gRPC
application, its SQLAlchemy tables and statements, protobuf descriptors). Python's cyclic
collector nevertheless walks all of it at each full collection, and with the interpreter's
default thresholds (700, 10, 10) a busy service runs one every 70,000 net allocations: at 500
`Score` calls a second, those pauses were most of the calls' p99 (docs/performance.md).
Reference counting still frees everything that is not in a cycle at once; only cyclic garbage
waits longer for its collection.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle_after_startup(thresholds: tuple[int, int, int]) -> None:
    """Collect startup's garbage, move every object alive now out of the collector's reach
    (gc.freeze: they live as long as the process) and set the collector's thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
    log.debug("%d objects set aside; collector thresholds %s", gc.get_freeze_count(), thresholds)
