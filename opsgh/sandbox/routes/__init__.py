"""Route modules: every module in this package that defines `routes = RouteTable()` is served.

Add a file here (no list to edit); see opsgh/sandbox/README.md.
"""

from __future__ import annotations

import importlib
import pkgutil

from opsgh.sandbox.routing import RouteTable


def discover() -> list[RouteTable]:
    """The `routes` table of every module in this package, in module-name order."""
    tables = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        table = getattr(module, "routes", None)
        if isinstance(table, RouteTable):
            tables.append(table)
    return tables
