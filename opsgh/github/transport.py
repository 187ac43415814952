"""The one HTTP client to GitHub: headers, timeouts, retries, accounting, typed errors.

REST through PyGithub (see `rest.py`), raw REST calls and GraphQL all go through `Transport.request`,
so there is one retry policy, one ledger and one place that holds the token. The token is added
to the request at the last moment and never stored in a message, a ledger entry or a repr.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from opsgh import __version__
from opsgh.clock import Clock
from opsgh.errors import GitHubError, RateLimited
from opsgh.github.ledger import Ledger, LedgerEntry, route_of, safe_path
from opsgh.github.pacing import RequestPacer
from opsgh.github.retry import ConnectionFailed, RetryPolicy, is_idempotent
from opsgh.github.status import error_for_response
from opsgh.github.urls import ApiUrls, origin_of

API_VERSION = "2022-11-28"
USER_AGENT = f"opsgh/{__version__}"

TokenProvider = Callable[[], str | None]
# (method, url, request_headers, request_body, status, response_headers, response_body)
ExchangeHook = Callable[[str, str, Mapping[str, str], bytes | None, int, Mapping[str, str], bytes], None]
ResponseCheck = Callable[["Response"], GitHubError | None]

_OURS = ("authorization", "user-agent")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^",;]+)"?')
# GitHub redirects requests for a renamed or transferred repository (301 for reads, 307 for writes) and
# asks clients to repeat the request verbatim at the Location.
_REDIRECTS = frozenset({301, 302, 307, 308})
MAX_REDIRECTS = 5
# Requests that certainly never left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Methods GitHub counts as content creation for its secondary rate limits (GraphQL queries excepted).
_CONTENT_CREATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# What GitHub asks for when a secondary limit answer carries no retry-after.
SECONDARY_HOLD = 60.0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names lower-case
    body: bytes
    url: str

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def links(self) -> dict[str, str]:
        """The `Link` header as {rel: url}."""
        return {rel: url for url, rel in _LINK.findall(self.headers.get("link", ""))}


class _Final(Exception):
    """Carries an error that must not be retried by the policy (e.g. the token provider failed)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _redacted(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): ("***" if k.lower() == "authorization" else v) for k, v in headers.items()}


class Transport:
    """Sends requests to GitHub with the policy, the ledger and the token."""

    def __init__(
        self,
        urls: ApiUrls,
        token_provider: TokenProvider,
        retry_policy: RetryPolicy,
        clock: Clock,
        ledger: Ledger | None = None,
        *,
        on_exchange: ExchangeHook | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        http_transport: httpx.BaseTransport | None = None,
        trust_env: bool = True,
    ) -> None:
        self.urls = urls
        self._token_provider = token_provider
        self.retry_policy = retry_policy
        self.clock = clock
        self.ledger = ledger if ledger is not None else Ledger()
        self.on_exchange = on_exchange
        self.timeout = timeout
        # Set by commands that send a lot (`opsgh protect --org`): every REST request waits for its turn
        # under GitHub's secondary limits, and a secondary-limit refusal holds all of them for its retry-after.
        self.pacer: RequestPacer | None = None
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            transport=http_transport,
            follow_redirects=False,  # a redirect to another host must not carry the token
            # HTTPS_PROXY / SSL_CERT_FILE matter behind corporate proxies and for GHES with a private CA.
            trust_env=trust_env,
        )

    def __repr__(self) -> str:
        return f"Transport(rest={self.urls.rest!r}, graphql={self.urls.graphql!r}, {self.retry_policy!r})"

    def close(self) -> None:
        self._client.close()

    def current_token(self) -> str | None:
        """The token requests carry now (git over HTTPS sends the same one; an App's is refreshed)."""
        return self._token_provider()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ URLs

    def resolve(self, path_or_url: str) -> str:
        """An absolute URL on one of the API hosts (the only hosts that get the token)."""
        if path_or_url.startswith(("http://", "https://")):
            if origin_of(path_or_url) not in self.urls.origins():
                raise GitHubError(
                    f"refusing to send the GitHub token to {origin_of(path_or_url)}: it is not the API host "
                    f"({self.urls.rest})", "check GITHUB_API_URL")
            return path_or_url
        if not path_or_url.startswith("/"):
            path_or_url = "/" + path_or_url
        return self.urls.rest + path_or_url

    def display_path(self, url: str) -> str:
        """What messages and the ledger show: the path relative to the API base, secrets masked."""
        if url.split("?", 1)[0] == self.urls.graphql:
            return "/graphql"
        parts = urlsplit(url)
        path = parts.path
        prefix = self.urls.rest_path
        if prefix and path.startswith(prefix + "/") and origin_of(url) == origin_of(self.urls.rest):
            path = path[len(prefix):]
        return safe_path(path + (f"?{parts.query}" if parts.query else ""))

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        bearer: str | None = None,
        operation: str | None = None,
        check: ResponseCheck | None = None,
    ) -> Response:
        """Send one logical request (retried per the policy); raise the typed error for a status >= 400.

        `bearer` replaces the token provider for this request (the GitHub App JWT); `check` may turn a
        successful answer into an error inside the retry loop (GraphQL errors in a 200). Redirects are
        followed, with the same method and body, only to the API hosts (see `resolve`).
        """
        method = method.upper()
        url = self.resolve(path_or_url)
        request_params = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        final_url = str(self._client.build_request(method, url, params=request_params or None).url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, final_url, json=json, content=content, headers=headers,
                                  idempotent=idempotent, bearer=bearer, operation=operation, check=check)
            location = response.headers.get("location") if response.status in _REDIRECTS else None
            if not location:
                return response
            final_url = self.resolve(urljoin(final_url, location))
        raise GitHubError(f"GitHub: more than {MAX_REDIRECTS} redirects ({method} {self.display_path(url)})",
                          "check GITHUB_API_URL")

    def _send(self, method: str, final_url: str, *, json: Any, content: bytes | str | None,
              headers: Mapping[str, str] | None, idempotent: bool | None, bearer: str | None,
              operation: str | None, check: ResponseCheck | None) -> Response:
        """One request to `final_url` (query included), retried per the policy; no redirects."""
        path = self.display_path(final_url)
        route = route_of(path)
        retryable = is_idempotent(method, idempotent)
        paced = path != "/graphql"  # GraphQL has its own budget
        write = method in _CONTENT_CREATING

        def attempt(number: int) -> Response:
            try:
                token = bearer if bearer is not None else self._token_provider()
            except Exception as err:  # the provider does its own retries; never multiply them
                raise _Final(err) from err
            pacer = self.pacer if paced else None
            if pacer is not None:
                pacer.acquire(write)
            request = self._build(method, final_url, json=json, content=content, headers=headers, token=token)
            started = self.clock.monotonic()
            try:
                answer = self._client.send(request)
                body = answer.read()
            except httpx.TransportError as err:
                self.ledger.record(LedgerEntry(method, path, None, _ms(self.clock.monotonic() - started),
                                               number, route, operation))
                raise _network_error(err, method, path, self.timeout) from None
            finally:
                if pacer is not None:
                    pacer.release()
            elapsed = _ms(self.clock.monotonic() - started)
            response_headers = {k.lower(): v for k, v in answer.headers.items()}
            self.ledger.record(LedgerEntry(method, path, answer.status_code, elapsed, number, route,
                                           operation))
            if self.on_exchange is not None:
                self.on_exchange(method, final_url, _redacted(request.headers), request.content or None,
                                 answer.status_code, response_headers, body)
            error = error_for_response(answer.status_code, response_headers, body, method, path)
            response = Response(answer.status_code, response_headers, body, final_url)
            if error is None and check is not None and answer.status_code not in _REDIRECTS:
                error = check(response)
            if isinstance(error, RateLimited) and error.kind == "secondary" and pacer is not None:
                pacer.hold(error.retry_after if error.retry_after is not None else SECONDARY_HOLD)
            if error is not None:
                raise error
            return response

        try:
            return self.retry_policy.call(attempt, method=method, path=path, idempotent=retryable)
        except _Final as wrapper:
            raise wrapper.error from None

    def _build(self, method: str, url: str, *, json: Any, content: bytes | str | None,
               headers: Mapping[str, str] | None, token: str | None) -> httpx.Request:
        merged = httpx.Headers({
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        })
        if headers:
            # The credential is ours to add; PyGithub's User-Agent is replaced by ours.
            merged.update({k: v for k, v in headers.items() if k.lower() not in _OURS})
        if token:
            merged["Authorization"] = f"Bearer {token}"
        if json is not None:
            return self._client.build_request(method, url, json=json, headers=merged)
        return self._client.build_request(method, url, content=content, headers=merged)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, *,
                 bearer: str | None = None) -> Any:
        return self.request("GET", path, params=params, bearer=bearer).json()

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *,
                 items_key: str | None = None, bearer: str | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following `Link: rel="next"` as given (it may point to
        /repositories/{id}/...). `items_key` names the list in wrapped answers ({"total_count", "runs"})."""
        first_params: dict[str, Any] = {"per_page": 100, **(params or {})}
        url: str | None = path
        seen: set[str] = set()
        while url is not None:
            response = self.request("GET", url, params=first_params if not seen else None, bearer=bearer)
            seen.add(url)
            data = response.json()
            items = data.get(items_key) if items_key and isinstance(data, dict) else data
            if not isinstance(items, list):
                raise GitHubError(f"GitHub: expected a list from GET {self.display_path(response.url)}, "
                                  f"got {type(items).__name__}")
            yield from items
            url = response.links().get("next")
            if url in seen:  # a server that links a page to itself would loop forever
                break


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _network_error(err: httpx.TransportError, method: str, path: str, timeout: float) -> ConnectionFailed:
    if isinstance(err, httpx.ConnectTimeout):
        reason = "connecting timed out"
    elif isinstance(err, httpx.TimeoutException):
        reason = f"no answer within {timeout:g} s"
    else:
        reason = str(err) or type(err).__name__
    return ConnectionFailed(f"GitHub: no answer ({method} {path}): {reason}",
                            reached_server=not isinstance(err, _NOT_SENT), method=method, path=path)
