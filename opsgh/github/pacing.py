"""Pacing requests under GitHub's secondary rate limits.

GitHub documents, per user or App: "no more than 80 content-generating requests per minute and no more
than 500 per hour" (POST, PATCH, PUT, DELETE), and "no more than 900 points per minute" for the REST API
(a GET costs 1 point, a write 5); beyond them it answers 403/429 with `retry-after`. Waiting for the
refusal and backing off wastes the minute and risks a longer block, so a run that sends a lot
(`opsgh protect --org`) paces its requests before sending them:

- writes flow at per_minute/60 a second (one every 0.75 s at GitHub's 80), with a small `burst` allowed
  so that a run of a few writes never waits (a token bucket);
- never more than `per_minute` writes in any 60 s, nor `per_hour` in any 3600 s, nor `points_per_minute`
  points of requests in any 60 s, counted from when each request was let through, plus `margin`
  seconds for the time a request takes to reach GitHub (so the burst never adds up to more than a limit);
- after a refusal, no request until its `retry-after` has passed (`hold`).

GraphQL has its own budget and is not paced here.

Threads share one pacer: the one whose turn it is sleeps while holding the lock, so the others queue
behind it and the clock (real, or a test's FakeClock) is slept on by one thread at a time. A request
counts as sent from its turn until its answer arrives (`release`), and the pacer never starts a wait
while one is on its way: time spent waiting cannot pass between a request's turn and GitHub counting it.
"""

from __future__ import annotations

import threading
from collections import deque

from opsgh.clock import Clock

MINUTE = 60.0
HOUR = 3600.0
READ_POINTS = 1
WRITE_POINTS = 5


class RequestPacer:
    """Lets requests through no faster than GitHub's secondary limits allow."""

    def __init__(self, clock: Clock, *, per_minute: int = 80, per_hour: int = 500, points_per_minute: int = 900,
                 burst: int = 10, margin: float = 1.0) -> None:
        if min(per_minute, per_hour, burst) < 1 or points_per_minute < WRITE_POINTS:
            raise ValueError("per_minute, per_hour and burst must be at least 1, points_per_minute at least 5")
        self.clock = clock
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.points_per_minute = points_per_minute
        self.burst = min(burst, per_minute)
        self.margin = margin
        self.spacing = MINUTE / per_minute
        self._tokens = float(self.burst)
        self._refilled = clock.now()
        self._writes: deque[float] = deque()  # when each write of the last hour was let through
        self._points: deque[tuple[float, int]] = deque()  # (when, points) of the last minute's requests
        self._points_in_window = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._in_flight = 0
        self.writes = 0
        self.reads = 0
        self.waited = 0.0  # seconds spent waiting for a turn, all threads together

    def __repr__(self) -> str:
        return f"RequestPacer({self.per_minute} writes/min, {self.per_hour}/h, {self.points_per_minute} points/min)"

    def _forget(self, now: float) -> None:
        while self._writes and self._writes[0] <= now - HOUR:
            self._writes.popleft()
        while self._points and self._points[0][0] <= now - MINUTE:
            self._points_in_window -= self._points.popleft()[1]

    def _points_ready_at(self, points: int) -> float:
        """When enough of the last minute's points will have expired to spend `points` more (0: now)."""
        excess = self._points_in_window + points - self.points_per_minute
        if excess <= 0:
            return 0.0
        for moment, spent in self._points:
            excess -= spent
            if excess <= 0:
                return moment + MINUTE + self.margin
        return float("inf")  # unreachable: one request never costs more than the budget

    def _ready_at(self, now: float, write: bool) -> float:
        """The earliest time the next request may go (refills the write bucket up to `now`)."""
        self._forget(now)
        ready = max(self._blocked_until, self._points_ready_at(WRITE_POINTS if write else READ_POINTS))
        if not write:
            return ready
        self._tokens = min(float(self.burst), self._tokens + max(now - self._refilled, 0.0) / self.spacing)
        self._refilled = max(now, self._refilled)
        short = 1.0 - self._tokens
        ready = max(ready, now + short * self.spacing if short > 1e-9 else now)
        sent = self._writes
        if len(sent) >= self.per_minute:
            ready = max(ready, sent[-self.per_minute] + MINUTE + self.margin)
        if len(sent) >= self.per_hour:
            ready = max(ready, sent[-self.per_hour] + HOUR + self.margin)
        return ready

    def acquire(self, write: bool = True) -> float:
        """Wait for this request's turn and count it; returns the seconds waited. Call `release` once it
        is answered (or failed)."""
        with self._lock:
            waited = 0.0
            while True:
                now = self.clock.now()
                ready = self._ready_at(now, write)
                if ready <= now:
                    break
                if self._in_flight:
                    self._answered.wait()  # let the requests on their way arrive before time moves on
                    continue
                self.clock.sleep(ready - now)
                waited += ready - now
            now = self.clock.now()
            points = WRITE_POINTS if write else READ_POINTS
            self._points.append((now, points))
            self._points_in_window += points
            self._in_flight += 1
            if write:
                self._writes.append(now)
                self._tokens -= 1.0
                self.writes += 1
            else:
                self.reads += 1
            self.waited += waited
            return waited

    def release(self) -> None:
        """A request let through by `acquire` has its answer (or none is coming)."""
        with self._lock:
            self._in_flight -= 1
            self._answered.notify_all()

    def hold(self, seconds: float) -> None:
        """GitHub refused a request (secondary limit): let nothing through for `seconds`.

        Without the lock on purpose: the thread holding it may be sleeping for its turn, and re-reads
        `_blocked_until` when it wakes (a float assignment is atomic)."""
        self._blocked_until = max(self._blocked_until, self.clock.now() + max(seconds, 0.0))
