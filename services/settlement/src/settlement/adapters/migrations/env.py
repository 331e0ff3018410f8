"""Alembic environment of the settlement database."""

from recouvra_shared.migrations import run_env
from settlement.adapters.orm import metadata

run_env(metadata)
