"""Sandbox start-up: what a test pays for a fresh local GitHub (issue #3: well under a second).

Run: .venv/bin/python bench/sandbox_startup.py [--runs N]
Measures, as medians: start + stop of an empty sandbox; start + one user + one repository with its
first commit + stop (what most tests do); and `seed_demo` (the demo's repository: 4 merged PRs).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from _report import Report, Target

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox, seed_demo


def empty() -> None:
    sandbox = Sandbox(clock=FakeClock())
    sandbox.start()
    sandbox.stop()


def with_repo() -> None:
    sandbox = Sandbox(clock=FakeClock())
    sandbox.start()
    sandbox.add_user("alice")
    sandbox.create_repo("alice", "shop")
    sandbox.stop()


def demo_seed() -> None:
    sandbox = Sandbox(clock=FakeClock())
    sandbox.start()
    seed_demo(sandbox)
    sandbox.stop()


def median_ms(action: Callable[[], None], runs: int) -> float:
    action()  # warm imports and caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    report = Report("Sandbox start-up", ["what a test pays", f"median of {args.runs} runs"])
    medians = {}
    for name, action in (("start + stop", empty), ("start + user + repository + stop", with_repo),
                         ("start + seed_demo + stop", demo_seed)):
        medians[name] = median_ms(action, args.runs)
        print(f"{name:36s} {medians[name]:8.1f} ms median of {args.runs}")
        report.rows.append([name, f"{medians[name]:.1f} ms"])
    typical = medians["start + user + repository + stop"]
    report.targets.append(Target("a fresh sandbox with a user and a repository (what most tests do)",
                                 "< 250 ms (well under a second)", f"{typical:.0f} ms", typical < 250))
    report.write(args.report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
