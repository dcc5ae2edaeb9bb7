"""The component fixtures (`browser`, `page`, `live_server`) for the console's browser tests, as tests/browser does."""

import tests.conftest as _root

if not hasattr(_root, "live_server"):
    from tests.fixtures_components import *  # noqa: F403
