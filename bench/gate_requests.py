"""GitHub requests made by `opsgh gate --publish` without HTTP probes (targets: at most 4 when nothing
changed, with no write; at most 6 when the verdict changed).

Run: .venv/bin/python bench/gate_requests.py [--verbose]

Each scenario runs against a fresh sandbox (tests/ops/ship_support.py: prod requires `ci`, a Release PR
main -> prod) with an App installation token (what the Action runs with; it may create check runs) or a
classic PAT (the commit-status fallback), and counts the requests in the gateway's ledger for the last
`gate` + `publish_verdict` only (what a re-run of the workflow costs). The PR number is given, as the
Action does on pull_request events; without it `gate` adds one request to find the Release PR.

Where the requests go:
  gate: PR state, labels, latest reviews, checks and the base branch's ruleset rules (one GraphQL read)
    + the branch (classic protection's required checks) ................................................. 2
  gate after a push: GitHub computes `mergeable` asynchronously (null until then, never read as false):
    one more GraphQL read once it is known .............................................................. +1
  publish, nothing changed: the PR's comments (1 page below 100 comments); our check's state comes from
    the gate's GraphQL read of the head's checks ........................................................ 1
  publish, verdict changed: comments + PATCH our run by the id the gate read (or POST a status; its
    state and description were read by the gate too) + PATCH the comment ............................... 3
  publish, new head: comments + POST the run (the gate's read shows none of ours: no lookup) + PATCH
    the comment ........................................................................................ 3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ops"))

from _report import Report, Target
from ship_support import ReleaseRepo

from opsgh.clock import FakeClock
from opsgh.github.gateway import GitHubGateway
from opsgh.ops.gate import gate
from opsgh.ops.publish_verdict import publish_verdict
from opsgh.ports import PullShipState
from opsgh.sandbox import Sandbox

APP_PERMISSIONS = {"checks": "write", "issues": "write", "pull_requests": "write", "statuses": "write",
                   "contents": "read", "metadata": "read"}


@dataclass(frozen=True)
class Scenario:
    name: str
    target: int
    token: str  # app, pat
    prepare: Callable[[ReleaseRepo, int], None]  # between the first publish and the measured one


def nothing(repo: ReleaseRepo, number: int) -> None:
    pass


def ci_fixed(repo: ReleaseRepo, number: int) -> None:
    repo.report("success")


def new_head(repo: ReleaseRepo, number: int) -> None:
    repo.features("late")  # the Release PR's head moves: a new SHA without our check
    repo.report("success")


SCENARIOS = [
    Scenario("nothing changed (App token)", 4, "app", nothing),
    Scenario("verdict changed NO-GO -> GO (App token)", 6, "app", ci_fixed),
    Scenario("new head SHA, verdict changed (App token)", 6, "app", new_head),
    Scenario("nothing changed (classic PAT: status)", 4, "pat", nothing),
    Scenario("verdict changed (classic PAT: status)", 6, "pat", ci_fixed),
]


def measure(scenario: Scenario, verbose: bool) -> tuple[int, int, int]:
    """(gate requests, publish requests, writes) of the measured run."""
    clock = FakeClock()
    with Sandbox(clock=clock) as sandbox:
        repo = ReleaseRepo(sandbox, clock)
        try:
            repo.features("tax")
            number = int(repo.open_release_pr()["number"])
            repo.report("failure")
            if scenario.token == "app":
                token = sandbox.installation_token(sandbox.add_app("opsgh", "acme", permissions=APP_PERMISSIONS))
                gateway = GitHubGateway.connect(api_url=sandbox.url, token=token, clock=clock, jitter=None)
                repo._gateways.append(gateway)
            else:
                gateway = repo.gateway()
            publish_verdict(gateway, repo.full_name, number, gate(gateway, repo.full_name, repo.config, clock, number))
            scenario.prepare(repo, number)
            gateway.ledger.clear()
            seen: list[PullShipState] = []
            verdict = gate(gateway, repo.full_name, repo.config, clock, number, on_pull=seen.append)
            gate_count = len(gateway.ledger)
            publish_verdict(gateway, repo.full_name, number, verdict, head_checks=seen[-1].checks)
            if verbose:
                for entry in gateway.ledger.entries:
                    print(f"    {entry.method:5s} {entry.path} -> {entry.status}")
            writes = sum(1 for e in gateway.ledger if e.method in ("POST", "PATCH", "PUT", "DELETE")
                         and e.operation is None)
            return gate_count, len(gateway.ledger) - gate_count, writes
        finally:
            repo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="List every request of every scenario.")
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    report = Report("Requests of `opsgh gate --publish`", ["scenario", "gate", "publish", "total", "writes",
                                                           "target"])
    width = max(len(s.name) for s in SCENARIOS)
    print(f"{'scenario':<{width}}  gate  publish  total  writes  target  met")
    met_all = True
    for scenario in SCENARIOS:
        if args.verbose:
            print(scenario.name)
        gate_count, publish_count, writes = measure(scenario, args.verbose)
        total = gate_count + publish_count
        met = total <= scenario.target
        met_all = met_all and met
        print(f"{scenario.name:<{width}}  {gate_count:4d}  {publish_count:7d}  {total:5d}  {writes:6d}  "
              f"{scenario.target:6d}  {'yes' if met else 'NO'}")
        report.rows.append([scenario.name, gate_count, publish_count, total, writes, f"<= {scenario.target}"])
        report.targets.append(Target(f"requests, {scenario.name}", f"<= {scenario.target}", str(total), met))
    report.notes.append("Without HTTP probes; the PR number given, as the Action does on pull_request events.")
    report.write(args.report)
    return 0 if met_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
