"""Assignment facts applied in any order leave the latest standing; closure is final."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.message import Message

from recouvra.events.v1.assignment_events_pb2 import (
    CaseAssigned,
    CaseClosed,
    CaseRecalled,
    CaseReopened,
    CaseRotated,
)
from recouvra_shared.events import decode_payload, new_event
from vault.entrypoints.assignment_facts import assignment_subscriptions

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def assigned(provider: str, window_ends_at: datetime | None = None) -> CaseAssigned:
    """Matching's assignment of case-1 to `provider`, its window ending in a year by default."""
    fact = CaseAssigned(case_id="case-1", provider_id=provider)
    fact.window_ends_at.FromDatetime(window_ends_at or datetime.now(UTC) + timedelta(days=365))
    return fact


async def apply(vault, event_type: str, payload: Message, minutes: int) -> None:
    event = new_event(
        producer="matching",
        event_type=event_type,
        version=1,
        case_id="case-1",
        tenant_id="creditor-1",
        payload=payload,
        occurred_at=T0 + timedelta(minutes=minutes),
    )
    (subscription,) = [s for s in assignment_subscriptions() if s.topic == event.topic]
    async with vault.deps.units() as uow:
        await subscription.handler(decode_payload(event.envelope), event.envelope, uow)
        await uow.commit()


async def read_code(vault, document_id: str, provider: str) -> grpc.StatusCode:
    try:
        await vault.get(document_id, vault.caller("provider", provider))
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def test_a_recall_seen_before_its_older_assignment_still_wins(vault) -> None:
    document = await vault.put([vault.pdf])
    await apply(vault, "case-recalled", CaseRecalled(case_id="case-1", provider_id="p-1"), 5)
    await apply(vault, "case-assigned", assigned("p-1"), 1)
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.NOT_FOUND


async def test_rotation_moves_access_and_closure_ends_it_for_good(vault) -> None:
    document = await vault.put([vault.pdf])
    await apply(vault, "case-assigned", assigned("p-1"), 1)
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.OK

    await apply(vault, "case-rotated", CaseRotated(case_id="case-1", from_provider_id="p-1"), 2)
    await apply(vault, "case-assigned", assigned("p-2"), 3)
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.NOT_FOUND
    assert await read_code(vault, document.document_id, "p-2") == grpc.StatusCode.OK

    # While assigned, the provider may add evidence to the case; the creditor then sees it.
    added = await vault.put([vault.pdf], metadata=vault.caller("provider", "p-2"))
    assert added.tenant_id == "creditor-1"
    assert (await vault.get(added.document_id))[1] == vault.pdf

    await apply(vault, "case-closed", CaseClosed(case_id="case-1"), 4)
    await apply(vault, "case-assigned", assigned("p-3"), 5)
    for provider in ("p-2", "p-3"):
        assert await read_code(vault, document.document_id, provider) == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await vault.put([vault.pdf], metadata=vault.caller("provider", "p-2"))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def test_point_8_a_read_after_the_window_end_is_refused_though_no_revoke_arrived(
    vault,
) -> None:
    document = await vault.put([vault.pdf])
    ended = datetime.now(UTC) - timedelta(seconds=1)
    await apply(vault, "case-assigned", assigned("p-1", window_ends_at=ended), 1)
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.NOT_FOUND


async def test_a_case_reopened_to_its_holder_is_readable_by_it_again_and_once(vault) -> None:
    document = await vault.put([vault.pdf])
    await apply(vault, "case-assigned", assigned("p-1"), 1)
    await apply(vault, "case-closed", CaseClosed(case_id="case-1"), 2)
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.NOT_FOUND

    back = CaseReopened(case_id="case-1", provider_id="p-1", round=1)
    back.window_ends_at.FromDatetime(datetime.now(UTC) + timedelta(days=30))
    await apply(vault, "case-reopened", back, 3)
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.OK
    assert await read_code(vault, document.document_id, "p-2") == grpc.StatusCode.NOT_FOUND
    added = await vault.put([vault.pdf], metadata=vault.caller("provider", "p-1"))
    assert added.tenant_id == "creditor-1"

    await apply(vault, "case-closed", CaseClosed(case_id="case-1"), 4)  # paid again, for good
    assert await read_code(vault, document.document_id, "p-1") == grpc.StatusCode.NOT_FOUND
