"""`python -m vault [serve|migrate|verify-audit|rotate-keys]`."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from recouvra_shared.db import Database
from recouvra_shared.logging import configure_logging
from recouvra_shared.runtime import run_cli
from vault.adapters.keys import add_key_encryption_key, load_key_file
from vault.adapters.repository import AuditRepository
from vault.bootstrap import build
from vault.config import VaultSettings
from vault.service_layer.audit import verify_audit
from vault.service_layer.documents import rotate_data_key_wraps

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
log = logging.getLogger("vault")


async def _verify(settings: VaultSettings) -> int:
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        keys = load_key_file(settings.key_file)
        report = await verify_audit(database, keys.audit_signing_key.public_key())
    finally:
        await database.dispose()
    if report.ok:
        sys.stdout.write(
            f"audit chain intact: {report.entries} entries, {report.checkpoints} checkpoints\n"
        )
        return 0
    sys.stdout.write(f"audit chain broken at entry {report.first_bad_seq}: {report.problem}\n")
    return 1


async def _rotate(settings: VaultSettings) -> int:
    new_key_id = add_key_encryption_key(settings.key_file)
    keys = load_key_file(settings.key_file)
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        count = await rotate_data_key_wraps(
            database,
            keys.ring,
            lambda uow: AuditRepository(
                uow.session, keys.audit_signing_key, settings.audit_checkpoint_every
            ),
        )
    finally:
        await database.dispose()
    sys.stdout.write(f"active key {new_key_id}; {count} data keys re-wrapped\n")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Run the vault service or one of its operator commands."""
    args = list(sys.argv[1:] if argv is None else argv)
    operator = {"verify-audit": _verify, "rotate-keys": _rotate}
    if args and args[0] in operator:
        settings = VaultSettings()
        configure_logging(settings.service_name, settings.log_level)
        sys.exit(asyncio.run(operator[args[0]](settings)))
    run_cli(VaultSettings, build, MIGRATIONS, args)


if __name__ == "__main__":
    main()
