"""Checking the audit chain as stored."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recouvra_shared.db import Database
from vault.adapters.repository import read_chain
from vault.domain.audit import VerifyReport, verify_chain


async def verify_audit(database: Database, public_key: Ed25519PublicKey) -> VerifyReport:
    """Read the whole chain and its checkpoints and report the first tampered entry."""
    async with database.unit_of_work() as uow:
        entries, checkpoints = await read_chain(uow.session)
    return verify_chain(entries, checkpoints, public_key)
