"""The one retry policy, through the real transport: attempts sent and the exact waits taken."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opsgh.clock import FakeClock
from opsgh.errors import (
    AmbiguousWrite,
    Forbidden,
    GitHubBroken,
    GitHubUnreachable,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from opsgh.github.ledger import Ledger
from opsgh.github.retry import RetryPolicy
from opsgh.github.transport import Transport
from opsgh.github.urls import ApiUrls
from opsgh.ops.writes import create_once

Step = httpx.Response | type[httpx.TransportError] | Callable[[httpx.Request], httpx.Response]


class Script:
    """A fake GitHub that answers each request with the next scripted step."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected extra request: {request.method} {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, type) and issubclass(step, httpx.TransportError):
            raise step("scripted failure", request=request)
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    @property
    def attempts(self) -> int:
        return len(self.requests)


def make(script: Script, clock: FakeClock, **policy: Any) -> Transport:
    return Transport(
        ApiUrls(),
        lambda: "ghp_secret",
        RetryPolicy(clock, jitter=None, **policy),
        clock,
        Ledger(),
        http_transport=httpx.MockTransport(script),
    )


def ok(data: Any = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data if data is not None else {"ok": True})


def err(
    status: int, message: str = "boom", headers: dict[str, str] | None = None, **extra: Any
) -> httpx.Response:
    return httpx.Response(status, json={"message": message, **extra}, headers=headers or {})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ----------------------------------------------------------------------------- 5xx and network errors


def test_5xx_on_get_is_retried_with_backoff_then_succeeds(clock: FakeClock) -> None:
    script = Script(err(502), err(503), ok({"name": "shop"}))
    response = make(script, clock).request("GET", "/repos/acme/shop")
    assert response.json() == {"name": "shop"}
    assert script.attempts == 3
    assert clock.sleeps == [1.0, 2.0]


def test_5xx_on_get_gives_github_broken_after_the_cap(clock: FakeClock) -> None:
    script = Script(*[err(500, "Server Error")] * 5)
    transport = make(script, clock)
    with pytest.raises(GitHubBroken) as caught:
        transport.request("GET", "/repos/acme/shop")
    assert script.attempts == 5
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert caught.value.status == 500
    assert [e.attempt for e in transport.ledger.entries] == [1, 2, 3, 4, 5]


def test_the_cap_is_configurable(clock: FakeClock) -> None:
    script = Script(err(502), err(502))
    with pytest.raises(GitHubBroken):
        make(script, clock, max_attempts=2).request("GET", "/x")
    assert script.attempts == 2
    assert clock.sleeps == [1.0]


def test_5xx_on_post_is_not_resent(clock: FakeClock) -> None:
    script = Script(err(502, "Bad Gateway"))
    with pytest.raises(AmbiguousWrite) as caught:
        make(script, clock).request("POST", "/repos/acme/shop/pulls", json={"title": "Release"})
    assert script.attempts == 1
    assert clock.sleeps == []
    assert "not re-sent" in caught.value.message
    assert caught.value.status == 502


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_5xx_on_other_writes_is_not_resent(clock: FakeClock, method: str) -> None:
    script = Script(err(500))
    with pytest.raises(AmbiguousWrite):
        make(script, clock).request(method, "/repos/acme/shop/git/refs/heads/x", json={})
    assert script.attempts == 1


def test_timeout_on_post_is_not_resent(clock: FakeClock) -> None:
    script = Script(httpx.ReadTimeout)
    with pytest.raises(AmbiguousWrite) as caught:
        make(script, clock).request("POST", "/repos/acme/shop/issues", json={"title": "x"})
    assert script.attempts == 1
    assert clock.sleeps == []
    assert "no answer" in caught.value.message


def test_timeout_on_get_is_retried(clock: FakeClock) -> None:
    script = Script(httpx.ReadTimeout, ok())
    transport = make(script, clock)
    assert transport.request("GET", "/repos/acme/shop").status == 200
    assert script.attempts == 2
    assert clock.sleeps == [1.0]
    assert [e.status for e in transport.ledger.entries] == [None, 200]


def test_timeouts_on_get_give_unreachable_after_the_cap(clock: FakeClock) -> None:
    script = Script(*[httpx.ConnectTimeout] * 5)
    with pytest.raises(GitHubUnreachable):
        make(script, clock).request("GET", "/x")
    assert script.attempts == 5


def test_a_post_that_never_left_is_retried(clock: FakeClock) -> None:
    # Connection refused: GitHub never saw the request, so sending it again cannot duplicate it.
    script = Script(httpx.ConnectError, ok({"number": 1}, 201))
    assert make(script, clock).request("POST", "/repos/acme/shop/issues", json={}).status == 201
    assert script.attempts == 2
    assert clock.sleeps == [1.0]


def test_a_flagged_idempotent_post_is_retried_on_5xx(clock: FakeClock) -> None:
    script = Script(err(502), ok({"data": {}}))
    make(script, clock).request("POST", "/graphql", json={"query": "{viewer{login}}"}, idempotent=True)
    assert script.attempts == 2


def test_jitter_is_added_to_the_backoff(clock: FakeClock) -> None:
    script = Script(err(502), err(502), ok())
    transport = Transport(
        ApiUrls(),
        lambda: None,
        RetryPolicy(clock, jitter=lambda base: base / 10),
        clock,
        http_transport=httpx.MockTransport(script),
    )
    transport.request("GET", "/x")
    assert clock.sleeps == [pytest.approx(1.1), pytest.approx(2.2)]


# ----------------------------------------------------------------------------- rate limits


def primary(clock: FakeClock, seconds_to_reset: float) -> httpx.Response:
    return err(
        403,
        "API rate limit exceeded for user ID 1.",
        {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-reset": str(int(clock.now() + seconds_to_reset)),
        },
    )


def test_primary_limit_waits_until_the_reset_then_succeeds(clock: FakeClock) -> None:
    script = Script(primary(clock, 120), ok())
    assert make(script, clock).request("GET", "/repos/acme/shop").status == 200
    assert script.attempts == 2
    assert clock.sleeps == [121.0]


def test_primary_limit_is_safe_to_retry_for_a_post(clock: FakeClock) -> None:
    script = Script(primary(clock, 10), ok({"id": 1}, 201))
    assert make(script, clock).request("POST", "/repos/acme/shop/issues", json={}).status == 201
    assert clock.sleeps == [11.0]


def test_primary_limit_too_far_away_fails_at_once_naming_the_reset(clock: FakeClock) -> None:
    script = Script(primary(clock, 3600))
    with pytest.raises(RateLimited) as caught:
        make(script, clock).request("GET", "/repos/acme/shop")
    assert script.attempts == 1
    assert clock.sleeps == []
    error = caught.value
    assert error.kind == "primary"
    assert error.reset_at == int(clock.now() + 3600)
    assert "resets at 2027-01-15 09:00:00 UTC" in error.message  # FakeClock starts at 08:00 UTC
    assert "longer than the 15 min opsgh waits" in error.message


def test_max_wait_is_configurable(clock: FakeClock) -> None:
    script = Script(primary(clock, 120))
    with pytest.raises(RateLimited):
        make(script, clock, max_wait=60).request("GET", "/x")
    assert clock.sleeps == []


def test_secondary_limit_waits_exactly_retry_after(clock: FakeClock) -> None:
    script = Script(err(403, "You have exceeded a secondary rate limit.", {"retry-after": "30"}), ok())
    assert make(script, clock).request("GET", "/x").status == 200
    assert clock.sleeps == [30.0]


def test_secondary_limit_without_retry_after_waits_a_minute_then_backs_off(clock: FakeClock) -> None:
    limited = err(
        403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    )
    script = Script(limited, limited, limited, ok({"id": 1}, 201))
    assert make(script, clock).request("POST", "/repos/acme/shop/issues/1/comments", json={}).status == 201
    assert script.attempts == 4
    assert clock.sleeps == [60.0, 120.0, 240.0]


def test_secondary_limit_still_exhausted_after_the_cap(clock: FakeClock) -> None:
    limited = err(403, "You have exceeded a secondary rate limit.")
    script = Script(*[limited] * 5)
    with pytest.raises(RateLimited) as caught:
        make(script, clock).request("GET", "/x")
    assert caught.value.kind == "secondary"
    assert clock.sleeps == [60.0, 120.0, 240.0, 480.0]


def test_429_is_a_secondary_limit_even_for_a_post(clock: FakeClock) -> None:
    script = Script(httpx.Response(429, text=""), ok({"id": 1}, 201))
    assert make(script, clock).request("POST", "/repos/acme/shop/issues", json={}).status == 201
    assert script.attempts == 2
    assert clock.sleeps == [60.0]


def test_429_with_retry_after(clock: FakeClock) -> None:
    script = Script(httpx.Response(429, headers={"retry-after": "5"}), ok())
    make(script, clock).request("GET", "/x")
    assert clock.sleeps == [5.0]


# ----------------------------------------------------------------------------- final answers


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (422, ValidationFailed),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_client_errors_are_final(
    clock: FakeClock, status: int, error_type: type[Exception], method: str
) -> None:
    script = Script(
        err(
            status,
            "nope",
            errors=[
                {"resource": "PullRequest", "code": "custom", "message": "A pull request already exists"}
            ],
        )
    )
    with pytest.raises(error_type):
        make(script, clock).request(method, "/repos/acme/shop/pulls", json={} if method == "POST" else None)
    assert script.attempts == 1
    assert clock.sleeps == []


def test_422_carries_githubs_errors(clock: FakeClock) -> None:
    errors = [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for acme:main.",
        }
    ]
    script = Script(err(422, "Validation Failed", errors=errors))
    with pytest.raises(ValidationFailed) as caught:
        make(script, clock).request("POST", "/repos/acme/shop/pulls", json={})
    assert caught.value.errors == tuple(errors)
    assert caught.value.message == (
        "GitHub: 422 Unprocessable Entity (POST /repos/acme/shop/pulls): "
        "Validation Failed: A pull request already exists for acme:main."
    )


# ----------------------------------------------------------------------------- create_once (opsgh.ops.writes)


class FakeStatuses:
    """A server whose POST lands, but whose first answer is lost behind a 502."""

    def __init__(self, *, lands: bool) -> None:
        self.lands = lands
        self.created: list[dict[str, Any]] = []
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return ok(self.created)
        self.posts += 1
        body = json.loads(request.content)
        if self.posts == 1:
            if self.lands:
                self.created.append(body)
            return err(502, "Bad Gateway")
        self.created.append(body)
        return ok(body, 201)


def _find_and_create(transport: Transport) -> tuple[Callable[[], Any], Callable[[], Any]]:
    def find() -> Any:
        found = [
            c for c in transport.request("GET", "/repos/acme/shop/labels").json() if c["name"] == "release"
        ]
        return found[0] if found else None

    def create() -> Any:
        return transport.request("POST", "/repos/acme/shop/labels", json={"name": "release"}).json()

    return find, create


def test_create_once_reads_back_after_a_post_that_landed_but_answered_502(clock: FakeClock) -> None:
    server = FakeStatuses(lands=True)
    transport = Transport(
        ApiUrls(),
        lambda: "t",
        RetryPolicy(clock, jitter=None),
        clock,
        http_transport=httpx.MockTransport(server),
    )
    assert create_once(*_find_and_create(transport)) == {"name": "release"}
    assert server.posts == 1
    assert server.created == [{"name": "release"}]
    assert [(e.method, e.status) for e in transport.ledger.entries] == [
        ("GET", 200),
        ("POST", 502),
        ("GET", 200),
    ]


def test_create_once_creates_again_when_the_ambiguous_post_did_not_land(clock: FakeClock) -> None:
    server = FakeStatuses(lands=False)
    transport = Transport(
        ApiUrls(),
        lambda: "t",
        RetryPolicy(clock, jitter=None),
        clock,
        http_transport=httpx.MockTransport(server),
    )
    assert create_once(*_find_and_create(transport)) == {"name": "release"}
    assert server.posts == 2
    assert server.created == [{"name": "release"}]


def test_create_once_does_not_create_what_exists(clock: FakeClock) -> None:
    calls: list[str] = []
    assert (
        create_once(lambda: calls.append("find") or "found", lambda: calls.append("create") or "new")
        == "found"
    )
    assert calls == ["find"]


def test_waits_for_one_request_are_bounded_by_max_wait_in_total(clock: FakeClock) -> None:
    limited = err(403, "You have exceeded a secondary rate limit.", {"retry-after": "600"})
    script = Script(limited, limited)
    with pytest.raises(RateLimited, match="longer than the 15 min opsgh waits"):
        make(script, clock).request("GET", "/x")
    assert script.attempts == 2
    assert clock.sleeps == [600.0]


def test_every_wait_is_announced_so_a_person_sees_progress() -> None:
    from opsgh.clock import FakeClock
    from opsgh.errors import GitHubBroken
    from opsgh.github.retry import RetryPolicy

    said: list[str] = []
    policy = RetryPolicy(FakeClock(), max_attempts=3, jitter=None, on_wait=said.append)
    calls: list[int] = []

    def attempt(n: int) -> str:
        calls.append(n)
        if n < 3:
            raise GitHubBroken("GitHub: 502 Bad Gateway (GET /repos/o/r)", status=502, method="GET", path="/repos/o/r")
        return "ok"

    assert policy.call(attempt, method="GET", path="/repos/o/r", idempotent=True) == "ok"
    assert said == [
        "GitHub: 502 Bad Gateway (GET /repos/o/r); retrying in 1 s (attempt 2 of 3)",
        "GitHub: 502 Bad Gateway (GET /repos/o/r); retrying in 2 s (attempt 3 of 3)",
    ]
