"""How long the gateway keeps the rows that only grow (README, "Retention")."""

from __future__ import annotations

from datetime import timedelta

from gateway.adapters.orm import idempotency_records, invitations, login_failures
from recouvra_shared.retention import RetentionRule

# A client retries a POST within minutes or hours; a week covers a retry after a long outage.
IDEMPOTENCY_PERIOD = timedelta(days=7)
# Failed log-ins (an e-mail and a client address: personal data) count only within the
# lock-out window; a day past it leaves the pattern visible to whoever investigates an attack.
LOGIN_FAILURE_AFTER_WINDOW = timedelta(days=1)
# An invitation (an e-mail: personal data) opens nothing once expired; a month past its expiry
# still answers an admin asking what became of it.
INVITATION_AFTER_EXPIRY = timedelta(days=30)


def retention_rules(login_failure_window_seconds: int) -> list[RetentionRule]:
    """The gateway's rules; a failure inside the lock-out window is always kept."""
    window = timedelta(seconds=login_failure_window_seconds)
    return [
        RetentionRule("idempotency records", idempotency_records, "created_at", IDEMPOTENCY_PERIOD),
        RetentionRule(
            "log-in failures",
            login_failures,
            "failed_at",
            window + LOGIN_FAILURE_AFTER_WINDOW,
        ),
        RetentionRule("invitations", invitations, "expires_at", INVITATION_AFTER_EXPIRY),
    ]
