"""GitHub requests made by `opsgh ship`, against the minimum one can argue on paper (target: at most 1.25x).

Run: .venv/bin/python bench/ship_requests.py [--verbose]

Each scenario runs against a fresh sandbox (tests/ops/ship_support.py: prod requires `ci`, a Release PR
main -> prod, CI green) and counts the requests in the gateway's ledger (retries included).

The minimum on paper, for a first ship (Release PR found by head/base, Ops Log issue exists):
  find the Release PR (list by head/base) ................................ 1
  its state, mergeability, body, checks on the head and the base's ruleset
  rules (one GraphQL read) ............................................... 1
  required checks not reported yet: classic protection (the branch) ....... 1
  merge with sha= ........................................................ 1
  tag: which names that day are taken + create ........................... 2
  GitHub Release (a new tag cannot have one: no lookup) .................. 1
  deployment + its status (a new merge commit has none: no lookup) ....... 2
  announcement comment (nothing to find right after the merge) ........... 1
  Ops Log: find the issue + the line ..................................... 2
                                                                    total 12
opsgh makes one more on purpose: a second GraphQL read after the merge for `mergedAt` (the tag's day
must come from GitHub's clock, or a re-run near midnight could name the tag differently) and
`mergedBy` (who shipped). A re-run must read before it skips each step, so its minimum is one read per
step (plus finding the merged PR and checking that prod has not moved since).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ops"))

import contextlib

from _report import Report, Target
from ship_support import ReleaseRepo

from opsgh.clock import FakeClock
from opsgh.errors import OpsghError
from opsgh.github.gateway import GitHubGateway
from opsgh.sandbox import Sandbox


@dataclass(frozen=True)
class Scenario:
    name: str
    minimum: int
    why: str
    prepare: Callable[[ReleaseRepo], dict[str, object]]  # -> keyword arguments for ship(); may run ship first


def _ready(repo: ReleaseRepo) -> int:
    repo.features("tax", "checkout")
    number = int(repo.open_release_pr()["number"])
    repo.report("success")
    return number


def _with_ops_log(repo: ReleaseRepo) -> None:
    repo.call("POST", "/issues", {"title": "Ops Log", "body": "events"}, expect=201)


def first_ship(repo: ReleaseRepo) -> dict[str, object]:
    _with_ops_log(repo)
    _ready(repo)
    return {}


def first_ship_numbered(repo: ReleaseRepo) -> dict[str, object]:
    _with_ops_log(repo)
    return {"pr": _ready(repo)}


def first_ship_new_ops_log(repo: ReleaseRepo) -> dict[str, object]:
    _ready(repo)
    return {}


def mergeable_unknown(repo: ReleaseRepo) -> dict[str, object]:
    _with_ops_log(repo)
    repo.features("tax")
    repo.open_release_pr()
    repo.features("late")  # main moved: the first read of mergeable answers null
    repo.report("success")
    return {}


def rerun_when_done(repo: ReleaseRepo) -> dict[str, object]:
    _with_ops_log(repo)
    _ready(repo)
    repo.ship(gateway=repo.gateway())
    return {}


def rerun_after_deployment_failure(repo: ReleaseRepo) -> dict[str, object]:
    _with_ops_log(repo)
    _ready(repo)
    repo.sandbox.faults.error("POST", "/repos/acme/shop/deployments", 502, times=2)
    with contextlib.suppress(OpsghError):
        repo.ship(gateway=repo.gateway())
    repo.sandbox.faults.clear()
    return {}


def dry_run(repo: ReleaseRepo) -> dict[str, object]:
    _with_ops_log(repo)
    _ready(repo)
    return {"dry_run": True}


SCENARIOS = [
    Scenario("first ship (PR found by head/base)", 12, "see the docstring", first_ship),
    Scenario("first ship, `opsgh ship N`", 11, "no PR lookup", first_ship_numbered),
    Scenario("first ship, Ops Log issue created", 13, "+ create the issue", first_ship_new_ops_log),
    Scenario("first ship, mergeable computed late", 13, "+ one poll of mergeable", mergeable_unknown),
    Scenario("re-run, everything done", 11, "one read per step + locate the merged PR (2) + prod's tip",
             rerun_when_done),
    Scenario("re-run after a failed deployment POST", 14, "reads as above, then deployment, status, comment, line",
             rerun_after_deployment_failure),
    Scenario("dry run", 5, "locate, GraphQL (with the rulesets), the branch, same-day tags, Ops Log issue",
             dry_run),
]


def measure(scenario: Scenario, verbose: bool) -> int:
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        repo = ReleaseRepo(sandbox, clock)
        try:
            options = scenario.prepare(repo)
            gateway: GitHubGateway = repo.gateway()
            repo.ship(gateway=gateway, **options)  # type: ignore[arg-type]
            if verbose:
                for entry in gateway.ledger.entries:
                    print(f"    {entry.method:5s} {entry.path} -> {entry.status}")
            return len(gateway.ledger)
        finally:
            repo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="List every request of every scenario.")
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    rows = []
    for scenario in SCENARIOS:
        if args.verbose:
            print(scenario.name)
        rows.append((scenario, measure(scenario, args.verbose)))
    width = max(len(s.name) for s, _ in rows)
    print(f"{'scenario':<{width}}  requests  minimum  ratio  minimum because")
    worst = 0.0
    for scenario, count in rows:
        ratio = count / scenario.minimum
        worst = max(worst, ratio)
        print(f"{scenario.name:<{width}}  {count:8d}  {scenario.minimum:7d}  {ratio:5.2f}  {scenario.why}")
    print(f"worst ratio {worst:.2f} (target <= 1.25)")
    Report("Requests of `opsgh ship`", ["scenario", "requests", "minimum on paper", "ratio", "the minimum because"],
           [[s.name, count, s.minimum, f"{count / s.minimum:.2f}", s.why] for s, count in rows],
           [Target("requests against the minimum on paper, worst scenario", "<= 1.25x", f"{worst:.2f}x",
                   worst <= 1.25)]).write(args.report)
    return 0 if worst <= 1.25 else 1


if __name__ == "__main__":
    raise SystemExit(main())
