"""How long intake keeps the rows that only grow (README, "Retention")."""

from __future__ import annotations

from datetime import timedelta

from intake.adapters.orm import idempotency_keys
from recouvra_shared.retention import RetentionRule

# Idempotency keys come from creditors' retries and from other services' event handlers (a key
# per event): a dead letter can be replayed until its topic's retention ends (30 days), and must
# still find its first answer then, so the keys outlive it by five days.
IDEMPOTENCY_PERIOD = timedelta(days=35)

RETENTION_RULES = [
    RetentionRule("idempotency keys", idempotency_keys, "created_at", IDEMPOTENCY_PERIOD),
]
