"""PyGithub, with all of its HTTP routed through our `Transport`.

PyGithub's `Requester` opens its connection through the instance attribute
`_Requester__connectionClass` (httplib-like: `request(...)` then `getresponse()`). We set it to a
class bound to our transport, so PyGithub's own retries, throttling and exceptions never run:
there is one retry layer, one ledger and our typed errors. PyGithub gets no credentials at all;
the transport adds the token.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import github
from github.Requester import Requester

from opsgh.github.transport import USER_AGENT, Response, Transport

_REBINDING = ("withAuth", "withLazy", "withApiVersion")


class _PyGithubResponse:
    """What PyGithub reads from an httplib/requests response."""

    def __init__(self, response: Response) -> None:
        self._response = response
        self.status = response.status

    def getheaders(self) -> list[tuple[str, str]]:
        return list(self._response.headers.items())

    def read(self) -> str:
        return self._response.text

    # Streamed downloads (PyGithub's getStream) get the whole body in chunks.
    def iter_content(self, chunk_size: int | None = 1) -> Iterator[bytes]:
        size = chunk_size or len(self._response.body) or 1
        body = self._response.body
        return (body[i:i + size] for i in range(0, len(body), size))

    def raise_for_status(self) -> None:
        """Errors were raised by the transport already."""


def connection_class_for(transport: Transport, scheme: str) -> type[Any]:
    """A PyGithub connection class that sends through `transport`."""

    class TransportConnection:
        # PyGithub's signature; strict, timeout, retry and pool_size belong to the transport here.
        def __init__(self, host: str, port: int | None = None, strict: bool = False,
                     timeout: int | None = None, retry: object = None, pool_size: int | None = None,
                     **kwargs: object) -> None:
            self.host = host
            self.port = port
            self._pending: tuple[str, str, Any, dict[str, str]] | None = None

        def request(self, verb: str, url: str, input: Any, headers: dict[str, str],
                    stream: bool = False) -> None:
            self._pending = (verb, url, input, headers)

        def getresponse(self) -> _PyGithubResponse:
            if self._pending is None:
                raise RuntimeError("getresponse() before request()")
            verb, url, body, headers = self._pending
            self._pending = None
            if isinstance(body, io.IOBase):
                body = body.read()
            port = f":{self.port}" if self.port else ""
            url = f"{scheme}://{self.host}{port}{url}"
            response = transport.request(verb, url, content=body, headers=headers)
            return _PyGithubResponse(response)

        def close(self) -> None:
            """The transport owns the connection pool."""

    return TransportConnection


def bind_requester(requester: Requester, transport: Transport) -> Requester:
    """Make `requester` (and any copy PyGithub derives from it) send through `transport`."""
    base_scheme = requester.scheme
    setattr(requester, "_Requester__connectionClass", connection_class_for(transport, base_scheme))  # noqa: B010
    setattr(requester, "_Requester__httpConnectionClass", connection_class_for(transport, "http"))  # noqa: B010
    setattr(requester, "_Requester__httpsConnectionClass", connection_class_for(transport, "https"))  # noqa: B010
    for name in _REBINDING:
        setattr(requester, name, _rebinding(getattr(requester, name), requester, transport))
    return requester


def _rebinding(method: Callable[..., Requester], original: Requester,
               transport: Transport) -> Callable[..., Requester]:
    # PyGithub builds fresh Requesters for lazy/auth/api-version variants; they must not fall back
    # to plain `requests`.
    def wrapper(*args: Any, **kwargs: Any) -> Requester:
        derived = method(*args, **kwargs)
        return derived if derived is original else bind_requester(derived, transport)

    return wrapper


def build_github(transport: Transport) -> github.Github:
    """A PyGithub client on the transport: lazy objects (no request until an attribute is read),
    100 items a page, no retries, no throttling, no credentials of its own."""
    client = github.Github(
        base_url=transport.urls.rest,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        per_page=100,
        user_agent=USER_AGENT,
        lazy=True,
        timeout=max(int(transport.timeout), 1),
    )
    bind_requester(client.requester, transport)
    return client
