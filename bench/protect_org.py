"""`opsgh protect apply --org` on a 300-repository organisation with GitHub's secondary rate limit on.

Run: .venv/bin/python bench/protect_org.py [--repos 300] [--backend classic|ruleset|both] [--concurrency 8]

A sandbox on a FakeClock holds the organisation: every repository has `main` and `prod` and a CI
workflow producing the `ci` check. The sandbox enforces GitHub's secondary limits (80 content-creating
requests a minute, 500 an hour, 900 REST points a minute with a GET costing 1 and a write 5; 403 with
retry-after beyond); opsgh paces its requests with the same numbers.
The sandbox's clock only moves when opsgh waits for its turn, so an hour of GitHub time costs seconds.

Reported per back end:
- wall time (real seconds on this machine) and the sandbox time the run took (what it would take on
  GitHub, where writes are the bottleneck);
- requests: reads and writes, per repository, against the minimum on paper;
- rate-limit refusals (403/429): the target is 0;
- throughput: the fastest the limits allow for that many writes (bursts included, see
  `fastest_schedule`) divided by the time from the first to the last write: the target is >= 90%;
- a second plan right after: every branch up to date (zero churn), reads only.

The minimum on paper per repository, classic back end: the rulesets list (opsgh's own rulesets must be
found to be removed when a branch switches back end) + the protection of each of the two branches + the
workflows directory and the one workflow file (is `ci` produced by something?) = 5 reads, and one PUT
per branch = 2 writes; plus one page of the organisation's repository list per 100 repositories. The
ruleset back end reads each opsgh ruleset too once it exists (the list leaves out the rules).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ops"))

from _report import Report, Target
from protect_support import Org, fastest_schedule

from opsgh.clock import FakeClock
from opsgh.config import load_config
from opsgh.ops import protect
from opsgh.sandbox import Sandbox

PER_MINUTE, PER_HOUR, POINTS = 80, 500, 900

CONFIG = """\
protection:
  main:
    backend: {backend}
    required_checks: {{contexts: [ci]}}
  prod:
    backend: {backend}
    required_reviews: {{count: 1, dismiss_stale: true}}
    required_checks: {{contexts: [ci]}}
    required_conversation_resolution: true
"""


def run(backend: str, repos: int, concurrency: int) -> dict[str, Any]:
    clock = FakeClock()
    started = time.monotonic()
    with Sandbox(clock=clock) as sandbox:
        org = Org(sandbox, clock, tuple(f"svc-{n:03d}" for n in range(repos)))
        seeded = time.monotonic() - started
        sandbox.rate_limits.enable_secondary(per_minute=PER_MINUTE, per_hour=PER_HOUR, points_per_minute=POINTS)
        sandbox.log.clear()
        config = load_config(CONFIG.format(backend=backend))
        gateway = org.gateway()
        pacer = gateway.pace_requests(clock, per_minute=PER_MINUTE, per_hour=PER_HOUR, points_per_minute=POINTS)
        targets = protect.Targets(org="acme")
        wall = time.monotonic()
        fake = clock.now()
        planned = protect.plan(gateway, config, targets, None, clock, concurrency=concurrency)
        applied = protect.apply(gateway, planned, clock, concurrency=concurrency)
        wall = time.monotonic() - wall
        spent = clock.now() - fake
        entries = list(sandbox.log.entries)
        methods = Counter(e.method for e in entries)
        writes = [e for e in entries if e.method != "GET"]
        refused = [e for e in entries if e.status in (403, 429)]
        statuses = Counter(r.status for r in applied.repos)
        window = writes[-1].time - writes[0].time if len(writes) > 1 else 0.0
        fastest = fastest_schedule(len(writes), per_minute=PER_MINUTE, per_hour=PER_HOUR)
        paced = (pacer.reads, pacer.writes, pacer.waited)
        sandbox.log.clear()
        again_wall = time.monotonic()
        again = protect.plan(gateway, config, targets, None, clock, concurrency=concurrency)
        again_wall = time.monotonic() - again_wall
        churn = again.counts()
        again_requests = len(sandbox.log.entries)
        org.close()
    reads = methods["GET"]
    print(f"\n== {backend} back end, {repos} repositories, concurrency {concurrency}")
    print(f"seeding the sandbox: {seeded:.1f} s (not part of the run)")
    print(f"result: {dict(statuses)}; branches changed: {applied.counts()['create'] + applied.counts()['update']}")
    print(f"wall time: {wall:.1f} s on this machine; sandbox time: {spent:.0f} s ({spent / 60:.1f} min)")
    print(f"requests: {len(entries)} = {reads} reads ({reads / repos:.2f} per repository) + {len(writes)} writes "
          f"({len(writes) / repos:.2f} per repository; {dict((m, n) for m, n in methods.items() if m != 'GET')})")
    print(f"rate-limit refusals (403/429): {len(refused)}")
    if fastest > 0:
        print(f"writes from first to last: {window:.0f} s; the fastest the limits allow: {fastest:.0f} s; "
              f"throughput {fastest / window:.1%} of what the limits allow")
    else:
        print(f"writes from first to last: {window:.0f} s; all {len(writes)} fit in one burst under the limits "
              "(opsgh spreads them at 80 a minute instead)")
    times = [e.time for e in writes]
    points = [(e.time, 1 if e.method == "GET" else 5) for e in entries if e.path != "/graphql"]
    print(f"busiest minute: {most_in_window(times, 60)} writes (limit {PER_MINUTE}), "
          f"{most_points(points)} points (limit {POINTS}); busiest hour: {most_in_window(times, 3600)} writes "
          f"(limit {PER_HOUR})")
    print(f"pacer: {paced[0]} reads and {paced[1]} writes let through, {paced[2]:.0f} s waited in all")
    print(f"second plan: {churn['unchanged']} up to date, {churn['create'] + churn['update']} to change, "
          f"{churn['failed']} failed; {again_requests} requests, 0 writes; {again_wall:.1f} s wall")
    return {"backend": backend, "repos": repos, "protected": statuses.get("applied", 0), "wall": wall,
            "spent": spent, "reads": reads, "writes": len(writes), "refused": len(refused),
            "throughput": fastest / window if fastest > 0 and window > 0 else 1.0,
            "churn": churn["create"] + churn["update"] + churn["failed"], "again_requests": again_requests}


def most_in_window(times: list[float], seconds: float) -> int:
    """The most writes in any window (t - seconds, t], as GitHub's limiter counts them."""
    most, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def most_points(spent: list[tuple[float, int]]) -> int:
    """The most REST points spent in any window (t - 60, t]."""
    most, start, total = 0, 0, 0
    for moment, points in spent:
        total += points
        while spent[start][0] <= moment - 60:
            total -= spent[start][1]
            start += 1
        most = max(most, total)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repos", type=int, default=300)
    parser.add_argument("--backend", choices=("classic", "ruleset", "both"), default="both")
    parser.add_argument("--concurrency", type=int, default=protect.DEFAULT_CONCURRENCY)
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    report = Report(f"`opsgh protect apply --org` on {args.repos} repositories, secondary limits on",
                    ["back end", "protected", "wall time", "GitHub time (sandbox clock)", "reads per repository",
                     "writes per repository", "rate-limit refusals", "throughput of the limits",
                     "second plan: to change"])
    for backend in ("classic", "ruleset") if args.backend == "both" else (args.backend,):
        found = run(backend, args.repos, args.concurrency)
        report.rows.append([backend, f"{found['protected']}/{found['repos']}", f"{found['wall']:.1f} s",
                            f"{found['spent'] / 60:.1f} min", f"{found['reads'] / found['repos']:.2f}",
                            f"{found['writes'] / found['repos']:.2f}", found["refused"],
                            f"{found['throughput']:.1%}", found["churn"]])
        report.targets += [
            Target(f"{backend}: every repository protected", f"{found['repos']}", str(found["protected"]),
                   found["protected"] == found["repos"]),
            Target(f"{backend}: rate-limit refusals", "0", str(found["refused"]), found["refused"] == 0),
            Target(f"{backend}: throughput against what the limits allow", ">= 90%", f"{found['throughput']:.1%}",
                   found["throughput"] >= 0.9),
            Target(f"{backend}: a second plan right after (zero churn)", "0 to change", str(found["churn"]),
                   found["churn"] == 0),
        ]
    report.notes.append("GitHub's limits: 80 content-creating requests a minute, 500 an hour, 900 REST points a "
                        "minute (a GET 1, a write 5). The sandbox's clock only moves when opsgh waits for its turn: "
                        "an hour of GitHub time costs seconds here.")
    report.write(args.report)


if __name__ == "__main__":
    main()
