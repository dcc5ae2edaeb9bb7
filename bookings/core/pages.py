"""Extra values for a page owned by a lower area, supplied by the areas above it.

A page such as the account page (accounts) or the event page (catalogue)
shows things owned by areas built on top of it (calendar feeds, waiting
list positions). Those areas may import the lower one, not the other way
round, so they register a provider here at import time; the view asks for
the page's context before rendering, keeping queries out of templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Provider = Callable[..., dict[str, Any]]

_providers: dict[str, dict[str, Provider]] = {}


def provide(page: str, name: str, provider: Provider) -> None:
    """Register `provider(**arguments) -> dict` for `page` (once per name)."""
    _providers.setdefault(page, {})[name] = provider


def context_for(page: str, **arguments: Any) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for provider in _providers.get(page, {}).values():
        context.update(provider(**arguments))
    return context
