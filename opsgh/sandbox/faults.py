"""Fault injection and rate limits: how the sandbox misbehaves on purpose.

Faults are rules matched per request (method + path glob or regex) and counted (`skip` the first N
matches, then fire `times` times). A rule can answer with a status and GitHub's body, add headers
(`retry-after`, `x-ratelimit-*`), wait first, drop the connection without an answer, or let the
request land (the handler runs and its effect stays) and answer 502 anyway.

Rate limits follow GitHub: a primary limit per token and resource (core 5,000/h for users, 1,000/h for
the Actions GITHUB_TOKEN, 60/h anonymous, search 30/min), answered with 403 and
`x-ratelimit-remaining: 0` until the reset, and an optional secondary limit on content-creating
requests (80 a minute, 500 an hour) and, optionally, on REST points (900 a minute: a GET costs 1, a
write 5) answered with 403 (or 429) "You have exceeded a secondary rate limit". Windows and resets run
on the sandbox clock, so a FakeClock moves them without waiting.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from opsgh.clock import Clock

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request "
         "and contact us if the problem persists.",
}


@dataclass
class FaultRule:
    """One injected misbehaviour. See `Faults.add` for the meaning of each field."""

    method: str = "*"
    path: str | re.Pattern[str] = "*"
    status: int | None = None
    message: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    landed: bool = False
    skip: int = 0
    times: int | None = None
    seen: int = 0  # matching requests so far
    fired: int = 0  # requests this rule acted on

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def describe(self) -> str:
        what = []
        if self.delay:
            what.append(f"delay {self.delay:g}s")
        if self.landed:
            what.append("landed")
        if self.drop:
            what.append("drop")
        elif self.status is not None:
            what.append(str(self.status))
        return "+".join(what) or "noop"

    def error_body(self, request_id: str) -> Any:
        if self.body is not None:
            return self.body
        status = self.status or 500
        message = self.message or DEFAULT_MESSAGES.get(status, "Error")
        return {"message": message.replace("{request_id}", request_id), "documentation_url":
                "https://docs.github.com/rest", "status": str(status)}

    def answer_headers(self) -> dict[str, str]:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.retry_after is not None:
            headers["retry-after"] = str(int(self.retry_after))
        return headers


class Faults:
    """The fault rules of one sandbox (thread-safe). The first rule that fires for a request wins."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        # How long GitHub's background mergeability job takes (sandbox clock seconds, see slow_mergeability).
        self.mergeability_seconds = 0.0

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def add(self, method: str = "*", path: str | re.Pattern[str] = "*", *, status: int | None = None,
            message: str | None = None, body: Any = None, headers: dict[str, str] | None = None,
            retry_after: float | None = None, delay: float = 0.0, drop: bool = False, landed: bool = False,
            skip: int = 0, times: int | None = None) -> FaultRule:
        """Add a rule.

        method: "GET", "POST"... or "*". path: a glob on the request path without the query and without
        /api/v3 ("/repos/*/pulls"), "re:<regex>" or a compiled regex. status/message/body/headers: the
        answer (GitHub's error body for the status unless `body` is given; `{request_id}` in `message` is
        replaced). retry_after: adds `retry-after`. delay: seconds to wait (real time) before anything
        else (with `landed`: after the handler). drop: close the connection without answering. landed: run
        the handler first (its effect stays), then answer `status` or drop. skip: let the first N matching
        requests through. times: fire at most N times (None: forever). Git's smart HTTP is matched too
        ("/acme/shop.git/git-receive-pack").
        """
        if isinstance(path, str) and path.startswith("re:"):
            path = re.compile(path[3:])
        rule = FaultRule(method, path, status, message, body, dict(headers or {}), retry_after, delay, drop, landed,
                         skip, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def error(self, method: str, path: str | re.Pattern[str], status: int = 502, *, message: str | None = None,
              times: int | None = 1, skip: int = 0, retry_after: float | None = None,
              headers: dict[str, str] | None = None) -> FaultRule:
        """Answer `status` with GitHub's body instead of handling the request."""
        return self.add(method, path, status=status, message=message, times=times, skip=skip,
                        retry_after=retry_after, headers=headers)

    def delay(self, method: str, path: str | re.Pattern[str], seconds: float, *, times: int | None = None,
              skip: int = 0) -> FaultRule:
        """Handle the request normally after `seconds` (real time)."""
        return self.add(method, path, delay=seconds, times=times, skip=skip)

    def timeout(self, method: str, path: str | re.Pattern[str], seconds: float = 5.0, *, times: int | None = 1,
                landed: bool = False) -> FaultRule:
        """Say nothing for `seconds` (longer than the client's timeout), then close the connection.

        With `landed`, the request's effect happens first (a write that timed out but succeeded).
        """
        return self.add(method, path, delay=seconds, drop=True, landed=landed, times=times)

    def drop(self, method: str, path: str | re.Pattern[str], *, times: int | None = 1, skip: int = 0,
             landed: bool = False) -> FaultRule:
        """Close the connection without an answer (with `landed`, after the handler ran)."""
        return self.add(method, path, drop=True, landed=landed, times=times, skip=skip)

    def landed_then(self, method: str, path: str | re.Pattern[str], status: int = 502, *,
                    times: int | None = 1, skip: int = 0) -> FaultRule:
        """Run the handler (the write lands), then answer `status` (the client cannot tell it landed)."""
        return self.add(method, path, status=status, landed=True, times=times, skip=skip)

    def rate_limited(self, method: str, path: str | re.Pattern[str], kind: str = "primary", *,
                     times: int | None = 1, reset_in: float = 60.0, retry_after: float | None = None,
                     status: int = 403) -> FaultRule:
        """Answer as GitHub does when a rate limit is hit (without touching the real counters).

        primary: 403, `x-ratelimit-remaining: 0` and a reset `reset_in` seconds ahead on the sandbox
        clock (plus `retry-after` when given). secondary: 403 (or `status` 429) with the secondary-limit
        message and `retry-after` (60 unless given); secondary-no-retry-after: the same without the header.
        """
        reset = int(self._clock.now() + reset_in)
        if kind == "primary":
            headers = {"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-used": "5000",
                       "x-ratelimit-reset": str(reset)}
            return self.add(method, path, status=status, message="API rate limit exceeded for user ID 1.",
                            headers=headers, times=times, retry_after=retry_after)
        if kind == "secondary":
            return self.add(method, path, status=status, message=SECONDARY_MESSAGE, times=times,
                            retry_after=retry_after if retry_after is not None else 60)
        if kind == "secondary-no-retry-after":  # GitHub does not always say how long to wait
            return self.add(method, path, status=status, message=SECONDARY_MESSAGE, times=times)
        raise ValueError(f"kind must be 'primary', 'secondary' or 'secondary-no-retry-after', not {kind!r}")

    def slow_mergeability(self, seconds: float) -> None:
        """GitHub's mergeability job takes `seconds` on the sandbox clock: after a pull request's head or base
        moves, reads answer `mergeable: null` until that long after the first of them (0: the second read
        answers, the default)."""
        self.mergeability_seconds = max(0.0, seconds)

    def clear(self) -> None:
        """Remove every rule, and let mergeability be computed at its usual speed again."""
        with self._lock:
            self._rules.clear()
        self.mergeability_seconds = 0.0

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request (counted), or None."""
        with self._lock:
            chosen = None
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if chosen is None and rule.seen > rule.skip:
                    rule.fired += 1
                    chosen = rule
            return chosen


SECONDARY_MESSAGE = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                     "If you reach out to GitHub Support for help, please include the request ID {request_id}.")

# Requests per window by token kind (GitHub's defaults for github.com).
DEFAULT_LIMITS: dict[str, int] = {
    "anonymous": 60,
    "classic-pat": 5000,
    "fine-grained": 5000,
    "app-installation": 5000,
    "app-jwt": 5000,
    "actions": 1000,
}
# Resource -> (window seconds, limit or None for the token's limit).
RESOURCES: dict[str, tuple[int, int | None]] = {
    "core": (3600, None),
    "graphql": (3600, None),
    "search": (60, 30),
    "code_search": (60, 10),
    "integration_manifest": (3600, 5000),
}


@dataclass
class Bucket:
    limit: int
    used: int
    reset: int  # epoch seconds
    resource: str

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-resource": self.resource,
        }

    def as_json(self) -> dict[str, int]:
        return {"limit": self.limit, "used": self.used, "remaining": self.remaining, "reset": self.reset}


@dataclass
class SecondaryLimit:
    per_minute: int = 80  # content-creating requests
    per_hour: int = 500
    retry_after: float | None = 60.0
    status: int = 403
    points_per_minute: int | None = None  # REST points (GET 1, writes 5); None: not enforced


READ_POINTS, WRITE_POINTS = 1, 5


class RateLimits:
    """Primary limits per (token, resource) and the optional secondary limit on content creation."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.enabled = True
        self.scale = 1.0
        self.limits = dict(DEFAULT_LIMITS)
        self.secondary: SecondaryLimit | None = None
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._creations: dict[str, deque[float]] = {}
        self._points: dict[str, deque[tuple[float, int]]] = {}

    def configure(self, *, enabled: bool | None = None, scale: float | None = None,
                  limits: dict[str, int] | None = None) -> None:
        """Turn primary limits on/off, scale every limit (0.01: 50 requests an hour for a PAT), or set
        limits per token kind (anonymous, classic-pat, fine-grained, actions, app-installation, app-jwt).
        Counters are kept; new limits apply from the next request."""
        with self._lock:
            if enabled is not None:
                self.enabled = enabled
            if scale is not None:
                self.scale = scale
            if limits:
                self.limits.update(limits)
            for bucket in self._buckets.values():
                bucket.limit = -1  # recomputed on next use

    def enable_secondary(self, per_minute: int = 80, per_hour: int = 500, *, retry_after: float | None = 60.0,
                         status: int = 403, points_per_minute: int | None = None) -> None:
        """GitHub's secondary limits: `per_minute`/`per_hour` content-creating requests and, when
        `points_per_minute` is given (GitHub: 900), REST points a minute (a GET costs 1, a write 5)."""
        with self._lock:
            self.secondary = SecondaryLimit(per_minute, per_hour, retry_after, status, points_per_minute)

    def disable_secondary(self) -> None:
        with self._lock:
            self.secondary = None

    def reset(self) -> None:
        """Forget every counter (as if every window had just reset)."""
        with self._lock:
            self._buckets.clear()
            self._creations.clear()
            self._points.clear()

    def _limit(self, kind: str, resource: str) -> int:
        fixed = RESOURCES.get(resource, (3600, None))[1]
        base = fixed if fixed is not None else self.limits.get(kind, self.limits["classic-pat"])
        return max(1, int(base * self.scale))

    def _bucket(self, key: str, kind: str, resource: str) -> Bucket:
        now = self._clock.now()
        window = RESOURCES.get(resource, (3600, None))[0]
        bucket = self._buckets.get((key, resource))
        if bucket is None or now >= bucket.reset:
            bucket = Bucket(self._limit(kind, resource), 0, int(now) + window, resource)
            self._buckets[(key, resource)] = bucket
        if bucket.limit < 0:
            bucket.limit = self._limit(kind, resource)
        return bucket

    def peek(self, key: str, kind: str, resource: str = "core") -> Bucket:
        """The bucket without counting a request."""
        with self._lock:
            bucket = self._bucket(key, kind, resource)
            return Bucket(bucket.limit, bucket.used, bucket.reset, bucket.resource)

    def consume(self, key: str, kind: str, resource: str = "core") -> tuple[Bucket, bool]:
        """Count one request; (the bucket after it, whether the request is over the limit)."""
        with self._lock:
            bucket = self._bucket(key, kind, resource)
            if self.enabled and bucket.used >= bucket.limit:
                return Bucket(bucket.limit, bucket.used, bucket.reset, bucket.resource), True
            bucket.used += 1
            return Bucket(bucket.limit, bucket.used, bucket.reset, bucket.resource), False

    def secondary_check(self, key: str, *, creates_content: bool, points: bool) -> SecondaryLimit | None:
        """Count a request against the secondary limits (content creation, and REST points when `points`);
        the limit when it is exceeded (the request is then not counted), else None."""
        with self._lock:
            limit = self.secondary
            if limit is None:
                return None
            now = self._clock.now()
            times = self._creations.setdefault(key, deque())
            while times and times[0] <= now - 3600:
                times.popleft()
            if creates_content and (sum(1 for t in times if t > now - 60) >= limit.per_minute
                                    or len(times) >= limit.per_hour):
                return limit
            cost = WRITE_POINTS if creates_content else READ_POINTS
            spent = self._points.setdefault(key, deque())
            while spent and spent[0][0] <= now - 60:
                spent.popleft()
            if points and limit.points_per_minute is not None and \
                    sum(p for _, p in spent) + cost > limit.points_per_minute:
                return limit
            if creates_content:
                times.append(now)
            if points:
                spent.append((now, cost))
            return None

    def overview(self, key: str, kind: str) -> dict[str, dict[str, int]]:
        """GET /rate_limit's `resources`."""
        with self._lock:
            return {resource: self._bucket(key, kind, resource).as_json() for resource in RESOURCES}
