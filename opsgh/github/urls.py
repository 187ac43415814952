"""The API base URLs: github.com, GitHub Enterprise Server, or a local sandbox.

The caller reads `GITHUB_API_URL` / `GITHUB_GRAPHQL_URL` and passes the values in; nothing here
looks at the environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from opsgh.errors import UsageError

DEFAULT_REST = "https://api.github.com"
DEFAULT_GRAPHQL = "https://api.github.com/graphql"


def _clean(url: str, name: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{name} must be an http(s) URL, not {url!r}",
                         "e.g. https://api.github.com, or https://ghe.example.com/api/v3 for GitHub "
                         "Enterprise Server")
    if parts.query or parts.fragment:
        raise UsageError(f"{name} must not have a query or fragment: {url!r}")
    return url


@dataclass(frozen=True, slots=True)
class ApiUrls:
    rest: str = DEFAULT_REST
    graphql: str = DEFAULT_GRAPHQL

    @classmethod
    def from_values(cls, api_url: str | None = None, graphql_url: str | None = None) -> ApiUrls:
        """Build from the values of GITHUB_API_URL and GITHUB_GRAPHQL_URL (None or "" = unset)."""
        rest = _clean(api_url, "GITHUB_API_URL") if api_url and api_url.strip() else DEFAULT_REST
        if graphql_url and graphql_url.strip():
            return cls(rest, _clean(graphql_url, "GITHUB_GRAPHQL_URL"))
        return cls(rest, derive_graphql(rest))

    @property
    def rest_host(self) -> str:
        return urlsplit(self.rest).netloc

    @property
    def rest_path(self) -> str:
        """The path prefix of the REST API ("" on github.com, "/api/v3" on GHES)."""
        return urlsplit(self.rest).path

    def origins(self) -> frozenset[str]:
        """scheme://host:port of every base: the only places the token may be sent."""
        return frozenset(origin_of(u) for u in (self.rest, self.graphql))


def origin_of(url: str) -> str:
    """scheme://host[:port], lower-cased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def derive_graphql(rest: str) -> str:
    """GHES serves REST at /api/v3 and GraphQL at /api/graphql; elsewhere GraphQL is <rest>/graphql."""
    if rest == DEFAULT_REST:
        return DEFAULT_GRAPHQL
    if rest.endswith("/api/v3"):
        return rest[: -len("/v3")] + "/graphql"
    return rest + "/graphql"
