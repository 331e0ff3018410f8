"""Messaging's use cases, as functions of (command, unit of work, named dependencies)."""
