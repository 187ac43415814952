"""Find-or-create that survives an ambiguous failure without creating twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from opsgh.errors import AmbiguousWrite

T = TypeVar("T")


def create_once(find: Callable[[], T | None], create: Callable[[], T]) -> T:
    """Return what `find` finds; else `create` it.

    When the create fails ambiguously (a 5xx or a timeout: it may have landed), read back with
    `find` before anything else, and create again only if it is still absent; a second ambiguous
    failure is raised to the caller.
    """
    found = find()
    if found is not None:
        return found
    try:
        return create()
    except AmbiguousWrite:
        found = find()
        if found is not None:
            return found
        return create()
