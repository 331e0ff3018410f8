"""Alembic environment of the gateway database."""

from gateway.adapters.orm import metadata
from recouvra_shared.migrations import run_env

run_env(metadata)
