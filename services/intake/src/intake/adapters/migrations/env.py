"""Alembic environment of the intake database."""

from intake.adapters.orm import metadata
from recouvra_shared.migrations import run_env

run_env(metadata)
