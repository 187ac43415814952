"""Pacing content-creating requests under GitHub's secondary rate limits.

GitHub allows "no more than 80 content-generating requests per minute and no more than 500 per hour"
per user or App (POST, PATCH, PUT, DELETE) and answers 403/429 with `retry-after` beyond that. Waiting
for the refusal and backing off wastes the minute and risks a longer block, so a run that writes a lot
(`opsgh protect apply --org`) spaces its writes before sending them:

- writes flow at per_minute/60 a second (one every 0.75 s at GitHub's 80), with a small `burst` allowed
  so that a run of a few writes never waits (a token bucket);
- never more than `per_minute` in any 60 s, nor `per_hour` in any 3600 s, counted from when each write
  was let through, plus `margin` seconds for the time a request takes to reach GitHub (so the burst
  never adds up to more than the limit);
- after a refusal, no write until its `retry-after` has passed (`hold`).

Threads share one pacer: the one whose turn it is sleeps while holding the lock, so the others queue
behind it and the clock (real, or a test's FakeClock) is slept on by one thread at a time. A write
counts as sent from its turn until its answer arrives (`release`), and the pacer never starts a wait
while one is on its way: time spent waiting cannot pass between a write's turn and GitHub counting it.
"""

from __future__ import annotations

import threading
from collections import deque

from opsgh.clock import Clock

MINUTE = 60.0
HOUR = 3600.0


class WritePacer:
    """Lets content-creating requests through no faster than the limits allow."""

    def __init__(self, clock: Clock, *, per_minute: int = 80, per_hour: int = 500, burst: int = 10,
                 margin: float = 1.0) -> None:
        if per_minute < 1 or per_hour < 1 or burst < 1:
            raise ValueError("per_minute, per_hour and burst must be at least 1")
        self.clock = clock
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.burst = min(burst, per_minute)
        self.margin = margin
        self.spacing = MINUTE / per_minute
        self._tokens = float(self.burst)
        self._refilled = clock.now()
        self._sent: deque[float] = deque()  # when each write of the last hour was let through
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._in_flight = 0
        self.writes = 0
        self.waited = 0.0  # seconds spent waiting for a turn, all threads together

    def __repr__(self) -> str:
        return f"WritePacer({self.per_minute}/min, {self.per_hour}/h)"

    def _ready_at(self, now: float) -> float:
        """The earliest time the next write may go (refills the bucket up to `now`)."""
        sent = self._sent
        while sent and sent[0] <= now - HOUR:
            sent.popleft()
        self._tokens = min(float(self.burst), self._tokens + max(now - self._refilled, 0.0) / self.spacing)
        self._refilled = max(now, self._refilled)
        short = 1.0 - self._tokens
        ready = max(self._blocked_until, now + short * self.spacing if short > 1e-9 else now)
        if len(sent) >= self.per_minute:
            ready = max(ready, sent[-self.per_minute] + MINUTE + self.margin)
        if len(sent) >= self.per_hour:
            ready = max(ready, sent[-self.per_hour] + HOUR + self.margin)
        return ready

    def acquire(self) -> float:
        """Wait for this write's turn and count it; returns the seconds waited. Call `release` once the
        write is answered (or failed)."""
        with self._lock:
            waited = 0.0
            while True:
                now = self.clock.now()
                ready = self._ready_at(now)
                if ready <= now:
                    break
                if self._in_flight:
                    self._answered.wait()  # let the writes on their way arrive before time moves on
                    continue
                self.clock.sleep(ready - now)
                waited += ready - now
            self._sent.append(self.clock.now())
            self._tokens -= 1.0
            self._in_flight += 1
            self.writes += 1
            self.waited += waited
            return waited

    def release(self) -> None:
        """A write let through by `acquire` has its answer (or none is coming)."""
        with self._lock:
            self._in_flight -= 1
            self._answered.notify_all()

    def hold(self, seconds: float) -> None:
        """GitHub refused a write (secondary limit): let no write through for `seconds`.

        Without the lock on purpose: the thread holding it may be sleeping for its turn, and re-reads
        `_blocked_until` when it wakes (a float assignment is atomic)."""
        self._blocked_until = max(self._blocked_until, self.clock.now() + max(seconds, 0.0))
