"""The transport: headers, secrets, pagination, the ledger, a real socket, and PyGithub routed through it."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import github
import httpx
import pytest

from opsgh.clock import FakeClock
from opsgh.errors import AmbiguousWrite, GitHubError, GitHubUnreachable, NotFound, Unauthorized
from opsgh.github.ledger import Ledger, route_of, safe_path
from opsgh.github.rest import build_github
from opsgh.github.retry import RetryPolicy
from opsgh.github.transport import Transport
from opsgh.github.urls import ApiUrls

TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
Handler = Callable[[httpx.Request], httpx.Response]


def make(
    handler: Handler,
    *,
    api_url: str | None = None,
    token: str | None = TOKEN,
    clock: FakeClock | None = None,
    **kw: Any,
) -> Transport:
    clock = clock or FakeClock()
    return Transport(
        ApiUrls.from_values(api_url),
        lambda: token,
        RetryPolicy(clock, jitter=None),
        clock,
        Ledger(),
        http_transport=httpx.MockTransport(handler),
        **kw,
    )


class Recorder:
    def __init__(self, response: httpx.Response | Handler) -> None:
        self.response = response
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.response(request) if callable(self.response) else self.response


# ----------------------------------------------------------------------------- headers and secrets


def test_every_request_carries_githubs_headers_and_the_token() -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    make(recorder).request("GET", "/repos/acme/shop")
    sent = recorder.requests[0]
    assert str(sent.url) == "https://api.github.com/repos/acme/shop"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["x-github-api-version"] == "2022-11-28"
    assert sent.headers["user-agent"].startswith("opsgh/")


def test_callers_choose_the_media_type_but_never_the_credential() -> None:
    recorder = Recorder(httpx.Response(200, text="raw"))
    make(recorder).request(
        "GET", "/x", headers={"Accept": "application/vnd.github.raw+json", "Authorization": "token stolen"}
    )
    sent = recorder.requests[0]
    assert sent.headers["accept"] == "application/vnd.github.raw+json"
    assert sent.headers.get_list("authorization") == [f"Bearer {TOKEN}"]


def test_no_token_sends_no_authorization() -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    make(recorder, token=None).request("GET", "/rate_limit")
    assert "authorization" not in recorder.requests[0].headers


def test_the_token_never_shows_in_errors_reprs_ledger_or_hooks() -> None:
    seen: list[Any] = []
    transport = make(
        lambda r: httpx.Response(401, json={"message": "Bad credentials"}),
        on_exchange=lambda *exchange: seen.append(exchange),
    )
    with pytest.raises(Unauthorized) as caught:
        transport.request("GET", "/user", params={"access_token": TOKEN})
    texts = [
        str(caught.value),
        repr(caught.value),
        caught.value.hint,
        repr(transport),
        repr(transport.retry_policy),
        transport.ledger.summary(),
        transport.ledger.as_json(),
        repr(caught.value.__cause__),
    ]
    for text in texts:
        assert TOKEN not in text
    assert caught.value.message == "GitHub: 401 Unauthorized (GET /user?access_token=***): Bad credentials"
    # The hook sees the exchange as sent (the caller's query included), but never the credential header.
    assert seen[0][2]["authorization"] == "***"
    assert TOKEN not in repr(seen[0][2])


def test_the_token_is_never_sent_to_another_host() -> None:
    recorder = Recorder(httpx.Response(200, json=[]))
    transport = make(recorder)
    with pytest.raises(GitHubError, match=r"refusing to send the GitHub token to https://evil\.example"):
        transport.request("GET", "https://evil.example/repos/acme/shop")
    assert recorder.requests == []


def test_on_exchange_sees_each_attempt() -> None:
    answers = iter([httpx.Response(502), httpx.Response(200, json={"a": 1}, headers={"X-Thing": "y"})])
    seen: list[tuple[Any, ...]] = []
    transport = make(lambda r: next(answers), on_exchange=lambda *e: seen.append(e))
    transport.request("POST", "/graphql", json={"query": "q"}, idempotent=True)
    assert [(e[0], e[1], e[4]) for e in seen] == [
        ("POST", "https://api.github.com/graphql", 502),
        ("POST", "https://api.github.com/graphql", 200),
    ]
    assert json.loads(seen[1][3]) == {"query": "q"}
    assert seen[1][5]["x-thing"] == "y"
    assert json.loads(seen[1][6]) == {"a": 1}


def test_a_failing_token_provider_is_not_retried() -> None:
    calls = []

    def provider() -> str:
        calls.append(1)
        raise GitHubUnreachable("cannot mint a token")

    clock = FakeClock()
    transport = Transport(
        ApiUrls(),
        provider,
        RetryPolicy(clock, jitter=None),
        clock,
        http_transport=httpx.MockTransport(lambda r: httpx.Response(200)),
    )
    with pytest.raises(GitHubUnreachable, match="cannot mint"):
        transport.request("GET", "/x")
    assert calls == [1]
    assert clock.sleeps == []


# ----------------------------------------------------------------------------- pagination


def paged(total_pages: int, *, base: str = "https://api.github.com") -> Recorder:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {}
        if page < total_pages:
            # GitHub's next links use the repository id, not the name.
            headers["link"] = (
                f'<{base}/repositories/42/issues?per_page=2&page={page + 1}>; rel="next", '
                f'<{base}/repositories/42/issues?per_page=2&page={total_pages}>; rel="last"'
            )
        return httpx.Response(200, json=[{"n": page * 10 + i} for i in range(2)], headers=headers)

    return Recorder(handler)


def test_paginate_follows_link_next_as_given() -> None:
    recorder = paged(3)
    transport = make(recorder)
    items = list(transport.paginate("/repos/acme/shop/issues", {"state": "open", "per_page": 2}))
    assert [i["n"] for i in items] == [10, 11, 20, 21, 30, 31]
    assert [str(r.url) for r in recorder.requests] == [
        "https://api.github.com/repos/acme/shop/issues?per_page=2&state=open",
        "https://api.github.com/repositories/42/issues?per_page=2&page=2",
        "https://api.github.com/repositories/42/issues?per_page=2&page=3",
    ]
    assert [e.route for e in transport.ledger.entries] == [
        "/repos/{owner}/{repo}/issues",
        "/repositories/{n}/issues",
        "/repositories/{n}/issues",
    ]


def test_paginate_asks_for_100_a_page_by_default() -> None:
    recorder = paged(1)
    list(make(recorder).paginate("/repos/acme/shop/labels"))
    assert recorder.requests[0].url.params["per_page"] == "100"


def test_paginate_unwraps_wrapped_lists() -> None:
    transport = make(lambda r: httpx.Response(200, json={"total_count": 1, "workflow_runs": [{"id": 7}]}))
    assert list(transport.paginate("/repos/a/b/actions/runs", items_key="workflow_runs")) == [{"id": 7}]


def test_paginate_will_not_follow_a_link_off_the_api_host() -> None:
    transport = make(paged(2, base="https://elsewhere.example"))
    with pytest.raises(GitHubError, match="refusing"):
        list(transport.paginate("/repos/acme/shop/issues"))


def test_paginate_on_ghes_keeps_the_prefix() -> None:
    recorder = paged(2, base="https://ghe.example/api/v3")
    transport = make(recorder, api_url="https://ghe.example/api/v3")
    assert len(list(transport.paginate("/repos/acme/shop/issues"))) == 4
    assert str(recorder.requests[1].url).startswith("https://ghe.example/api/v3/repositories/42/issues")
    assert [e.path for e in transport.ledger.entries] == [
        "/repos/acme/shop/issues?per_page=100",
        "/repositories/42/issues?per_page=2&page=2",
    ]


# ----------------------------------------------------------------------------- ledger


def test_the_ledger_records_every_attempt() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={}), httpx.Response(201, json={})])
    transport = make(lambda r: next(answers))
    transport.request("GET", "/repos/acme/shop/pulls/7")
    transport.request("POST", "/repos/acme/shop/issues/7/comments", json={"body": "x"})
    ledger = transport.ledger
    assert [(e.method, e.path, e.status, e.attempt, e.route) for e in ledger.entries] == [
        ("GET", "/repos/acme/shop/pulls/7", 503, 1, "/repos/{owner}/{repo}/pulls/{n}"),
        ("GET", "/repos/acme/shop/pulls/7", 200, 2, "/repos/{owner}/{repo}/pulls/{n}"),
        ("POST", "/repos/acme/shop/issues/7/comments", 201, 1, "/repos/{owner}/{repo}/issues/{n}/comments"),
    ]
    assert ledger.count() == 3
    assert ledger.count("GET") == 2
    assert ledger.count("post") == 1
    assert ledger.retries() == 1
    summary = ledger.summary()
    assert "/repos/{owner}/{repo}/pulls/{n}" in summary
    assert "200,503" in summary
    assert summary.splitlines()[-1].startswith("GitHub requests: 3 (1 retries)")
    assert [e["status"] for e in json.loads(ledger.as_json())] == [503, 200, 201]


def test_an_empty_ledger_says_so() -> None:
    assert Ledger().summary() == "GitHub requests: none"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (
            "/repos/acme/shop/branches/hotfix/login/protection",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
        ),
        ("/repos/acme/shop/git/ref/heads/hotfix/x", "/repos/{owner}/{repo}/git/ref/{ref}"),
        ("/repos/acme/shop/contents/.github/opsgh.yml?ref=main", "/repos/{owner}/{repo}/contents/{path}"),
        ("/repos/acme/shop/statuses/" + "a" * 40, "/repos/{owner}/{repo}/statuses/{sha}"),
        ("/repos/acme/shop/commits/main/statuses", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
        ("/repos/acme/shop/compare/prod...main", "/repos/{owner}/{repo}/compare/{basehead}"),
        ("/app/installations/99/access_tokens", "/app/installations/{n}/access_tokens"),
    ],
)
def test_routes(path: str, route: str) -> None:
    assert route_of(path) == route


def test_safe_path_masks_secret_query_values() -> None:
    assert safe_path("/x?page=2&client_secret=s3&per_page=100") == "/x?page=2&client_secret=***&per_page=100"
    assert (
        safe_path("/repos/a/b/issues?state=open&labels=P0,P1") == "/repos/a/b/issues?state=open&labels=P0,P1"
    )


# ----------------------------------------------------------------------------- a real socket


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def local_github() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            if "slow" in self.path:
                time.sleep(0.5)
            payload = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v3", seen
    server.shutdown()
    server.server_close()


def real(api_url: str, *, timeout: float = 5.0, max_attempts: int = 5) -> tuple[Transport, FakeClock]:
    clock = FakeClock()
    policy = RetryPolicy(clock, jitter=None, max_attempts=max_attempts)
    return Transport(ApiUrls.from_values(api_url), lambda: TOKEN, policy, clock, timeout=timeout), clock


def test_over_a_real_socket(local_github: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = local_github
    transport, _ = real(base)
    with transport:
        assert transport.request("POST", "/repos/acme/shop/issues", json={"title": "t"}).json() == {
            "ok": True
        }
    assert seen[0]["path"] == "/api/v3/repos/acme/shop/issues"
    assert seen[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(seen[0]["body"]) == {"title": "t"}


def test_a_real_read_timeout_on_post_is_ambiguous(local_github: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = local_github
    transport, clock = real(base, timeout=0.1)
    with pytest.raises(AmbiguousWrite, match=r"no answer within 0\.1 s"):
        transport.request("POST", "/slow", json={})
    assert len(seen) == 1
    assert clock.sleeps == []


def test_a_real_read_timeout_on_get_is_retried(local_github: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = local_github
    transport, clock = real(base, timeout=0.1, max_attempts=2)
    with pytest.raises(GitHubUnreachable):
        transport.request("GET", "/slow")
    assert len(seen) == 2
    assert clock.sleeps == [1.0]


def test_connection_refused_is_unreachable_even_for_a_post() -> None:
    # Find a port nobody listens on.
    server = _Server(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    transport, clock = real(f"http://127.0.0.1:{port}", max_attempts=3)
    with pytest.raises(GitHubUnreachable) as caught:
        transport.request("POST", "/repos/acme/shop/issues", json={})
    assert not isinstance(caught.value, AmbiguousWrite)  # it never left: nothing to read back
    assert clock.sleeps == [1.0, 2.0]


# ----------------------------------------------------------------------------- PyGithub on the transport


def repo_json(name: str = "acme/shop") -> dict[str, Any]:
    return {
        "id": 42,
        "full_name": name,
        "name": name.split("/")[1],
        "default_branch": "main",
        "url": f"https://api.github.com/repos/{name}",
        "private": True,
    }


def test_pygithub_sends_through_the_transport() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=repo_json()))
    transport = make(recorder)
    repo = build_github(transport).get_repo("acme/shop")
    assert repo.default_branch == "main"
    assert len(recorder.requests) == 1
    sent = recorder.requests[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["user-agent"].startswith("opsgh/")
    assert [(e.method, e.route) for e in transport.ledger.entries] == [("GET", "/repos/{owner}/{repo}")]


def test_pygithub_raises_our_typed_errors_not_its_own() -> None:
    transport = make(lambda r: httpx.Response(404, json={"message": "Not Found"}))
    with pytest.raises(NotFound) as caught:
        _ = build_github(transport).get_repo("acme/missing").default_branch
    assert not isinstance(caught.value, github.GithubException)
    assert caught.value.message == "GitHub: 404 Not Found (GET /repos/acme/missing): Not Found"


def test_pygithub_has_no_retry_of_its_own() -> None:
    recorder = Recorder(httpx.Response(502))
    clock = FakeClock()
    transport = make(recorder, clock=clock)
    with pytest.raises(AmbiguousWrite):
        build_github(transport).get_repo("acme/shop").create_label("release", "ff0000")
    assert len(recorder.requests) == 1


def test_pygithub_paginates_through_the_transport() -> None:
    recorder = paged(3)
    transport = make(recorder)
    repo = build_github(transport).get_repo("acme/shop")
    labels = list(repo.get_labels())
    assert len(labels) == 6
    assert len(recorder.requests) == 3
    assert recorder.requests[0].url.params["per_page"] == "100"


def test_pygithub_copies_of_the_requester_stay_on_the_transport() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=repo_json()))
    transport = make(recorder)
    client = build_github(transport)
    with pytest.warns(DeprecationWarning, match="lazy is deprecated"):
        repo = client.get_repo("acme/shop", lazy=False)  # PyGithub builds a new Requester for this
    assert repo.full_name == "acme/shop"
    assert len(recorder.requests) == 1


def test_pygithub_on_ghes() -> None:
    recorder = Recorder(lambda r: httpx.Response(200, json=repo_json()))
    transport = make(recorder, api_url="https://ghe.example/api/v3")
    assert build_github(transport).get_repo("acme/shop").default_branch == "main"
    assert str(recorder.requests[0].url) == "https://ghe.example/api/v3/repos/acme/shop"
    assert transport.ledger.entries[0].path == "/repos/acme/shop"
