"""Fixtures for testing the component fixtures themselves (until tests/conftest.py imports them)."""

from tests.fixtures_components import *  # noqa: F403
