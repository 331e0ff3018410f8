"""Alembic environment of the matching database."""

from matching.adapters.orm import metadata
from recouvra_shared.migrations import run_env

run_env(metadata)
