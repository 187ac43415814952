"""Who am I and how much is left: GET /user, GET /rate_limit."""

from __future__ import annotations

from opsgh.sandbox import render
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable

routes = RouteTable()


@routes.get("/rate_limit", counted=False)
def get_rate_limit(request: Request) -> Response:
    resources = request.app.rate_limits.overview(request.rate_key, request.auth.kind)
    return Response(200, {"resources": resources, "rate": resources["core"]})


@routes.get("/user", auth="required")
def get_authenticated_user(request: Request) -> Response:
    token = request.auth.token
    if token is not None and token.is_integration:
        raise ApiError(403, "Resource not accessible by integration")
    if request.user is None:
        raise ApiError(401, "Bad credentials")
    return Response(200, render.private_user(request, request.user))
