"""The one retry policy for every request to GitHub (REST through PyGithub, raw REST, GraphQL).

Rules (GitHub's "best practices for using the REST API" plus "never re-send a write blindly"):

- reads (GET/HEAD, and requests flagged idempotent such as GraphQL queries) are retried on 5xx,
  timeouts and dropped connections, with exponential backoff 1, 2, 4, 8 s (+ small jitter);
- a primary rate limit (x-ratelimit-remaining: 0) waits until x-ratelimit-reset + 1 s, unless that
  would take the request's waiting past `max_wait` (15 min): then it fails at once, naming the
  reset time;
- a secondary limit (403/429 with retry-after, or GitHub's "secondary rate limit" message) waits
  retry-after, else 60 s, then 120, 240 s...; rate-limit retries are safe for writes too, because
  GitHub refused the request before acting on it;
- a write (POST/PATCH/PUT/DELETE) that got a 5xx or lost its answer is NOT re-sent: it raises
  `AmbiguousWrite` so the caller reads back first (see `opsgh.github.idempotent`); a write whose
  connection could not even be opened never reached GitHub and is retried like a read;
- 401, 403, 404, 405, 409, 422 and the other 4xx are final.

Every wait goes through the injected clock, so tests assert the exact sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from opsgh.clock import Clock
from opsgh.errors import AmbiguousWrite, GitHubBroken, GitHubError, GitHubUnreachable, RateLimited

T = TypeVar("T")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ConnectionFailed(GitHubUnreachable):
    """No HTTP answer. `reached_server` says whether the request may have arrived (timeout after
    sending, connection dropped) or certainly did not (refused, DNS, connect timeout)."""

    def __init__(self, message: str, hint: str | None = None, *, reached_server: bool, **kw: object) -> None:
        self.reached_server = reached_server
        super().__init__(message, hint, **kw)  # type: ignore[arg-type]


def default_jitter(base: float) -> float:
    """Up to 10 % extra, so that parallel jobs hit by the same outage do not retry in lockstep."""
    return random.uniform(0.0, base * 0.1)  # noqa: S311 - spreading retries, not cryptography


def _no_jitter(base: float) -> float:
    return 0.0


def is_idempotent(method: str, flag: bool | None = None) -> bool:
    return flag if flag is not None else method.upper() in SAFE_METHODS


@dataclass
class _CallState:
    backoffs: int = 0  # waits taken for 5xx / network errors
    secondary_backoffs: int = 0  # waits taken for secondary limits without retry-after
    next_wait: float = 0.0
    waited: float = 0.0  # seconds slept so far for this request
    too_long: float | None = None  # the wait that would have exceeded max_wait, if any


class RetryPolicy:
    """Decides whether and how long to wait before re-sending; runs the attempts (tenacity)."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_attempts: int = 5,
        max_wait: float = 900.0,
        backoff_base: float = 1.0,
        secondary_wait: float = 60.0,
        jitter: Callable[[float], float] | None = default_jitter,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        """`on_wait(message)` is told before every wait, so a person is not left staring at nothing."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.clock = clock
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.backoff_base = backoff_base
        self.secondary_wait = secondary_wait
        self.jitter: Callable[[float], float] = jitter or _no_jitter
        self.on_wait = on_wait

    def __repr__(self) -> str:
        return f"RetryPolicy(max_attempts={self.max_attempts}, max_wait={self.max_wait:g})"

    # ------------------------------------------------------------------ decisions

    def _wait_for(self, error: BaseException, *, idempotent: bool, state: _CallState) -> float | None:
        """Seconds to wait before the next attempt, or None to give up with `error` now."""
        if isinstance(error, RateLimited):
            return self._rate_limit_wait(error, state)
        if isinstance(error, ConnectionFailed):
            if idempotent or not error.reached_server:
                return self._backoff(state)
            return None
        if isinstance(error, GitHubBroken) and idempotent:
            return self._backoff(state)
        return None

    def _backoff(self, state: _CallState) -> float:
        base = self.backoff_base * 2.0 ** state.backoffs
        state.backoffs += 1
        return base + self.jitter(base)

    def _rate_limit_wait(self, error: RateLimited, state: _CallState) -> float | None:
        if error.retry_after is not None:
            wait = max(error.retry_after, 0.0)
        elif error.kind == "primary" and error.reset_at is not None:
            wait = max(error.reset_at - self.clock.now(), 0.0) + 1.0
        else:
            wait = self.secondary_wait * 2.0 ** state.secondary_backoffs
            state.secondary_backoffs += 1
        if state.waited + wait > self.max_wait:
            state.too_long = wait
            return None
        return wait

    # ------------------------------------------------------------------ running

    def call(self, attempt: Callable[[int], T], *, method: str, path: str, idempotent: bool) -> T:
        """Run `attempt(n)` (n = 1, 2, ...) until it returns, or raise the final typed error."""
        state = _CallState()

        def should_retry(error: BaseException) -> bool:
            wait = self._wait_for(error, idempotent=idempotent, state=state)
            if wait is None:
                return False
            state.next_wait = wait
            state.waited += wait
            return True

        def wait(_: RetryCallState) -> float:
            return state.next_wait

        def announce(retry_state: RetryCallState) -> None:
            if self.on_wait is None or retry_state.outcome is None:
                return
            error = retry_state.outcome.exception()
            # Typed errors already name the request; anything else gets it added.
            reason = error.message if isinstance(error, GitHubError) else f"{method} {path}: {error}"
            self.on_wait(f"{reason}; retrying in {state.next_wait:.0f} s "
                         f"(attempt {retry_state.attempt_number + 1} of {self.max_attempts})")

        retrying = Retrying(
            sleep=self.clock.sleep,
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(should_retry),
            before_sleep=announce,
            reraise=True,
        )
        counter = iter(range(1, self.max_attempts + 1))
        try:
            return retrying(lambda: attempt(next(counter)))
        except RateLimited as err:
            if state.too_long is not None:
                raise _too_long(err, state.too_long, self.max_wait) from err
            raise
        except GitHubBroken as err:
            if not idempotent:
                raise ambiguous(err, method, path) from err
            raise
        except ConnectionFailed as err:
            if not idempotent and err.reached_server:
                raise ambiguous(err, method, path) from err
            raise


def ambiguous(err: GitHubError, method: str, path: str) -> AmbiguousWrite:
    return AmbiguousWrite(
        f"{err.message}; GitHub may or may not have applied the {method}, so it was not re-sent",
        status=err.status, method=method, path=path, request_id=err.request_id,
    )


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{seconds:.0f} s"


def _too_long(err: RateLimited, wait: float, max_wait: float) -> RateLimited:
    return RateLimited(
        f"{err.message} (in {_minutes(wait)}, longer than the {_minutes(max_wait)} opsgh waits)",
        kind=err.kind, reset_at=err.reset_at, retry_after=err.retry_after, status=err.status,
        method=err.method, path=err.path, request_id=err.request_id, documentation_url=err.documentation_url,
    )
