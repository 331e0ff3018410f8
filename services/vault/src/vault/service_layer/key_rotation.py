"""Key rotation: every live data key re-wrapped under the active key-encryption key."""

from __future__ import annotations

from collections.abc import Callable

from vault.domain.crypto import KeyRing
from vault.service_layer.audit import service_entry
from vault.service_layer.unit_of_work import VaultUnitOfWork

BATCH_SIZE = 200


async def rewrap_data_keys(
    units: Callable[[], VaultUnitOfWork], ring: KeyRing, *, batch_size: int = BATCH_SIZE
) -> int:
    """Re-wrap every live data key under the ring's active key; objects are not touched."""
    rewrapped = 0
    while True:
        async with units() as uow:
            batch = await uow.documents.wrapped_under_other_keys(ring.active_key_id, batch_size)
            if not batch:
                return rewrapped
            for document in batch:
                assert document.wrapped_key is not None
                await uow.documents.rewrap(
                    document.document_id, ring.rewrap(document.wrapped_key, document.identity)
                )
            await uow.audit.append(
                service_entry(
                    "key-rotation",
                    "rewrapped",
                    f"{len(batch)} data keys now wrapped by {ring.active_key_id}",
                )
            )
            await uow.commit()
            rewrapped += len(batch)
