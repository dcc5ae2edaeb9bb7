"""Fixtures for testing the component fixtures themselves.

tests/conftest.py is to import tests/fixtures_components.py for the whole
suite; until it does, this folder imports them itself (importing them twice
would register the screenshot hook twice).
"""

import tests.conftest as _root

if not hasattr(_root, "live_server"):
    from tests.fixtures_components import *  # noqa: F403
