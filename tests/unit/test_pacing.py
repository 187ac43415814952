"""The write pacer: never over GitHub's secondary limits, close to them, no waiting for a handful of writes."""

from __future__ import annotations

import threading

from opsgh.clock import FakeClock
from opsgh.github.pacing import RequestPacer


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The most writes in any half-open window (t - seconds, t], as GitHub's limiter counts them."""
    return max(sum(1 for other in times if moment - seconds < other <= moment) for moment in times)


def test_600_writes_stay_under_80_a_minute_and_500_an_hour_and_finish_close_to_the_fastest() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    times = []
    for _ in range(600):
        pacer.acquire()
        times.append(clock.now())
        pacer.release()
    assert most_in_any_window(times, 60) <= 80
    assert most_in_any_window(times, 3600) <= 500
    # The fastest the limits allow: 500 in the first hour, the other 100 from t0+3600 (80, then 20 a minute later).
    spent = times[-1] - times[0]
    assert 3660 <= spent <= 3660 / 0.9


def test_a_few_writes_do_not_wait() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    for _ in range(10):
        assert pacer.acquire() == 0
        pacer.release()
    assert clock.sleeps == []
    pacer.acquire()  # the 11th waits for the bucket: one write every 0.75 s at 80 a minute
    assert clock.sleeps == [0.75]


def test_a_refusal_holds_every_write_for_its_retry_after() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    start = clock.now()
    pacer.hold(30)
    pacer.acquire()
    assert clock.now() - start == 30


def test_no_time_passes_while_a_write_is_on_its_way() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock, per_minute=1, burst=1)
    pacer.acquire()  # the first write is on its way to GitHub
    second = threading.Thread(target=pacer.acquire)
    second.start()
    second.join(timeout=0.2)
    assert second.is_alive()  # its turn is a minute away, but it does not start waiting yet
    assert clock.sleeps == []
    pacer.release()  # the first write is answered
    second.join(timeout=5)
    assert not second.is_alive()
    assert clock.sleeps == [61.0]  # a minute after the first, plus the margin


def test_reads_and_writes_share_900_points_a_minute() -> None:
    clock = FakeClock()
    pacer = RequestPacer(clock)
    moments: list[tuple[float, int]] = []
    for number in range(1200):
        write = number % 10 == 0  # a write (5 points) among every nine reads (1 point)
        pacer.acquire(write)
        moments.append((clock.now(), 5 if write else 1))
        pacer.release()
    busiest = max(sum(p for t, p in moments if moment - 60 < t <= moment) for moment, _ in moments)
    assert busiest <= 900
    assert pacer.reads == 1080
    assert pacer.writes == 120
    # 1,680 points at 900 a minute: about two minutes, not more.
    assert 60 < clock.now() - moments[0][0] <= 125
