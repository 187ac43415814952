"""GitHub requests made by `opsgh backport` and `opsgh hotfix start`, against the minimum on paper.

Run: .venv/bin/python bench/backport_requests.py [--verbose]

Each scenario runs against a fresh sandbox (tests/ops/hotfix_support.py: `prod` is the last release,
`main` has moved on, a hotfix merged into `prod` by a PR bob approved) and counts, for the measured run
only: the REST/GraphQL requests in the gateway's ledger (retries included) and the git smart-HTTP
requests in the sandbox's log (ref advertisements, fetches, pushes), the working tree being a scratch
repository that fetches only what it needs.

The minimum on paper for a clean back-port to one branch:
  the original PR (merged? merge sha, title, requested reviewers) ........ 1
  a back-port PR already there? (list by head and base) .................. 1
  the PR ................................................................. 1
  the label (created with its colour; 422 "already exists" is fine) + add  2
  who reviewed the original + request their review ....................... 2
                                                                     total 7
plus, for a PR of several commits merged without a merge commit, the PR's commits (to tell a
rebase from a squash) ...................................................................... 1
and, for the CLI, the repository's clone URL (GitHub, GHES or a sandbox: never guessed) .... 1
A re-run that finds the back-port PR, or a target that has the change already, needs 2.

Git over smart HTTP (protocol v2: a ref advertisement is a GET and a POST, a fetch by name one more
POST): the merge commit with just enough parents (2), the target's and the back-port branch's tips in
one advertisement (2), the target back to shortly before the hotfix was written (3), the target's tip
again right before the push (2: a target that moved means a fresh attempt), the push (2): 11. A re-run
that finds the PR fetches nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The test support modules, and the sandbox client they use.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ops"))

from _report import Report, Target
from hotfix_support import CONFIG, HotfixRepo

from opsgh.clock import FakeClock
from opsgh.ops.hotfix import HotfixStartRequest, start_hotfix
from opsgh.sandbox import Sandbox

FIXED = "def charge(amount):\n    return gateway.charge(amount, timeout=5)\n"
MAIN_PAY = "def charge(amount):\n    return gateway.charge(amount, timeout=30, retries=2)\n"


@dataclass(frozen=True)
class Scenario:
    name: str
    minimum: int  # REST + GraphQL
    config: str
    prepare: Callable[[HotfixRepo], int]  # -> the PR to back-port (0: measure `hotfix start` instead)
    rerun: bool = False  # measure a second run


def merged(method: str, commits: int = 1) -> Callable[[HotfixRepo], int]:
    def prepare(repo: HotfixRepo) -> int:
        changes = [{"app/pay.py": FIXED}] + [{f"app/part{i}.py": f"P = {i}\n"} for i in range(1, commits)]
        return int(repo.hotfix("payment-timeout", changes, "fix: payment timeout", method=method)["number"])
    return prepare


def already(repo: HotfixRepo) -> int:
    number = merged("squash")(repo)
    sha = repo.call("GET", f"/pulls/{number}")["merge_commit_sha"]
    repo.push("main", {"app/pay.py": FIXED}, f"fix: payment timeout\n\n(cherry picked from commit {sha})")
    return number


def conflicting(repo: HotfixRepo) -> int:
    repo.push("main", {"app/pay.py": MAIN_PAY}, "Retry payments twice")
    return merged("squash")(repo)


SCENARIOS = [
    Scenario("clean, merge commit", 7, CONFIG, merged("merge")),
    Scenario("clean, one commit (squashed)", 7, CONFIG, merged("squash")),
    Scenario("clean, squash of 3 commits", 8, CONFIG, merged("squash", 3)),
    Scenario("clean, rebase of 3 commits", 8, CONFIG, merged("rebase", 3)),
    Scenario("re-run: the back-port PR exists", 2, CONFIG, merged("merge"), rerun=True),
    Scenario("already on main (a cherry-pick -x)", 2, CONFIG, already),
    Scenario("conflict, draft PR", 8, CONFIG, conflicting),
    Scenario("conflict, comment on the original", 6, CONFIG.replace("draft-pr", "comment"), conflicting),
    Scenario("hotfix start (new branch and draft PR)", 6, CONFIG, lambda repo: 0),
]


def measure(scenario: Scenario, verbose: bool) -> tuple[int, int, int]:
    """(REST + GraphQL requests, git requests, pushes) of the measured run."""
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        repo = HotfixRepo(sandbox, clock, config=scenario.config)
        try:
            number = scenario.prepare(repo)
            if scenario.rerun:
                repo.backport(number)
            gateway = repo.gateway()
            sandbox.log.clear()
            if number:
                with repo.checkout(gateway) as git:
                    gateway.ledger.clear()  # the clone URL is the CLI's, counted apart
                    repo.backport(number, gateway=gateway, git=git)
            else:
                start_hotfix(gateway, repo.config, HotfixStartRequest(repo.full_name, "login-loop"))
            git_requests = [e for e in sandbox.log.entries if e.kind == "git"]
            if verbose:
                print(gateway.ledger.summary())
                print("git:", ", ".join(f"{e.method} {e.path.rsplit('/', 1)[-1]}{'?' + e.query if e.query else ''}"
                                        for e in git_requests))
            pushes = sum(1 for e in git_requests if e.method == "POST" and "receive-pack" in e.path)
            return len(gateway.ledger), len(git_requests), pushes
        finally:
            repo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--verbose", action="store_true", help="print each measured run's requests")
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    report = Report("Requests of `opsgh backport` and `opsgh hotfix start`",
                    ["scenario", "requests", "minimum on paper", "ratio", "git requests", "pushes"])
    print(f"{'scenario':<42} {'requests':>8} {'minimum':>7} {'ratio':>5} {'git':>4} {'pushes':>6}")
    worst = 0.0
    for scenario in SCENARIOS:
        requests, git_requests, pushes = measure(scenario, args.verbose)
        ratio = requests / scenario.minimum
        worst = max(worst, ratio)
        print(f"{scenario.name:<42} {requests:>8} {scenario.minimum:>7} {ratio:>5.2f} {git_requests:>4} {pushes:>6}")
        report.rows.append([scenario.name, requests, scenario.minimum, f"{ratio:.2f}", git_requests, pushes])
    print(f"worst ratio {worst:.2f} (target: at most 1.25)")
    report.targets.append(Target("REST and GraphQL requests against the minimum on paper, worst scenario",
                                 "<= 1.25x", f"{worst:.2f}x", worst <= 1.25))
    report.write(args.report)
    return 0 if worst <= 1.25 else 1


if __name__ == "__main__":
    sys.exit(main())
