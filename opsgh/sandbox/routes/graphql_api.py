"""POST /graphql and /api/graphql: the route table of `opsgh.sandbox.graphql.endpoint`, served from
here because the server serves the `routes` of every module in this package."""

from __future__ import annotations

from opsgh.sandbox.graphql.endpoint import routes

__all__ = ["routes"]
