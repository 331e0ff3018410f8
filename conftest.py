"""Fixtures shared by every test tier live in tests/support/fixtures.py."""

from hypothesis import settings

pytest_plugins = ["tests.support.fixtures"]

# Property tests check what the code computes, never how fast: these machines are shared and a
# first example can take 250 ms at load 20 (speed is make bench's business).
settings.register_profile("recouvra", deadline=None)
settings.load_profile("recouvra")
