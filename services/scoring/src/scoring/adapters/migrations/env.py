"""Alembic environment of the scoring database."""

from recouvra_shared.migrations import run_env
from scoring.adapters.orm import metadata

run_env(metadata)
