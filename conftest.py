"""Fixtures shared by every test tier live in tests/support/fixtures.py."""

pytest_plugins = ["tests.support.fixtures"]
