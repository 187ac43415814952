"""Writes that survive an ambiguous failure without happening twice (every operation's steps use it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from opsgh.errors import AmbiguousWrite

T = TypeVar("T")


def write_once(create: Callable[[], T], read_back: Callable[[], T | None]) -> T:
    """`create()`; after an ambiguous failure (it may have landed) read back first, and create again
    only if it is still absent. A second ambiguous failure is raised."""
    try:
        return create()
    except AmbiguousWrite:
        found = read_back()
        if found is not None:
            return found
        return create()


def create_once(find: Callable[[], T | None], create: Callable[[], T]) -> T:
    """What `find` finds; else `create` it, reading back with `find` after an ambiguous failure."""
    found = find()
    return found if found is not None else write_once(create, find)
