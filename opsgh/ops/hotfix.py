"""`opsgh hotfix start NAME [--from-issue N]`: the runbook's "Hotfix: branch from prod, PR back to prod".

Creates the branch `<hotfix.prefix>NAME` from the production branch's tip and a draft pull request
back into production with the hotfix template (linking the issue, with `--from-issue`). GitHub opens
no pull request between identical branches, so the branch starts with one empty commit, "Start hotfix
NAME" (made with the Git database API: no checkout needed); it has no change of its own, and the
back-port keeps it empty.

Re-running is safe: an open hotfix PR of that name is reported as it is; an existing branch is used
as it is (an empty commit is added only when it still points at production's tip). A hotfix of that
name that was merged already is an error: a new hotfix needs a new name.

Pure orchestration over `HotfixPort`; the requests: the issue (with --from-issue), the PR by head and
base, the branch, production's tip and tree, then `POST /git/commits`, `POST /git/refs`, `POST /pulls`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opsgh.config import Config
from opsgh.errors import PreconditionFailed, UsageError, ValidationFailed
from opsgh.ops.writes import write_once
from opsgh.ports import RefInfo
from opsgh.ports_hotfix import HotfixPort, IssueDetail, PullDetail
from opsgh.render.ship import render

MARKER = "<!-- opsgh:hotfix name={name} -->"
# What git accepts in a branch name, kept to what is easy to type (see git check-ref-format).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


@dataclass(frozen=True, slots=True)
class HotfixStartRequest:
    repo: str
    name: str
    from_issue: int | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class HotfixStartResult:
    repo: str
    name: str
    branch: str
    production: str
    base_sha: str | None  # production's tip the branch started from (None: the branch existed)
    pr_number: int | None
    pr_url: str | None
    steps: tuple[tuple[str, str, str], ...]  # (step, action: done / skipped / would, detail)
    dry_run: bool = False

    def lines(self) -> list[str]:
        head = f"hotfix {self.name}: {self.branch} -> {self.production}"
        if self.pr_url:
            head += f", draft PR #{self.pr_number} {self.pr_url}"
        out = [("dry run, nothing changed: " if self.dry_run else "") + head]
        width = max((len(step) for step, _, _ in self.steps), default=0)
        out += [f"  {step:<{width}}  {action:<7}  {detail}" for step, action, detail in self.steps]
        if not self.dry_run:
            out.append(f"next: git fetch origin {self.branch} && git switch {self.branch}, commit the fix, push, "
                       "and mark the PR ready for review")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"repo": self.repo, "name": self.name, "branch": self.branch, "production": self.production,
                "base_sha": self.base_sha, "pr": self.pr_number, "pr_url": self.pr_url, "dry_run": self.dry_run,
                "steps": [{"name": s, "action": a, "detail": d} for s, a, d in self.steps]}


def _already_exists(err: ValidationFailed) -> bool:
    texts = [err.message, *(str(e.get("message", "")) for e in err.errors if isinstance(e, dict))]
    return any("already exists" in text for text in texts)


def start_hotfix(port: HotfixPort, config: Config, request: HotfixStartRequest) -> HotfixStartResult:
    """Branch `<prefix>NAME` from production and open the draft hotfix PR (see the module docstring)."""
    name = request.name.strip().removeprefix(config.hotfix.prefix)
    if not _NAME.match(name) or ".." in name or name.endswith((".lock", ".")):
        raise UsageError(f"{request.name!r} is not a usable hotfix name",
                         "use letters, digits, '.', '_', '-' (and '/' between parts), e.g. `payment-timeout`")
    repo, production = request.repo, config.branches.production
    branch = config.hotfix.prefix + name
    steps: list[tuple[str, str, str]] = []
    issue: IssueDetail | None = None
    if request.from_issue is not None:
        issue = port.get_issue(repo, request.from_issue)
    existing = port.find_pull(repo, branch, production)
    if existing is not None and existing.merged:
        raise PreconditionFailed(f"hotfix {name} was merged already (#{existing.number})",
                                 "start the next hotfix under a new name")
    if existing is not None and existing.state == "open":
        steps.append(("pull request", "skipped", f"#{existing.number} is open: {existing.url}"))
        return HotfixStartResult(repo, name, branch, production, None, existing.number, existing.url, tuple(steps),
                                 request.dry_run)
    prod = port.branch_tip(repo, production)
    if prod is None:
        raise PreconditionFailed(f"there is no production branch {production!r} in {repo}",
                                 "branches.production in .github/opsgh.yml names it")
    tip = port.branch_tip(repo, branch)
    message = f"Start hotfix {name}\n\nAn empty commit: GitHub opens no pull request between identical branches.\n"
    if tip is None:
        if request.dry_run:
            steps.append(("branch", "would", f"create {branch} at {production} ({prod.sha[:7]}) + an empty commit"))
        else:
            sha = port.create_commit(repo, tree=prod.tree, parents=[prod.sha], message=message)
            _create_branch(port, repo, branch, sha)
            steps.append(("branch", "done", f"{branch} from {production} at {prod.sha[:7]}"))
    elif tip.sha == prod.sha:
        if request.dry_run:
            steps.append(("branch", "would", f"add an empty commit to {branch} (it is at {production}'s tip)"))
        else:
            sha = port.create_commit(repo, tree=prod.tree, parents=[prod.sha], message=message)
            port.update_ref(repo, f"heads/{branch}", sha)
            steps.append(("branch", "done", f"{branch} existed at {production}'s tip: added the start commit"))
    else:
        steps.append(("branch", "skipped", f"{branch} exists ({tip.sha[:7]}): used as it is"))
    title = f"Hotfix: {issue.title if issue else name}"[:256]
    body = render("hotfix_body.md.j2", {
        "marker": MARKER.format(name=name), "name": issue.title if issue else name, "issue": issue,
        "production": production, "base_sha": prod.sha, "branch": branch,
        "backport_to": list(config.hotfix.backport_to)})
    if request.dry_run:
        steps.append(("pull request", "would", f"open a draft PR {branch} -> {production}: {title!r}"))
        return HotfixStartResult(repo, name, branch, production, prod.sha, None, None, tuple(steps), True)
    pull = _open(port, repo, branch, production, title, body)
    steps.append(("pull request", "done", f"draft #{pull.number} {pull.url}"))
    return HotfixStartResult(repo, name, branch, production, prod.sha if tip is None else None, pull.number,
                             pull.url, tuple(steps))


def _create_branch(port: HotfixPort, repo: str, branch: str, sha: str) -> None:
    """Create the branch; one that a concurrent run (or a lost answer) created meanwhile is fine."""
    def read_back() -> RefInfo | None:
        found = port.branch_tip(repo, branch)
        return RefInfo(f"refs/heads/{branch}", found.sha) if found is not None else None

    try:
        write_once(lambda: port.create_ref(repo, f"refs/heads/{branch}", sha), read_back)
    except ValidationFailed as err:
        if "already exists" not in err.message.lower() or read_back() is None:
            raise


def _open(port: HotfixPort, repo: str, branch: str, production: str, title: str, body: str) -> PullDetail:
    def read_back() -> PullDetail | None:
        found = port.find_pull(repo, branch, production)
        return found if found is not None and found.state == "open" else None

    def create() -> PullDetail:
        try:
            made = port.create_pull(repo, title=title, head=branch, base=production, body=body, draft=True)
        except ValidationFailed as err:
            found = read_back() if _already_exists(err) else None
            if found is None:
                raise
            return found
        return PullDetail(made.number, made.html_url, made.title, made.body or "", made.state, False, None,
                          made.head_ref, made.base_ref, made.author, made.labels, made.draft, 1, (), ())

    return write_once(create, read_back)


__all__ = ["HotfixStartRequest", "HotfixStartResult", "start_hotfix"]
