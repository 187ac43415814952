"""`opsgh doctor`: what the token is, what it may do here, and the fix for each problem.

Pure orchestration over the GitHub port: every check turns an answer (or a typed error) into a
`Check` with a status and, when something is wrong, the fix. Never raises for a GitHub problem:
a doctor that crashes on a bad token is no doctor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from opsgh.errors import (
    ConfigError,
    Forbidden,
    GitHubError,
    GitHubUnreachable,
    NotFound,
    OpsghError,
    RateLimited,
    Unauthorized,
)
from opsgh.ports import GitHubPort, TokenReport


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class DoctorInput:
    """What the composition root knows before asking GitHub."""

    repo: str | None
    repo_source: str  # "--repo", "GITHUB_REPOSITORY", "origin remote" or ""
    token_source: str | None  # "GITHUB_TOKEN", "GH_TOKEN", "GitHub App" or None
    token_kind: str  # see opsgh.github.auth.token_kind; "none" without a token
    api_url: str
    in_actions: bool
    staging_branch: str = "main"
    production_branch: str = "prod"


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        return any(c.status is Status.FAIL for c in self.checks)

    def summary_line(self) -> str:
        counts = {s: sum(1 for c in self.checks if c.status is s) for s in Status}
        verdict = "problems found" if self.failed else "ready"
        return (f"doctor: {verdict} ({counts[Status.OK]} ok, {counts[Status.WARN]} warnings, "
                f"{counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped)")

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.failed,
            "checks": [
                {"name": c.name, "status": str(c.status), "detail": c.detail, "fix": c.fix} for c in self.checks
            ],
        }


TOKEN_KIND_TEXT = {
    "classic-pat": "a classic personal access token",
    "fine-grained-pat": "a fine-grained personal access token",
    "installation": "a GitHub App installation token or the Actions GITHUB_TOKEN",
    "actions": "the Actions GITHUB_TOKEN",
    "app": "a GitHub App installation token",
    "oauth": "an OAuth app token",
    "user-to-server": "a GitHub App user-to-server token",
    "unknown": "a token of unknown kind",
}

NO_CREDENTIALS_ADVICE = (
    "export GITHUB_TOKEN=<token> (a fine-grained PAT or `gh auth token`), or set OPSGH_APP_ID and "
    "OPSGH_APP_PRIVATE_KEY_FILE for a GitHub App"
)


def run_doctor(
    inp: DoctorInput,
    port: GitHubPort | None,
    load_config: Callable[[], object],
    *,
    port_error: OpsghError | None = None,
) -> DoctorReport:
    """Run every check; `port` is None when no gateway could be built (then `port_error` says why)."""
    checks: list[Check] = [_config_check(load_config)]
    checks.append(_repo_check(inp))
    if port is None:
        if port_error is not None:
            checks.append(Check("token", Status.FAIL, port_error.message, port_error.hint))
        else:
            checks.append(Check("token", Status.FAIL, "no token found (GITHUB_TOKEN and GH_TOKEN are unset)",
                                NO_CREDENTIALS_ADVICE))
        checks.extend(Check(name, Status.SKIP, "needs a token") for name in _REMOTE_CHECKS)
        return DoctorReport(tuple(checks))

    try:
        report = port.token_report()
    except GitHubError as err:
        checks.append(_token_failure(err, inp))
        checks.extend(Check(name, Status.SKIP, "needs a working connection and token") for name in _REMOTE_CHECKS)
        return DoctorReport(tuple(checks))
    checks.append(_token_check(inp, report))
    checks.append(_rate_limit_check(report))
    checks.append(_check_runs_check(inp))
    if inp.repo is None:
        checks.extend(Check(name, Status.SKIP, "no repository given")
                      for name in ("repository access", "branches", "actions may open PRs"))
        return DoctorReport(tuple(checks))
    checks.extend(_repo_checks(inp, port, inp.repo))
    return DoctorReport(tuple(checks))


_REMOTE_CHECKS = ("rate limit", "check runs", "repository access", "branches", "actions may open PRs")


def _config_check(load_config: Callable[[], object]) -> Check:
    try:
        load_config()
    except ConfigError as err:
        return Check("config", Status.FAIL, err.message, err.hint)
    except GitHubError as err:
        return Check("config", Status.WARN, f"could not read the configuration from GitHub: {err.message}",
                     "pass --config PATH to check a local file")
    return Check("config", Status.OK, "the configuration parses")


def _repo_check(inp: DoctorInput) -> Check:
    if inp.repo is None:
        return Check("repository", Status.WARN, "no repository: --repo, GITHUB_REPOSITORY and the origin remote "
                     "are all unset", "pass --repo OWNER/NAME")
    return Check("repository", Status.OK, f"{inp.repo} (from {inp.repo_source})")


def _token_failure(err: GitHubError, inp: DoctorInput) -> Check:
    if isinstance(err, Unauthorized):
        return Check("token", Status.FAIL,
                     f"GitHub rejected the token from {inp.token_source} (401 Bad credentials)",
                     "the token is wrong, expired or revoked: create a new one and export it as GITHUB_TOKEN")
    if isinstance(err, GitHubUnreachable):
        return Check("token", Status.FAIL, f"cannot reach GitHub at {inp.api_url}: {err.message}",
                     "check the network; for GitHub Enterprise Server set GITHUB_API_URL "
                     "(e.g. https://ghe.example.com/api/v3)")
    if isinstance(err, RateLimited):
        return Check("token", Status.FAIL, f"rate limited: {err.message}", err.hint)
    return Check("token", Status.FAIL, err.message, err.hint)


def _token_check(inp: DoctorInput, report: TokenReport) -> Check:
    kind = TOKEN_KIND_TEXT.get(report.kind, TOKEN_KIND_TEXT["unknown"])
    who = f" for {report.login}" if report.login else ""
    parts = [f"{kind}{who} (from {inp.token_source})"]
    if report.scopes is not None:
        parts.append(f"scopes: {', '.join(report.scopes) or 'none'}")
    if report.kind in ("installation", "actions") and inp.in_actions:
        return Check("token", Status.WARN, "; ".join(parts) +
                     "; PRs and pushes made with GITHUB_TOKEN start no workflows, so a release PR gets no CI",
                     "use a GitHub App installation token (actions/create-github-app-token) or a PAT")
    if report.kind == "classic-pat" and report.scopes is not None and "repo" not in report.scopes:
        return Check("token", Status.WARN, "; ".join(parts) + "; the `repo` scope is missing",
                     "create the token with the `repo` scope (and `workflow` if opsgh edits workflows)")
    return Check("token", Status.OK, "; ".join(parts))


def _rate_limit_check(report: TokenReport) -> Check:
    if report.rate_limit_limit is None or report.rate_limit_remaining is None:
        return Check("rate limit", Status.SKIP, "GitHub did not report a rate limit")
    detail = f"{report.rate_limit_remaining} of {report.rate_limit_limit} requests left this hour"
    if report.rate_limit_remaining < 100:
        return Check("rate limit", Status.WARN, detail, "wait for the reset or use a GitHub App (higher limits)")
    return Check("rate limit", Status.OK, detail)


def _check_runs_check(inp: DoctorInput) -> Check:
    if inp.token_kind in ("classic-pat", "oauth", "fine-grained-pat", "user-to-server"):
        return Check("check runs", Status.WARN,
                     "only GitHub Apps may create check runs; opsgh will publish commit statuses instead",
                     "use a GitHub App installation token to get check runs with a summary")
    return Check("check runs", Status.OK, "the token kind may create check runs")


def _repo_checks(inp: DoctorInput, port: GitHubPort, repo: str) -> list[Check]:
    checks: list[Check] = []
    try:
        info = port.get_repository(repo)
    except NotFound:
        return [Check("repository access", Status.FAIL, f"{repo} not found or not visible to this token",
                      "check the name; a fine-grained PAT or App must be granted this repository"),
                Check("branches", Status.SKIP, "repository not visible"),
                Check("actions may open PRs", Status.SKIP, "repository not visible")]
    except GitHubError as err:
        return [Check("repository access", Status.FAIL, err.message, err.hint)]
    perms = info.permissions or {}
    level = next((p for p in ("admin", "maintain", "push", "triage", "pull") if perms.get(p)), None)
    if info.archived:
        checks.append(Check("repository access", Status.FAIL, f"{repo} is archived (read-only)",
                            "unarchive it in Settings > General"))
    elif level in (None, "pull", "triage") and perms:
        checks.append(Check("repository access", Status.FAIL, f"the token may only read {repo} ({level})",
                            "grant write (contents, pull requests) to the token"))
    else:
        shown = level or "unknown (installation tokens report none)"
        checks.append(Check("repository access", Status.OK,
                            f"{repo}, default branch {info.default_branch}, permission {shown}"))
    if info.allow_merge_commit is False:
        checks.append(Check("merge commits", Status.FAIL, "merge commits are disabled; release PRs must be merged "
                            "with a merge commit (squash makes main and prod diverge)",
                            "enable 'Allow merge commits' in Settings > General > Pull Requests"))

    missing = []
    for branch in (inp.staging_branch, inp.production_branch):
        try:
            if port.get_branch(repo, branch) is None:
                missing.append(branch)
        except GitHubError as err:
            checks.append(Check("branches", Status.FAIL, err.message, err.hint))
            break
    else:
        if missing:
            checks.append(Check("branches", Status.FAIL, f"missing branch(es): {', '.join(missing)}",
                                f"create them, e.g. git push origin {inp.staging_branch}:{missing[0]}"))
        else:
            checks.append(Check("branches", Status.OK, f"{inp.staging_branch} and {inp.production_branch} exist"))

    try:
        wf = port.get_workflow_permissions(repo)
    except (Forbidden, NotFound):
        wf = None
        checks.append(Check("actions may open PRs", Status.SKIP,
                            "reading the Actions settings needs admin rights on the repository"))
    except GitHubError as err:
        wf = None
        checks.append(Check("actions may open PRs", Status.WARN, err.message, err.hint))
    if wf is not None:
        if wf.get("can_approve_pull_request_reviews"):
            checks.append(Check("actions may open PRs", Status.OK,
                                "workflows may create PRs (default permissions: "
                                f"{wf.get('default_workflow_permissions')})"))
        else:
            checks.append(Check("actions may open PRs", Status.WARN,
                                "GITHUB_TOKEN may not create or approve pull requests",
                                "Settings > Actions > General > 'Allow GitHub Actions to create and approve pull "
                                "requests', or use a GitHub App token"))
    return checks
