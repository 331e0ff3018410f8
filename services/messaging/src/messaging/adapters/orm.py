"""Messaging's own tables (its own database); the platform tables come from recouvra_shared."""

from sqlalchemy import MetaData

metadata = MetaData()
