"""Alembic environment of the messaging database."""

from messaging.adapters.orm import metadata
from recouvra_shared.migrations import run_env

run_env(metadata)
