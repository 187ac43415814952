"""Wall time and GitHub requests of `opsgh rollback` (and of the release that re-applies it) against the
sandbox with 100 ms of latency on every request. The runbook's budget for a rollback is minutes
("execute immediately if stabilization fails > 5 minutes"; P0 within 5 minutes); ours should be seconds.

Run: .venv/bin/python bench/rollback_requests.py [--verbose] [--latency-ms 100]

Each scenario runs against a fresh sandbox (tests/ops/rollback_support.py: a release shipped with
`opsgh ship`, the Ops Log issue there, prod without required checks unless said), sets the latency once
the scene is set, and times the one operation with the real clock: its requests are counted in the
gateway's ledger, and its sleeps are real (GitHub computes `mergeable` after a pull request changes:
the sandbox, like GitHub, answers null on the first read, and opsgh waits 1 s before it reads again).

The minimum on paper for a first rollback:
  the last merged Release PR (list by head/base) + its state, id and merge (one GraphQL read) .... 2
  an existing revert PR? (pull requests into prod since the release, newest first, one page) ..... 1
  revertPullRequest (GraphQL; the payload is the new PR, mergeable still null) + one read once
    GitHub computed it .......................................................................... 2
  merge with sha= + one read for the merge commit, when and by whom ............................ 2
  deployment + its status (a new commit has none: no lookup) .................................... 2
  the release's deployments + their statuses + `inactive` ....................................... 3
  postmortem issue (nothing to find right after the merge) ...................................... 1
  announcement comment (its marker names the new revert PR: nothing to find) .................... 1
  Ops Log: find the issue + the line ............................................................ 2
                                                                                           total 16
A re-run that finds everything done reads before it skips each step: the Release PR (2), the revert PR
(list + state), the deployment and its statuses, the release's deployments and statuses, the postmortem,
the announcement, the Ops Log issue and line: 12.

The release after a rollback and a fix: finding the rollback costs what a release reads anyway (both
compares, the Release PR lookup: 3); the re-apply is its lookup by head/base, the rollback's parent (its
tree), the commit, the branch, the pull request, one read of its mergeability, the merge (7); then the
release from the new main as usual: compare, Release PR lookup, merged pull requests, template
overrides, create, label, add labels (7): 17.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ops"))

from _report import Report, Target
from rollback_support import REASON, shipped
from ship_support import ReleaseRepo

from opsgh.clock import FakeClock, SystemClock
from opsgh.errors import OpsghError
from opsgh.github.gateway import GitHubGateway
from opsgh.ops.release import release
from opsgh.ops.rollback import RollbackRequest, rollback
from opsgh.sandbox import Sandbox


@dataclass(frozen=True)
class Scenario:
    name: str
    minimum: int
    why: str
    required: tuple[str, ...]
    prepare: Callable[[ReleaseRepo], None]
    act: Callable[[ReleaseRepo, GitHubGateway], object]


def _roll_back(repo: ReleaseRepo, gateway: GitHubGateway, **options: object) -> object:
    return rollback(gateway, repo.config, RollbackRequest(repo.full_name, REASON, **options),  # type: ignore[arg-type]
                    SystemClock())


def _shipped(repo: ReleaseRepo) -> None:
    shipped(repo)


def _rolled_back(repo: ReleaseRepo) -> None:
    shipped(repo)
    _roll_back(repo, repo.gateway())


def _rolled_back_and_fixed(repo: ReleaseRepo) -> None:
    _rolled_back(repo)
    repo.push({"app/tax.py": "# tax, fixed\n"}, "Fix tax")


def _blocked(repo: ReleaseRepo, gateway: GitHubGateway) -> object:
    with contextlib.suppress(OpsghError):  # prod requires `ci`: refused, with the reason and the announcement
        _roll_back(repo, gateway)
    return None


SCENARIOS = [
    Scenario("first rollback (merged in one run)", 16, "see the docstring", (), _shipped,
             lambda repo, gateway: _roll_back(repo, gateway)),
    Scenario("re-run, rolled back already", 12, "one read before each skip", (), _rolled_back,
             lambda repo, gateway: _roll_back(repo, gateway)),
    Scenario("dry run", 4, "Release PR (2), revert PR lookup, the release's deployments", (), _shipped,
             lambda repo, gateway: _roll_back(repo, gateway, dry_run=True)),
    Scenario("--no-merge", 5, "Release PR (2), lookup, revert, announcement", (), _shipped,
             lambda repo, gateway: _roll_back(repo, gateway, merge=False)),
    Scenario("held by prod's protection (`ci`)", 8, "as far as the merge, + prod's required checks (2) "
             "to say which is missing, + the announcement", ("ci",), _shipped, _blocked),
    Scenario("the release after the fix (re-apply + open)", 17, "see the docstring", (), _rolled_back_and_fixed,
             lambda repo, gateway: release(gateway, repo.full_name, repo.config, SystemClock())),
]


def measure(scenario: Scenario, latency_ms: float, verbose: bool) -> tuple[int, float]:
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        repo = ReleaseRepo(sandbox, clock, required=scenario.required)
        try:
            scenario.prepare(repo)
            gateway = GitHubGateway.connect(api_url=sandbox.url, token=repo.tokens["alice"], clock=SystemClock(),
                                            jitter=None)
            sandbox.app.latency_ms = latency_ms
            started = time.monotonic()
            try:
                scenario.act(repo, gateway)
            finally:
                elapsed = time.monotonic() - started
                sandbox.app.latency_ms = 0
                gateway.close()
            if verbose:
                for entry in gateway.ledger.entries:
                    print(f"    {entry.method:5s} {entry.path} -> {entry.status}")
            return len(gateway.ledger), elapsed
        finally:
            repo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="List every request of every scenario.")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="Latency added to every request.")
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    rows = []
    for scenario in SCENARIOS:
        if args.verbose:
            print(scenario.name)
        rows.append((scenario, *measure(scenario, args.latency_ms, args.verbose)))
    width = max(len(s.name) for s, _, _ in rows)
    print(f"latency {args.latency_ms:g} ms per request")
    print(f"{'scenario':<{width}}  requests  minimum  ratio  wall time  minimum because")
    worst = 0.0
    for scenario, count, elapsed in rows:
        ratio = count / scenario.minimum
        worst = max(worst, ratio)
        print(f"{scenario.name:<{width}}  {count:8d}  {scenario.minimum:7d}  {ratio:5.2f}  {elapsed:7.2f} s  "
              f"{scenario.why}")
    print(f"worst ratio {worst:.2f} (target <= 1.25)")
    report = Report(f"Rollback at {args.latency_ms:g} ms of latency per request",
                    ["scenario", "requests", "minimum on paper", "ratio", "wall time", "the minimum because"],
                    [[s.name, count, s.minimum, f"{count / s.minimum:.2f}", f"{elapsed:.2f} s", s.why]
                     for s, count, elapsed in rows])
    report.targets.append(Target("requests against the minimum on paper, worst scenario", "<= 1.25x",
                                 f"{worst:.2f}x", worst <= 1.25))
    first = rows[0]
    report.targets.append(Target(f"a first rollback's wall time at {args.latency_ms:g} ms per request",
                                 "seconds (under 10 s; the runbook allows 5 minutes)", f"{first[2]:.1f} s",
                                 first[2] < 10))
    report.notes.append("The sleeps are real: GitHub computes a new pull request's mergeability asynchronously "
                        "and opsgh waits 1 s before reading it again.")
    report.write(args.report)
    return 0 if worst <= 1.25 else 1


if __name__ == "__main__":
    raise SystemExit(main())
