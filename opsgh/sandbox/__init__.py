"""A local GitHub for trying and testing opsgh (see DESIGN.md, "The sandbox", and README.md here).

Imports are lazy: `opsgh.sandbox.prereceive` runs as a git hook and must not load the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsgh.sandbox.api import AppCredentials, Sandbox, serve
    from opsgh.sandbox.seed import SeedInfo, seed_demo

__all__ = ["AppCredentials", "Sandbox", "SeedInfo", "seed_demo", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("Sandbox", "serve", "AppCredentials"):
        from opsgh.sandbox import api

        return getattr(api, name)
    if name in ("SeedInfo", "seed_demo"):
        from opsgh.sandbox import seed

        return getattr(seed, name)
    raise AttributeError(name)
