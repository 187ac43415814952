"""What route modules use: `RouteTable` to declare routes, `Request` in, `Response` out, `ApiError`.

A route module (any module in `opsgh/sandbox/routes/`) declares a module-level `routes = RouteTable()`
and decorates handlers::

    routes = RouteTable()

    @routes.get("/repos/{owner}/{repo}/branches/{branch:path}")
    def get_branch(request: Request) -> Response:
        repo = request.repo("read")                      # 404/403 like GitHub when not allowed
        ...
        return Response(200, render.branch(...))

`{name}` matches one path segment, `{name:path}` one or more (branch names, refs and file paths may
contain "/"); values arrive URL-decoded in `request.params`. The most literal pattern wins, so
`/branches/{branch:path}/protection` is tried before `/branches/{branch:path}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import unquote, urlencode

from opsgh.sandbox.state import INTEGRATION_KINDS, App, RepoState, Token, User, role_at_least

if TYPE_CHECKING:
    from opsgh.sandbox.app import SandboxApp

DOCS_URL = "https://docs.github.com/rest"
JSON_TYPE = "application/json; charset=utf-8"
T = TypeVar("T")
Handler = Callable[["Request"], "Response | Any"]
AUTH_MODES = ("optional", "required", "app")


class ApiError(Exception):
    """An error answer with GitHub's body: {"message", "documentation_url", "status"[, "errors"]}."""

    def __init__(self, status: int, message: str, errors: Sequence[Mapping[str, Any]] | None = None, *,
                 headers: Mapping[str, str] | None = None, documentation_url: str = DOCS_URL) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = [dict(e) for e in errors] if errors is not None else None
        self.headers = dict(headers or {})
        self.documentation_url = documentation_url

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "documentation_url": self.documentation_url,
                                "status": str(self.status)}
        if self.errors is not None:
            data["errors"] = self.errors
        return data

    def response(self) -> Response:
        return Response(self.status, self.body(), dict(self.headers))


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(resource: str, field_name: str, code: str = "invalid", message: str | None = None,
                      *, summary: str = "Validation Failed") -> ApiError:
    """422 with one entry in `errors` (code: missing, missing_field, invalid, already_exists, custom)."""
    error: dict[str, Any] = {"resource": resource, "field": field_name, "code": code}
    if message is not None:
        error["message"] = message
    return ApiError(422, summary, [error])


@dataclass
class Response:
    """A handler's answer. `body` is JSON-serialisable data, raw bytes, or None (no body)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    auth: str = "optional"  # optional: anonymous allowed; required: 401 without a token; app: App JWT
    resource: str = "core"  # rate-limit bucket: core, search, graphql
    creates_content: bool = False  # counted by the secondary rate limit
    counted: bool = True  # counted by the primary rate limit (GET /rate_limit is not)
    regex: re.Pattern[str] = field(default=re.compile(""), compare=False)
    names: tuple[str, ...] = ()
    rank: tuple[int, int, int] = (0, 0, 0)

    @property
    def operation(self) -> str:
        return f"{self.method} {self.pattern}"


def _compile(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...], tuple[int, int, int]]:
    names: list[str] = []
    parts: list[str] = []
    position = 0
    multi = 0
    for match in re.finditer(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::(path))?\}", pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        parts.append(f"(?P<{match.group(1)}>{'.+' if match.group(2) else '[^/]+'})")
        multi += 1 if match.group(2) else 0
        names.append(match.group(1))
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    literal = len(re.sub(r"\{[^}]+\}", "", pattern))
    return re.compile("^" + "".join(parts) + "$"), tuple(names), (multi, -literal, len(names))


class RouteTable:
    """The routes of one module; the server collects every `routes` table under `opsgh/sandbox/routes/`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str, *, auth: str = "optional", resource: str = "core",
              creates_content: bool | None = None, counted: bool = True) -> Callable[[Handler], Handler]:
        """Register `handler` for `method pattern`.

        auth: "optional" (anonymous callers allowed; `request.repo()` decides), "required" (401
        without a token), "app" (a GitHub App JWT only). resource: the rate-limit bucket (core, search,
        graphql). creates_content: counts toward the secondary rate limit (default: any method but
        GET/HEAD). counted: counts toward the primary rate limit.
        """
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}, not {auth!r}")
        method = method.upper()
        regex, names, rank = _compile(pattern)
        creates = creates_content if creates_content is not None else method not in ("GET", "HEAD")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, pattern, handler, auth, resource, creates, counted, regex, names, rank))
            return handler

        return register

    def get(self, pattern: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", pattern, **options)

    def post(self, pattern: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", pattern, **options)

    def put(self, pattern: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", pattern, **options)

    def patch(self, pattern: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", pattern, **options)

    def delete(self, pattern: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", pattern, **options)


class Router:
    """Every route, most specific first; routes added with `first=True` win over the others (tests)."""

    def __init__(self, tables: Iterable[RouteTable] = ()) -> None:
        self._first: list[Route] = []
        self._routes: list[Route] = []
        for table in tables:
            self.add(table)

    def add(self, table: RouteTable, *, first: bool = False) -> None:
        target = self._first if first else self._routes
        target.extend(table.routes)
        target.sort(key=lambda r: (r.rank, r.pattern))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for `method path` (path not decoded) and its decoded parameters, or None."""
        method = "GET" if method.upper() == "HEAD" else method.upper()
        for route in (*self._first, *self._routes):
            if route.method != method:
                continue
            found = route.regex.match(path)
            if found:
                return route, {name: unquote(found.group(name)) for name in route.names}
        return None

    @property
    def routes(self) -> list[Route]:
        return [*self._first, *self._routes]


# ---------------------------------------------------------------------------------------------------
# The request


@dataclass
class Auth:
    """Who is calling: a token (and its user), an App by JWT, or nobody."""

    token: Token | None = None
    user: User | None = None
    app: App | None = None  # authenticated with the App's JWT

    @property
    def kind(self) -> str:
        if self.app is not None:
            return "app-jwt"
        return self.token.kind if self.token is not None else "anonymous"

    @property
    def login(self) -> str | None:
        if self.app is not None:
            return f"app:{self.app.slug}"
        return self.user.login if self.user is not None else None


_ADMIN_PERMISSIONS = frozenset({"administration"})


@dataclass
class Request:
    app: SandboxApp
    method: str
    path: str  # without the /api/v3 prefix and without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    auth: Auth
    request_id: str
    prefix: str = ""  # "/api/v3" when the client used the GHES-style base
    host: str = ""  # scheme://host:port the client used
    params: dict[str, str] = field(default_factory=dict)
    route: Route | None = None
    rate_key: str = ""  # whose rate-limit buckets this request counts against
    # GitHub's refusal of the body (opsgh.sandbox.shapes), raised when the handler reads the body: GitHub
    # checks permissions before it reads the body.
    body_refusal: ApiError | None = None
    body_refusal_raised: bool = False
    _json: Any = field(default=None, repr=False)
    _json_parsed: bool = field(default=False, repr=False)

    # ------------------------------------------------------------------ inputs

    @property
    def user(self) -> User | None:
        return self.auth.user

    @property
    def token(self) -> Token | None:
        return self.auth.token

    @property
    def token_kind(self) -> str:
        return self.auth.kind

    def json(self) -> Any:
        """The JSON body (None when empty); 400 "Problems parsing JSON" like GitHub; 422 when GitHub
        refuses its shape (see opsgh.sandbox.shapes)."""
        if self.body_refusal is not None:
            self.body_refusal_raised = True
            raise self.body_refusal
        if not self._json_parsed:
            self._json_parsed = True
            if self.body.strip():
                try:
                    self._json = json.loads(self.body)
                except ValueError:
                    raise ApiError(400, "Problems parsing JSON") from None
        return self._json

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object ({} when empty)."""
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ApiError(400, "Problems parsing JSON")
        return data

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        raw = self.arg(name)
        try:
            value = int(raw) if raw not in (None, "") else default
        except ValueError:
            value = default
        if minimum is not None:
            value = max(minimum, value)
        if maximum is not None:
            value = min(maximum, value)
        return value

    def bool_arg(self, name: str) -> bool | None:
        raw = self.arg(name)
        if raw is None:
            return None
        return raw.lower() in ("1", "true", "yes")

    # ------------------------------------------------------------------ URLs

    def api_url(self, path: str) -> str:
        """An absolute API URL as the client sees it (same host, same /api/v3 prefix)."""
        return f"{self.host}{self.prefix}{path}"

    def html_url(self, path: str) -> str:
        """A "web" URL on the sandbox (repository pages do not exist; the URLs only have to look right)."""
        return f"{self.host}{path}"

    # ------------------------------------------------------------------ permissions

    def repo(self, level: str = "read", *, permission: str = "contents", integration_only: bool = False,
             message: str | None = None) -> RepoState:
        """The repository named by the `owner` and `repo` path parameters, after `require(level)`."""
        found = self.app.state.repo(self.params.get("owner", ""), self.params.get("repo", ""))
        if found is None:
            raise not_found()
        self.require(found, level, permission=permission, integration_only=integration_only, message=message)
        return found

    def role(self, repo: RepoState) -> str | None:
        """The caller's repository role (integrations: from the token's `permissions`)."""
        token = self.auth.token
        if token is None or not self._token_reaches(repo):
            return None
        if token.is_integration:
            if token.permissions.get("administration") == "write":
                return "admin"
            return "write" if "write" in token.permissions.values() else "read"
        return repo.role_of(token.login)

    def can_read(self, repo: RepoState) -> bool:
        if not repo.private:
            return True
        token = self.auth.token
        if token is None or not self._token_reaches(repo):
            return False
        if token.is_integration:
            return True
        if token.kind == "classic-pat" and "repo" not in token.scopes:
            return False
        return repo.role_of(token.login) is not None

    def _token_reaches(self, repo: RepoState) -> bool:
        token = self.auth.token
        if token is None:
            return False
        if token.repositories is not None:
            return repo.key in token.repositories
        if token.installation_id is not None:
            installation = self.app.state.installations.get(token.installation_id)
            if installation is None:
                return False
            if installation.repository_selection == "all":
                return installation.account.lower() == repo.owner.lower()
            return repo.key in [r.lower() for r in installation.repositories]
        return True

    def require(self, repo: RepoState, level: str = "read", *, permission: str = "contents",
                integration_only: bool = False, message: str | None = None) -> None:
        """Refuse the request the way GitHub does unless the caller may act on `repo` at `level`.

        level: the repository role needed (read, triage, write, maintain, admin).
        permission: the GitHub App / fine-grained permission that grants it (contents, pull_requests,
        issues, checks, statuses, deployments, administration, actions...).
        integration_only: refuse user tokens (check runs: "Resource not accessible by personal access
        token").

        No read access to a private repository: 404. Anonymous writes: 401. Integrations and
        fine-grained tokens without the permission: 403 with X-Accepted-GitHub-Permissions. A classic
        PAT without the scope, or a user who is not a collaborator: 404. A collaborator with too low a
        role: 403 ("Must have admin rights to Repository.").
        """
        if not self.can_read(repo):
            raise not_found()
        token = self.auth.token
        needed_access = "read" if level == "read" else "write"
        accepted = {"x-accepted-github-permissions": f"{permission}={needed_access}"}
        if integration_only and (token is None or not token.is_integration):
            if token is None:
                raise ApiError(401, "Requires authentication")
            raise ApiError(403, message or "Resource not accessible by personal access token", headers=accepted)
        if level == "read" and not repo.private:
            return  # public data: any caller, any token
        if token is None:
            raise ApiError(401, "Requires authentication")
        if not self._token_reaches(repo):
            raise not_found()
        if token.kind in INTEGRATION_KINDS or token.kind == "fine-grained":
            granted = token.permissions.get(permission)
            if permission == "metadata" and granted is None:
                granted = "read"
            if granted is None or (needed_access == "write" and granted != "write"):
                refusal = ("Resource not accessible by integration" if token.is_integration
                           else "Resource not accessible by personal access token")
                raise ApiError(403, message or refusal, headers=accepted)
            if token.is_integration:
                return
        if token.kind == "classic-pat" and level != "read":
            needed_scopes = {"repo"} if repo.private else {"repo", "public_repo"}
            if not needed_scopes & set(token.scopes):
                raise ApiError(404, "Not Found", headers={"x-accepted-oauth-scopes": "repo"})
        role = repo.role_of(token.login)
        if level == "read" or role_at_least(role, level):
            if level != "read" and repo.archived:
                raise ApiError(403, "Repository was archived so is read-only.")
            return
        if role is None:
            raise not_found()
        if message is None:
            message = ("Must have admin rights to Repository." if level == "admin"
                       else f"Must have {'push' if level == 'write' else level} access to repository.")
        raise ApiError(403, message, headers=accepted)


# ---------------------------------------------------------------------------------------------------
# Pagination


@dataclass
class Page(Generic[T]):
    items: list[T]
    headers: dict[str, str]
    page: int
    per_page: int
    total: int

    def response(self, render: Callable[[T], Any] | None = None, status: int = 200) -> Response:
        body = [render(item) for item in self.items] if render is not None else list(self.items)
        return Response(status, body, dict(self.headers))


_REPO_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?$")


def link_path(request: Request) -> str:
    """The path pagination links point at: `/repositories/{id}/...` for repository resources, as GitHub."""
    found = _REPO_PATH.match(request.path)
    if found:
        repo = request.app.state.repo(unquote(found.group("owner")), unquote(found.group("name")))
        if repo is not None:
            return f"/repositories/{repo.id}{found.group('rest') or ''}"
    return request.path


def paginate(request: Request, items: Sequence[T], default_per_page: int = 30, max_per_page: int = 100,
             *, total: int | None = None, page_offset_items: bool = True) -> Page[T]:
    """Slice `items` by `page`/`per_page` and build GitHub's `Link` header (rel next, last, first, prev).

    per_page above `max_per_page` is capped, like GitHub. When the caller already fetched only the
    requested page (`page_offset_items=False`), pass the `total` count so the links are right.
    """
    per_page = request.int_arg("per_page", default_per_page, minimum=1, maximum=max_per_page)
    page = request.int_arg("page", 1, minimum=1)
    count = total if total is not None else len(items)
    start = (page - 1) * per_page
    chosen = list(items[start:start + per_page]) if page_offset_items else list(items)
    last = max(1, -(-count // per_page))
    links: list[str] = []
    base = request.api_url(link_path(request))
    others = [(k, v) for k, values in request.query.items() if k != "page" for v in values]

    def url(number: int) -> str:
        return f"{base}?{urlencode([*others, ('page', str(number))])}"

    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(min(page - 1, last))}>; rel="prev"']
    headers = {"link": ", ".join(links)} if links else {}
    return Page(chosen, headers, page, per_page, count)
