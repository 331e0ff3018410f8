"""Alembic environment of the vault database."""

from recouvra_shared.migrations import run_env
from vault.adapters.orm import metadata

run_env(metadata)
