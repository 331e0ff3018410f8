"""Messaging's model: values, commands, facts and errors; it imports no framework."""
