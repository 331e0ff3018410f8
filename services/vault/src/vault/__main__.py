"""`python -m vault [serve|migrate|verify-audit|audit-public-key|rotate-keys|retire-keys|
sweep-orphans [--dry-run]]`."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from recouvra_shared.db import Database
from recouvra_shared.logging import configure_logging
from recouvra_shared.runtime import run_cli
from vault.adapters.allocator import bound_allocator
from vault.adapters.keys import (
    add_key_encryption_key,
    load_key_file,
    remove_key_encryption_keys,
)
from vault.adapters.unit_of_work import vault_units
from vault.bootstrap import (
    audit_anchor,
    build,
    build_deps,
    ensure_key_file,
    pinned_public_key,
    sweep_policy,
    units_of,
)
from vault.config import VaultSettings
from vault.service_layer.audit import verify_audit
from vault.service_layer.key_rotation import retire_old_keys, rewrap_data_keys
from vault.service_layer.orphans import sweep_orphans

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
log = logging.getLogger("vault")


async def _verify(settings: VaultSettings) -> int:
    public_key = pinned_public_key(settings)
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        # Reading the chain needs no key: the units of work sign nothing here.
        units = vault_units(database, None, settings.audit_checkpoint_every)
        report = await verify_audit(units, public_key, audit_anchor(settings))
    finally:
        await database.dispose()
    if report.ok:
        sys.stdout.write(
            f"audit chain intact: {report.entries} entries, {report.checkpoints} checkpoints, "
            f"{report.anchored} anchored\n"
        )
        return 0
    sys.stdout.write(f"audit chain broken at entry {report.first_bad_seq}: {report.problem}\n")
    return 1


async def _rotate(settings: VaultSettings) -> int:
    new_key_id = add_key_encryption_key(settings.key_file)
    keys = load_key_file(settings.key_file)
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        count = await rewrap_data_keys(units_of(settings, database), keys.ring)
    finally:
        await database.dispose()
    sys.stdout.write(f"active key {new_key_id}; {count} data keys re-wrapped\n")
    return 0


async def _sweep(settings: VaultSettings, *, dry_run: bool) -> int:
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=2)
    try:
        ensure_key_file(settings)
        deps = build_deps(settings, units_of(settings, database))
        now = deps.clock()
        report = await sweep_orphans(
            deps,
            older_than=now - timedelta(seconds=settings.orphan_grace_seconds),
            dry_run=dry_run,
            policy=sweep_policy(settings),
            purge_before=now - timedelta(seconds=settings.orphan_quarantine_seconds),
        )
    finally:
        await database.dispose()
    sys.stdout.write(report.summary() + "\n")
    return 1 if report.busy or report.failed or report.refused else 0


def _sweep_command(args: Sequence[str]) -> Callable[[VaultSettings], Coroutine[Any, Any, int]]:
    parser = argparse.ArgumentParser(
        prog="python -m vault sweep-orphans",
        description="Quarantine stored objects no document row points to, older than "
        "RECOUVRA_VAULT_ORPHAN_GRACE_SECONDS, and what shredded documents left behind; "
        "delete those quarantined longer than RECOUVRA_VAULT_ORPHAN_QUARANTINE_SECONDS.",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would be moved; change nothing"
    )
    options = parser.parse_args(args)
    return lambda settings: _sweep(settings, dry_run=options.dry_run)


async def _public_key(settings: VaultSettings) -> int:
    key = load_key_file(settings.key_file).audit_signing_key.public_key()
    sys.stdout.write(base64.b64encode(key.public_bytes_raw()).decode("ascii") + "\n")
    return 0


async def _retire(settings: VaultSettings) -> int:
    ensure_key_file(settings)
    keys = load_key_file(settings.key_file)
    # An upload wraps its data key when it starts and commits when it ends: a key active a
    # moment ago may still be wrapping one. Uploads last less than the orphan grace.
    settle = timedelta(seconds=settings.orphan_grace_seconds)
    if keys.active_since is None or datetime.now(UTC) - keys.active_since < settle:
        sys.stdout.write(
            f"the active key {keys.ring.active_key_id} is younger than "
            f"RECOUVRA_VAULT_ORPHAN_GRACE_SECONDS ({settle}): uploads started before the "
            "rotation may still use an older key; retire later\n"
        )
        return 1
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        retired = await retire_old_keys(
            units_of(settings, database),
            keys.ring,
            lambda key_ids: remove_key_encryption_keys(settings.key_file, key_ids),
        )
    finally:
        await database.dispose()
    sys.stdout.write(
        f"active key {keys.ring.active_key_id}; retired {', '.join(retired) or 'none'}\n"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Run the vault service or one of its operator commands."""
    bound_allocator()
    args = list(sys.argv[1:] if argv is None else argv)
    operator: dict[str, Callable[[VaultSettings], Coroutine[Any, Any, int]]] = {
        "verify-audit": _verify,
        "rotate-keys": _rotate,
        "retire-keys": _retire,
        "audit-public-key": _public_key,
    }
    if args and args[0] == "sweep-orphans":
        operator["sweep-orphans"] = _sweep_command(args[1:])
    if args and args[0] in operator:
        settings = VaultSettings()
        configure_logging(settings.service_name, settings.log_level)
        sys.exit(asyncio.run(operator[args[0]](settings)))
    run_cli(VaultSettings, build, MIGRATIONS, args)


if __name__ == "__main__":
    main()
