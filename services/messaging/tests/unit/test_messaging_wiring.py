"""Messaging hands the runtime its own unit of work, its plan consumers (one group per fact,
each with its dead-letter topic), the ContactPlanService and its plan timers."""

from __future__ import annotations

from messaging.adapters.unit_of_work import SqlMessagingUnitOfWork
from messaging.bootstrap import build
from messaging.config import MessagingSettings
from recouvra_shared.db import Database
from recouvra_shared.runtime import Wiring


async def test_messaging_wires_its_consumers_timers_and_grpc_service() -> None:
    settings = MessagingSettings()
    database = Database.connect(settings.database_url.get_secret_value())  # connects nothing yet
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
        assert parts.unit_of_work is not None
        assert isinstance(parts.unit_of_work(), SqlMessagingUnitOfWork)
        plans = {s.topic: s.consumer for s in parts.subscriptions if "-plans-" in s.consumer}
        webhooks = {s.topic for s in parts.subscriptions if "-webhooks-" in s.consumer}
        assert plans["matching.case-assigned.v1"] == "messaging-plans-case-assigned"
        assert set(plans) == {
            "intake.case-submitted.v1",
            "intake.case-withdrawn.v1",
            "scoring.case-scored.v1",
            "matching.case-assigned.v1",
            "matching.case-rotated.v1",
            "matching.case-recalled.v1",
            "matching.case-closed.v1",
            "matching.case-reopened.v1",
            "matching.case-exhausted.v1",
            "matching.action-reported.v1",
            "matching.payment-attributed.v1",
            "settlement.payment-announced.v1",
            "settlement.payment-announcement-unwound.v1",
        }
        assert "settlement.payment-received.v1" in webhooks
        assert "messaging.dispute-opened.v1" in webhooks  # creditors hear of messaging's own facts
        assert "messaging.plan-broken.v1" in parts.published_topics
        assert len(parts.subscriptions) == len(plans) + len(webhooks)  # one group per purpose
        assert [name for name, _ in parts.grpc_services] == [
            "recouvra.messaging.v1.ContactPlanService",
            "recouvra.messaging.v1.WebhookService",
            "recouvra.messaging.v1.PreviewService",
            "recouvra.messaging.v1.PortalService",
            "recouvra.messaging.v1.DebtorActionService",
            "recouvra.messaging.v1.CaseThreadService",
            "recouvra.messaging.v1.PortalThreadService",
        ]
        # The plans' timers (dispatching through the channels), the instalment plans' timers,
        # webhook deliveries, bounces, the thread's e-mail notices.
        assert len(parts.background) == 5
    finally:
        await database.dispose()
