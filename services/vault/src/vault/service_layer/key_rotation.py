"""Key rotation: every live data key re-wrapped under the active key-encryption key; and
retirement: once none is wrapped by an old key-encryption key, that key is destroyed, so a
backup of the documents table taken while it was active cannot give back an erased document's
data key."""

from __future__ import annotations

from collections.abc import Callable, Collection

from vault.domain.crypto import KeyRing
from vault.service_layer.audit import record, service_entry
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


async def retire_old_keys(
    units: Callable[[], VaultUnitOfWork],
    ring: KeyRing,
    destroy: Callable[[Collection[str]], None],
) -> list[str]:
    """Re-wrap every live data key under the active key, then destroy every other key-encryption
    key (`destroy` removes them from the key source) once no live data key needs it."""
    await rewrap_data_keys(units, ring)
    async with units() as uow:
        in_use = await uow.documents.key_ids_in_use()
    retired = sorted(set(ring.key_ids) - in_use - {ring.active_key_id})
    still_needed = sorted(in_use - {ring.active_key_id})
    if retired:
        destroy(retired)
    await record(
        units,
        service_entry(
            "key-retirement",
            "retired" if not still_needed else "partial",
            f"destroyed {', '.join(retired) or 'none'}; active {ring.active_key_id}"
            + (f"; still wrapping live keys: {', '.join(still_needed)}" if still_needed else ""),
        ),
    )
    return retired
