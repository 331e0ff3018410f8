"""How long matching keeps the rows that only grow (README, "Retention")."""

from __future__ import annotations

from datetime import timedelta

from matching.adapters.orm import idempotency_keys
from recouvra_shared.retention import RetentionRule

# The keys are the gateway's, forwarded from a client's retried POST (bids, answers, actions,
# claims): the gateway keeps its own record of them for 7 days, and a retry matching answered
# from its record must not meet a key matching already forgot, so matching keeps them a day more.
IDEMPOTENCY_PERIOD = timedelta(days=8)

RETENTION_RULES = [
    RetentionRule("idempotency keys", idempotency_keys, "created_at", IDEMPOTENCY_PERIOD),
]
