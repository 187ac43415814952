"""`opsgh gate [PR]`: the go/no-go of the Release PR at its head SHA.

Gathering is separate from judging: `gather` reads what the configured criteria need with as few
requests as possible (one GraphQL read of the PR state, labels, latest reviews, checks and the base
branch's ruleset rules, polled while `mergeable` is unknown; the branch for classic protection's
required contexts; then only what is
configured: blocking issues, the release diff for migrations, security alerts, team members).
`evaluate_gate` is pure and is what `opsgh ship` calls at the head it pins.

The network criteria (HTTP probes, parity, command probes: `opsgh.gate.probes`, `.parity`,
`.commands`) run only when a `probe_client` / `command_runner` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from opsgh.clock import Clock
from opsgh.config import Config, Criterion
from opsgh.errors import PreconditionFailed
from opsgh.gate.checklist import evaluate_checklist
from opsgh.gate.checks import evaluate_checks
from opsgh.gate.commands import evaluate_commands
from opsgh.gate.hotfixes import HotfixesRead, evaluate_hotfixes, read_hotfixes
from opsgh.gate.issues import evaluate_issues
from opsgh.gate.mergeability import evaluate_mergeability
from opsgh.gate.migrations import evaluate_migrations
from opsgh.gate.parity import evaluate_parity
from opsgh.gate.probe_port import CommandRunner, ProbeClient
from opsgh.gate.probes import evaluate_probes
from opsgh.gate.reviews import Review, evaluate_reviews
from opsgh.gate.security import AlertsRead, evaluate_security
from opsgh.gate.verdict import CriterionResult, Outcome, Verdict
from opsgh.gate.windows import evaluate_freezes, evaluate_windows
from opsgh.ports import BranchChecks, ComparePage, FileChange, IssueInfo, PullShipState, ShipPort

# The check run (or commit status) `opsgh gate --publish` writes: the gate never judges itself (a
# previous NO-GO on the same head would otherwise keep it NO-GO forever, even when it is required).
GATE_CHECK_NAME = "opsgh / go-no-go"
# Seconds between re-reads while GitHub computes mergeability (null is not an answer): ~19 s in all.
MERGEABLE_WAITS = (1.0, 2.0, 3.0, 5.0, 8.0)


class AlertsPort(Protocol):
    """Optional gateway capability: open security alerts of one source (`dependabot`,
    `code_scanning`) at or above `severity`; a disabled feature / 403 / 404 is `unavailable`."""

    def security_alerts(self, full_name: str, source: str, severity: str) -> AlertsRead: ...


@dataclass(frozen=True, slots=True)
class GateData:
    """Everything the GitHub-side criteria look at, read at one head SHA."""

    pull: PullShipState
    branch: BranchChecks
    labels: tuple[str, ...] = ()
    reviews: tuple[Review, ...] = ()
    team_members: dict[str, tuple[str, ...]] | None = None
    blocking_issues: tuple[IssueInfo, ...] = ()
    files: tuple[FileChange, ...] = ()
    files_complete: bool = True
    alerts: tuple[AlertsRead, ...] = field(default_factory=tuple)
    hotfixes: HotfixesRead | None = None


def locate_release_pull(port: ShipPort, repo: str, config: Config, pr_number: int | None) -> int:
    """The PR to gate: the one named, else the open Release PR (staging -> production)."""
    if pr_number is not None:
        return pr_number
    staging, production = config.branches.staging, config.branches.production
    found = port.list_pulls_between(repo, staging, production, "open", limit=2)
    if not found:
        raise PreconditionFailed(f"no open Release PR {staging} -> {production} in {repo}",
                                 "open one with `opsgh release`, or name the pull request: `opsgh gate 123`")
    return found[0].number


def read_pull(port: ShipPort, repo: str, number: int, clock: Clock) -> PullShipState:
    """The PR state, re-read a bounded while as long as `mergeable` is still being computed."""
    return wait_for_mergeable(port, repo, port.pull_ship_state(repo, number), clock)


def wait_for_mergeable(port: ShipPort, repo: str, pull: PullShipState, clock: Clock) -> PullShipState:
    """Re-read `pull` while GitHub computes `mergeable` (null/UNKNOWN is not an answer), a bounded while."""
    for wait in MERGEABLE_WAITS:
        if pull.state != "OPEN" or pull.mergeable != "UNKNOWN":
            break
        clock.sleep(wait)
        pull = port.pull_ship_state(repo, pull.number)
    return pull


def gather(port: ShipPort, repo: str, config: Config, clock: Clock, pull: PullShipState) -> GateData:
    """Read what the configured criteria need, for `pull` as already read (its head is the one judged)."""
    gate_config = config.gate
    production = config.branches.production
    known = pull.base_ruleset_contexts if pull.base_ref == production else None
    branch = port.branch_checks(repo, production, rulesets=known is None)
    if known:  # the PR read carried the rulesets' required checks: no REST read of the rules
        branch = replace(branch, required_contexts=tuple(dict.fromkeys((*branch.required_contexts, *known))))
    reviews = tuple(Review(login, state) for login, state in pull.latest_reviews)
    issues: tuple[IssueInfo, ...] = ()
    if gate_config.blocking_issue_labels:
        # One request per label: GitHub ANDs labels in one query, and blocking means any of them.
        seen: dict[int, IssueInfo] = {}
        for label in gate_config.blocking_issue_labels:
            for issue in port.list_issues(repo, "open", (label,)):
                seen.setdefault(issue.number, issue)
        issues = tuple(seen.values())
    files: list[FileChange] = []
    complete = True
    compared: ComparePage | None = None  # the first page of base...head, when read (hotfixes reuse it)
    if gate_config.migrations.paths:
        for page in port.compare(repo, pull.base_sha, pull.head_sha):
            compared = page
            if page.files is not None:
                files.extend(page.files)
                complete = len(page.files) < 300
            break  # files are on the first page only
    alerts: list[AlertsRead] = []
    security = gate_config.security
    for source, level in (("dependabot", security.dependabot), ("code_scanning", security.code_scanning)):
        if level != "none":
            alerts.append(port.security_alerts(repo, source, level))
    hotfixes = read_hotfixes(port, repo, config, pull, compared) if gate_config.hotfixes != "off" else None
    return GateData(pull, branch, pull.labels, reviews, _team_members(port, repo, gate_config.approvals.teams), issues,
                    tuple(files), complete, tuple(alerts), hotfixes)


def _team_members(port: ShipPort, repo: str, teams: Sequence[str]) -> dict[str, tuple[str, ...]] | None:
    """Members of each configured team (`slug` in the repository's organization, or `org/slug`);
    a team that cannot be read is left out (the criterion then says so)."""
    if not teams:
        return None
    found: dict[str, tuple[str, ...]] = {}
    for team in teams:
        org, _, slug = team.rpartition("/")
        members = port.team_members(org or repo.split("/", 1)[0], slug)
        if members is not None:
            found[team] = members
    return found


def evaluate_gate(config: Config, data: GateData, now: datetime) -> list[CriterionResult]:
    """Every GitHub-side criterion on `data` (pure)."""
    gate_config = config.gate

    def advisory(key: Criterion) -> bool:
        return gate_config.is_advisory(key)

    pull = data.pull
    required = tuple(c for c in data.branch.required_contexts if c != GATE_CHECK_NAME)
    others = tuple(c for c in pull.checks if c.name != GATE_CHECK_NAME)
    checks = evaluate_checks(gate_config.checks, required, others, pull.head_sha, advisory=advisory("checks"))
    reviews = evaluate_reviews(gate_config.approvals, pull.review_decision, data.reviews, data.team_members,
                               advisory=advisory("approvals"))
    # Our own earlier verdict (a NO-GO or PENDING check run / status on this head) blocks the merge
    # when `opsgh / go-no-go` is required, and makes it UNSTABLE when not: that is not a reason to
    # say NO-GO again, or a required gate would never turn GO. (Should something opsgh cannot see block
    # it too, the next gate, with our check then green, says so.)
    own_verdict_blocks = any(c.name == GATE_CHECK_NAME and c.outcome != "success" for c in pull.checks)
    others_explain = any(r.outcome in (Outcome.FAIL, Outcome.PENDING) for r in (checks, reviews))
    results = [
        checks,
        reviews,
        evaluate_mergeability(pull.mergeable, pull.merge_state_status, is_draft=pull.is_draft,
                              head_ref=pull.head_ref, base_ref=pull.base_ref,
                              blocked_explained=others_explain or own_verdict_blocks,
                              own_check_only=own_verdict_blocks and not others_explain),
        evaluate_issues(gate_config.blocking_issue_labels, data.blocking_issues,
                        advisory=advisory("blocking_issue_labels")),
        evaluate_security(gate_config.security, data.alerts, advisory=advisory("security")),
        evaluate_windows(gate_config.windows, now, advisory=advisory("windows")),
        evaluate_freezes(gate_config.freezes, now, config.release.timezone, advisory=advisory("freezes")),
        evaluate_migrations(gate_config.migrations, data.files, data.labels, files_complete=data.files_complete,
                            advisory=advisory("migrations")),
        evaluate_checklist(gate_config.checklist, pull.body, advisory=advisory("checklist")),
        evaluate_hotfixes(gate_config.hotfixes, data.hotfixes, production=config.branches.production,
                          staging=config.branches.staging, advisory=advisory("hotfixes")),
    ]
    return results


def network_results(config: Config, clock: Clock, probe_client: ProbeClient | None,
                    command_runner: CommandRunner | None) -> list[CriterionResult]:
    """HTTP probes, parity and command probes, when configured and given a client / runner."""
    gate_config = config.gate
    found: list[CriterionResult] = []
    if probe_client is not None and gate_config.probes:
        found.append(evaluate_probes(gate_config.probes, probe_client, clock,
                                     advisory=gate_config.is_advisory("probes")))
    if probe_client is not None and gate_config.parity is not None:
        parity = evaluate_parity(gate_config.parity, probe_client, advisory=gate_config.is_advisory("parity"))
        if parity is not None:
            found.append(parity)
    if command_runner is not None and gate_config.commands:
        found.append(evaluate_commands(gate_config.commands, command_runner,
                                       advisory=gate_config.is_advisory("commands")))
    return found


def now_of(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now(), UTC)


def gate(port: ShipPort, repo: str, config: Config, clock: Clock, pr_number: int | None = None, *,
         probe_client: ProbeClient | None = None, command_runner: CommandRunner | None = None,
         on_pull: Callable[[PullShipState], None] | None = None) -> Verdict:
    """The verdict on the Release PR (or PR `pr_number`) at its current head SHA.

    `on_pull` sees the PR as read (publishing uses its checks to skip re-reading its own check run).
    Raises PreconditionFailed when there is no open Release PR or the PR is not open.
    """
    number = locate_release_pull(port, repo, config, pr_number)
    pull = read_pull(port, repo, number, clock)
    if on_pull is not None:
        on_pull(pull)
    if pull.state != "OPEN":
        raise PreconditionFailed(f"#{pull.number} is {pull.state.lower()}: there is nothing to gate",
                                 "gate an open pull request")
    data = gather(port, repo, config, clock, pull)
    results = evaluate_gate(config, data, now_of(clock))
    results += network_results(config, clock, probe_client, command_runner)
    return Verdict.combine(pull.head_sha, results)


def verdict_lines(verdict: Verdict, number: int | None = None) -> Sequence[str]:
    """The terminal text: the verdict first, then one line per criterion."""
    where = f" #{number}" if number is not None else ""
    out = [f"{verdict.state}{where} at {verdict.sha[:7]}"]
    width = max((len(r.title) for r in verdict.results), default=0)
    for r in verdict.results:
        mark = "" if r.blocking else " (advisory)"
        out.append(f"  {str(r.outcome).upper():<7}  {r.title:<{width}}  {r.summary}{mark}")
    return out
