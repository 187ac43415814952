"""`opsgh protect plan|apply|check`: branch protection as code, for one repository or an organisation.

The desired state is `protection.<branch>` of the configuration (one file for every target). Like a
Terraform plan, but without perpetual diffs: GitHub's answers are normalised the way GitHub normalises
what it stores (`opsgh.ops.protect_model`), so a plan right after an apply is empty.

Per repository, the requests (reads first, for every target, then the writes of the confirmed plan):

1. `GET /repos/{repo}` (not in `--org` mode: the organisation's list carries the same fields; an archived
   repository is skipped: it is read-only);
2. `GET /repos/{repo}/rulesets` (the repository's own), to find opsgh's rulesets by name (`opsgh: <branch>`),
   then `GET /rulesets/{id}` for each (the list leaves out the rules);
3. `GET /branches/{branch}/protection` for each configured branch (404 "Branch not protected" is the
   normal answer for an unprotected branch, "Branch not found" for a missing one, a bare "Not Found" the
   answer to anyone without admin rights: reported as such);
4. when required checks are configured: `GET /contents/.github/workflows` and one raw read per workflow
   file, and, only for a check no workflow produces, the check runs and statuses on the branch's tip;
5. apply, only for what differs: classic back end, one `PUT /branches/{branch}/protection` (the whole
   protection; settings the configuration has no key for are sent back as they are) and, when signed
   commits change, `POST`/`DELETE .../required_signatures` (the PUT cannot set them); ruleset back end,
   `POST /rulesets` or `PUT /rulesets/{id}`. Switching back ends deletes the other one's protection
   after the new one is in place. GitHub's answer to each write is compared with the configuration:
   whatever GitHub did not keep (a user without push access in restrictions, say) is a failure, not a
   silent perpetual diff.

Requests are paced under GitHub's secondary rate limits by the gateway (`opsgh.github.pacing`: 80 writes
a minute, 500 an hour, 900 points a minute); reads of many repositories run `concurrency` at a time.
One repository's failure is recorded in its result and the others go on.

Pure orchestration over `ProtectPort`: no click, no HTTP client, no environment.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from opsgh.clock import Clock
from opsgh.config import Config, ProtectionRule
from opsgh.errors import (
    AmbiguousWrite,
    ExitCode,
    Forbidden,
    NotFound,
    OpsghError,
    UsageError,
    ValidationFailed,
)
from opsgh.ops.protect_checks import (
    WORKFLOW_DIR,
    config_warnings,
    needs_a_workflow,
    produced_by,
    workflow_check_patterns,
)
from opsgh.ops.protect_model import (
    BranchRules,
    Change,
    classic_body,
    classic_rules,
    desired_rules,
    diff,
    ruleset_body,
    ruleset_name,
    ruleset_rules,
)
from opsgh.ports import ClassicProtectionRead, ProtectPort, RepoInfo, RulesetRef

Mode = Literal["plan", "apply", "check"]
Progress = Callable[[str, int, int], None]  # (phase, done, total)
T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 8
ADMIN_HINT = ("ask an owner for the admin role on the repository, or use a GitHub App (or fine-grained token) "
              "with the Administration permission: read for plan and check, write for apply")


# ----------------------------------------------------------------------------- what to act on


@dataclass(frozen=True, slots=True)
class Targets:
    """Which repositories: `repos` by name, or every repository of `org` that passes the filters."""

    repos: tuple[str, ...] = ()
    org: str | None = None
    match: str | None = None  # glob on the repository name (not the owner), case-insensitive
    topics: tuple[str, ...] = ()  # a repository must have all of them
    include_archived: bool = False
    include_forks: bool = False


@dataclass(frozen=True, slots=True)
class Selection:
    """The repositories chosen, and how many of the organisation's were left out and why."""

    repos: tuple[RepoInfo | str, ...]
    left_out: tuple[tuple[str, int], ...] = ()  # (reason, count)

    def names(self) -> list[str]:
        return [r if isinstance(r, str) else r.full_name for r in self.repos]


def select(port: ProtectPort, targets: Targets, current_repo: str | None) -> Selection:
    """The repositories of a run: `--org` with its filters, else `--repo` (many), else the current one."""
    if targets.org is None:
        if targets.match is not None or targets.topics or targets.include_archived or targets.include_forks:
            raise UsageError("--match, --topic, --include-archived and --include-forks filter an organisation",
                             "add --org ORG, or name the repositories with --repo")
        names = targets.repos or ((current_repo,) if current_repo else ())
        if not names:
            raise UsageError("no repository to protect", "pass --repo OWNER/NAME (repeatable) or --org ORG, or set "
                                                          "GITHUB_REPOSITORY")
        return Selection(tuple(dict.fromkeys(names)))
    if targets.repos:
        raise UsageError("--repo and --org cannot be combined", "name repositories with --repo, or use --org ORG "
                                                                "with --match/--topic to choose among its repositories")
    try:
        listed = port.list_org_repositories(targets.org)
    except NotFound:
        raise NotFound(f"GitHub: no organisation {targets.org} visible to this token",
                       "check the name (an organisation, not a user account) and that the token may see it") from None
    chosen: list[RepoInfo] = []
    left_out: dict[str, int] = {}
    for repo in listed:
        name = repo.full_name.split("/", 1)[1]
        reason = ("archived" if repo.archived and not targets.include_archived
                  else "forks" if repo.fork and not targets.include_forks
                  else "not matching --match" if targets.match is not None and not fnmatch.fnmatchcase(
                      name.lower(), targets.match.lower())
                  else "without the topics" if not {t.lower() for t in targets.topics} <= {
                      t.lower() for t in repo.topics}
                  else None)
        if reason is None:
            chosen.append(repo)
        else:
            left_out[reason] = left_out.get(reason, 0) + 1
    order = ("archived", "forks", "not matching --match", "without the topics")
    return Selection(tuple(chosen), tuple((reason, left_out[reason]) for reason in order if reason in left_out))


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class BranchPlan:
    """What a branch needs. action: create, update, unchanged, missing (a classic branch that does not exist)."""

    branch: str
    backend: str
    action: str
    changes: tuple[Change, ...] = ()
    cleanup: tuple[str, ...] = ()  # the other back end's protection, removed by apply
    note: str | None = None

    @property
    def differs(self) -> bool:
        return self.action in ("create", "update")

    def as_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "backend": self.backend, "action": self.action,
                "changes": [{"setting": c.setting, "current": c.current, "desired": c.desired} for c in self.changes],
                "cleanup": list(self.cleanup), "note": self.note}


@dataclass
class _BranchWork:
    """What apply needs to know about a branch, as it was read."""

    plan: BranchPlan
    rule: ProtectionRule
    desired: BranchRules
    classic: ClassicProtectionRead
    ruleset: RulesetRef | None
    ruleset_data: dict[str, Any] | None


@dataclass
class RepoResult:
    """One repository. status: unchanged, changes (plan/check), applied, failed, skipped."""

    repo: str
    status: str
    branches: list[BranchPlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    writes: int = 0
    work: list[_BranchWork] = field(default_factory=list, repr=False)

    @property
    def differs(self) -> bool:
        return any(branch.differs for branch in self.branches)

    def detail(self) -> str:
        if self.error is not None:
            return self.error
        changed = [f"{b.branch}: {b.action}" for b in self.branches if b.differs]
        return ", ".join(changed)

    def as_dict(self) -> dict[str, Any]:
        return {"repo": self.repo, "status": self.status, "branches": [b.as_dict() for b in self.branches],
                "warnings": list(self.warnings), "error": self.error, "hint": self.hint, "writes": self.writes}


STATUS_WORDS = {"unchanged": "up to date", "changes": "changes", "applied": "applied", "failed": "FAILED",
                "skipped": "skipped"}


@dataclass
class ProtectResult:
    """A whole run: the repositories in the order chosen, the configuration's warnings, the outcome."""

    mode: Mode
    repos: list[RepoResult]
    warnings: tuple[str, ...] = ()
    left_out: tuple[tuple[str, int], ...] = ()
    applied: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> list[RepoResult]:
        return [r for r in self.repos if r.status == "failed"]

    @property
    def differs(self) -> bool:
        """Whether any branch differs from the configuration (read before an apply)."""
        return any(r.differs for r in self.repos)

    @property
    def exit_code(self) -> int:
        if self.failed:
            return ExitCode.GITHUB
        if self.mode == "check" and self.differs:
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def counts(self) -> dict[str, int]:
        branches = [b for r in self.repos for b in r.branches]
        return {
            "repositories": len(self.repos),
            "create": sum(1 for b in branches if b.action == "create"),
            "update": sum(1 for b in branches if b.action == "update"),
            "unchanged": sum(1 for b in branches if b.action == "unchanged"),
            "failed": len(self.failed),
            "skipped": sum(1 for r in self.repos if r.status == "skipped"),
            "writes": sum(r.writes for r in self.repos),
        }

    def summary_context(self) -> dict[str, Any]:
        """What `protect_summary.md.j2` (the Actions job summary) renders: every repository in the table, the
        settings of the branches that differ (or failed to change)."""
        def result_word(repo: RepoResult) -> str:
            return "drift" if self.mode == "check" and repo.status == "changes" else STATUS_WORDS[repo.status]

        return {
            "mode": "apply" if self.applied else self.mode,
            "headline": self.summary(),
            "warnings": list(self.warnings),
            "repos": [{"repo": r.repo, "result": result_word(r), "detail": r.detail(),
                       "branches": [{"branch": b.branch, "backend": b.backend, "action": b.action,
                                     "changes": [c.line() for c in b.changes] + list(b.cleanup)}
                                    for b in r.branches if b.differs]} for r in self.repos],
        }

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "applied": self.applied, "repositories": [r.as_dict() for r in self.repos],
                "warnings": list(self.warnings), "left_out": dict(self.left_out), "summary": self.counts(),
                "drift": self.mode == "check" and self.differs}

    # ------------------------------------------------------------------ the human view

    def lines(self) -> list[str]:
        """The plan (every repository that differs, warns or failed), or after an apply what failed (the plan
        was shown before); a table when there are several repositories; the summary."""
        out = [f"warning: {text}" for text in self.warnings] if not self.applied else []
        several = len(self.repos) > 1
        for repo in self.repos:
            shown = repo.status == "failed" if self.applied else (
                not several or repo.differs or bool(repo.warnings) or repo.status == "failed")
            if shown:
                out.extend(self._repo_lines(repo))
        if several:
            out.extend(self._table())
        out.append(self.summary())
        return out

    def _repo_lines(self, repo: RepoResult) -> list[str]:
        out = [f"{repo.repo}" + (f": {STATUS_WORDS[repo.status]}" if repo.status in ("failed", "skipped") else "")]
        for branch in repo.branches:
            verb = {"create": "create", "update": "update", "unchanged": "up to date",
                    "missing": "branch does not exist"}[branch.action]
            if self.applied and branch.differs and repo.status == "applied":
                verb = {"create": "created", "update": "updated"}[branch.action]
            out.append(f"  {branch.branch} ({branch.backend}): {verb}")
            out.extend(f"    ~ {change.line()}" for change in branch.changes)
            out.extend(f"    - {item}" for item in branch.cleanup)
            if branch.note:
                out.append(f"    note: {branch.note}")
        out.extend(f"  warning: {text}" for text in repo.warnings)
        if repo.error is not None:
            out.append(f"  error: {repo.error}")
            if repo.hint:
                out.append(f"  hint: {repo.hint}")
        return out

    def _table(self) -> list[str]:
        rows = [("REPOSITORY", "RESULT", "DETAIL")]
        for repo in self.repos:
            word = "drift" if self.mode == "check" and repo.status == "changes" else STATUS_WORDS[repo.status]
            rows.append((repo.repo, word, repo.detail()))
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        return [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() for row in rows]

    def summary(self) -> str:
        counts = self.counts()
        repos = counts["repositories"]
        where = f"in {repos} repositor{'y' if repos == 1 else 'ies'}"
        left = "; left out: " + ", ".join(f"{n} {reason}" for reason, n in self.left_out) if self.left_out else ""
        failed = f"; {counts['failed']} failed" if counts["failed"] else ""
        skipped = f"; {counts['skipped']} skipped" if counts["skipped"] else ""
        timing = f" ({self.seconds:.1f} s)" if self.seconds and repos > 1 else ""
        if self.applied:
            changed = sum(1 for r in self.repos for b in r.branches if b.differs and r.status == "applied")
            return (f"Applied: {changed} branch{'es' * (changed != 1)} changed with {counts['writes']} "
                    f"write{'s' * (counts['writes'] != 1)}, {counts['unchanged']} up to date {where}"
                    f"{failed}{skipped}{left}{timing}")
        differing = counts["create"] + counts["update"]
        if self.mode == "check":
            head = (f"Drift: {differing} branch{'es differ' if differing != 1 else ' differs'} from the configuration"
                    if differing else "No drift: every branch matches the configuration")
            return f"{head} {where}{failed}{skipped}{left}{timing}"
        return (f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['unchanged']} up to date "
                f"{where}{failed}{skipped}{left}{timing}")


# ----------------------------------------------------------------------------- errors, explained


def explain(err: OpsghError, repo: str, info: RepoInfo | None = None) -> tuple[str, str | None]:
    """(message, hint) for a repository that failed; missing admin rights said as such."""
    if isinstance(err, NotFound) and ("/protection" in err.path or "/rulesets" in err.path):
        role = _role_of(info)
        has = f" (the token has the {role} role)" if role is not None and role != "admin" else ""
        return (f"no admin rights on {repo}{has}: GitHub answers 404 to anyone without admin rights who reads or "
                "changes branch protection", ADMIN_HINT)
    if isinstance(err, Forbidden) and "not accessible by" in err.message:
        return (f"the token may not manage branch protection on {repo}: it lacks the Administration permission "
                f"(GitHub: {err.message.rsplit(': ', 1)[-1]})", ADMIN_HINT)
    return err.message, err.hint or None


def _role_of(repo: RepoInfo | None) -> str | None:
    """The token's role on the repository when GitHub said (`permissions`), in GitHub's role names."""
    permissions = repo.permissions if repo is not None else None
    if not permissions:
        return None
    found = next((name for name in ("admin", "maintain", "push", "triage", "pull") if permissions.get(name)), None)
    return {"push": "write", "pull": "read"}.get(found or "", found)


# ----------------------------------------------------------------------------- planning (reads)


def _branch_plan(branch: str, rule: ProtectionRule, classic: ClassicProtectionRead, ours: RulesetRef | None,
                 ruleset: dict[str, Any] | None) -> BranchPlan:
    desired = desired_rules(branch, rule)
    if rule.backend == "classic":
        if not classic.branch_exists:
            return BranchPlan(branch, "classic", "missing",
                              note="classic protection needs the branch: create it, then apply again")
        current = classic_rules(classic.protection)
        cleanup = (f'delete ruleset "{ours.name}" (the backend is classic)',) if ours is not None else ()
        exists = classic.protection is not None
    else:
        current = ruleset_rules(ruleset)
        cleanup = ("delete classic protection (the backend is ruleset)",) if classic.protection is not None else ()
        exists = ruleset is not None
    changes = diff(current, desired, rule.backend)
    note = None
    if rule.backend == "ruleset" and not classic.branch_exists:
        note = "the branch does not exist yet: the ruleset applies once it is created"
    if not changes and not cleanup:
        return BranchPlan(branch, rule.backend, "unchanged", note=note)
    action = "update" if exists else "create"
    return BranchPlan(branch, rule.backend, action, changes, cleanup, note)


def _workflow_warnings(port: ProtectPort, repo: str, work: Sequence[_BranchWork]) -> list[str]:
    """Required checks that no workflow produces and nothing ever reported on the branch."""
    wanted = [(w.plan.branch, context) for w in work if w.desired.checks is not None
              for context, app in w.desired.checks.apps if needs_a_workflow(app)]
    if not wanted:
        return []
    patterns, unreadable = workflow_check_patterns(port.get_directory_texts(repo, WORKFLOW_DIR))
    warnings = [f"could not read the jobs of {WORKFLOW_DIR}/{name}" for name in unreadable]
    reported: dict[str, frozenset[str]] = {}
    exists = {w.plan.branch: w.classic.branch_exists for w in work}
    for branch, context in wanted:
        if produced_by(context, patterns):
            continue
        if branch not in reported:
            reported[branch] = port.reported_check_names(repo, branch) if exists[branch] else frozenset()
        if context not in reported[branch]:
            warnings.append(f"{branch}: required check `{context}` comes from no workflow in {WORKFLOW_DIR} and was "
                            f"never reported on {branch}: pull requests would wait for it forever (a check from "
                            "another App or CI: pin its app_id)")
    return warnings


def plan_repo(port: ProtectPort, config: Config, target: RepoInfo | str) -> RepoResult:
    """Read one repository's protection and compare it with the configuration (no write)."""
    name = target if isinstance(target, str) else target.full_name
    info: RepoInfo | None = target if isinstance(target, RepoInfo) else None
    try:
        try:
            info = target if isinstance(target, RepoInfo) else port.get_repository(target)
        except NotFound:
            return RepoResult(name, "failed", error=f"repository {name} not found, or not visible to this token",
                              hint="check the name and that the token may read the repository")
        name = info.full_name
        if info.archived:
            return RepoResult(name, "skipped", error="archived: GitHub keeps archived repositories read-only")
        ours = {r.name: r for r in port.list_rulesets(name) if r.target == "branch"}
        work = []
        for branch, rule in config.protection.items():
            classic = port.read_classic_protection(name, branch)
            found = ours.get(ruleset_name(branch))
            data = port.get_ruleset(name, found.id) if found is not None and rule.backend == "ruleset" else None
            work.append(_BranchWork(_branch_plan(branch, rule, classic, found, data), rule,
                                    desired_rules(branch, rule), classic, found, data))
        result = RepoResult(name, "changes" if any(w.plan.differs for w in work) else "unchanged",
                            [w.plan for w in work], work=work)
        missing = [w.plan.branch for w in work if w.plan.action == "missing"]
        if missing:
            result.status = "failed"
            plural = len(missing) > 1
            result.error = (f"{'branches' if plural else 'branch'} {', '.join(missing)} of {name} "
                            f"{'do' if plural else 'does'} not exist: classic protection needs the branch")
            result.hint = "create the branch (or use backend: ruleset, which applies once it exists)"
        result.warnings = _workflow_warnings(port, name, work)
        return result
    except OpsghError as err:
        message, hint = explain(err, name, info)
        return RepoResult(name, "failed", error=message, hint=hint)


# ----------------------------------------------------------------------------- applying (writes)


def _find_ruleset(port: ProtectPort, repo: str, name: str) -> RulesetRef | None:
    return next((r for r in port.list_rulesets(repo) if r.name == name), None)


def _write_ruleset(port: ProtectPort, repo: str, work: _BranchWork, body: dict[str, Any]) -> dict[str, Any]:
    """Create or update opsgh's ruleset; a create whose answer was lost, or that raced another run, is read
    back by name and updated instead of created twice."""
    if work.ruleset is not None:
        return port.update_ruleset(repo, work.ruleset.id, body)
    try:
        return port.create_ruleset(repo, body)
    except (AmbiguousWrite, ValidationFailed) as err:
        if isinstance(err, ValidationFailed) and "must be unique" not in err.message.lower():
            raise
        found = _find_ruleset(port, repo, body["name"])
        if found is None:
            if isinstance(err, ValidationFailed):
                raise
            return port.create_ruleset(repo, body)
        return port.update_ruleset(repo, found.id, body)


def _apply_branch(port: ProtectPort, repo: str, work: _BranchWork) -> tuple[int, tuple[Change, ...]]:
    """Write what differs for one branch; (writes, what GitHub did not keep)."""
    plan, desired, branch = work.plan, work.desired, work.plan.branch
    writes = 0
    if work.rule.backend == "classic":
        current = work.classic.protection
        held = classic_rules(current)
        after: dict[str, Any] | None = current
        differs_beyond_signatures = bool(diff(held, replace(desired, signatures=held.signatures), "classic"))
        # The signature switch is a sub-resource of the protection: it needs the protection to exist.
        if differs_beyond_signatures or (current is None and desired.signatures):
            after = port.put_classic_protection(repo, branch, classic_body(desired, current))
            writes += 1
        if held.signatures != desired.signatures:
            port.set_required_signatures(repo, branch, desired.signatures)
            writes += 1
            after = {**(after or {}), "required_signatures": {"enabled": desired.signatures}}
        if work.ruleset is not None:
            port.delete_ruleset(repo, work.ruleset.id)
            writes += 1
        return writes, diff(classic_rules(after), desired, "classic")
    result = work.ruleset_data
    if plan.changes:
        result = _write_ruleset(port, repo, work, ruleset_body(branch, desired, work.ruleset_data))
        writes += 1
    if work.classic.protection is not None:
        port.delete_classic_protection(repo, branch)
        writes += 1
    return writes, diff(ruleset_rules(result), desired, "ruleset")


def apply_repo(port: ProtectPort, planned: RepoResult) -> RepoResult:
    """Write a planned repository's changes; the result says what was done and what GitHub did not keep.
    A repository that failed in part (a missing branch) still gets its other branches applied."""
    if not planned.differs:
        return planned
    result = RepoResult(planned.repo, "applied" if planned.error is None else "failed", planned.branches,
                        planned.warnings, planned.error, planned.hint, work=planned.work)
    try:
        for work in planned.work:
            if not work.plan.differs:
                continue
            writes, residue = _apply_branch(port, planned.repo, work)
            result.writes += writes
            if residue:
                result.status = "failed"
                result.error = (f"{work.plan.branch}: GitHub did not keep " + "; ".join(c.line() for c in residue))
                result.hint = ("GitHub drops what it cannot apply (a user or team without push access in "
                               "restrictions, an App that is not installed): fix the configuration")
    except OpsghError as err:
        message, hint = explain(err, planned.repo)
        result.status, result.error, result.hint = "failed", message, hint
    return result


# ----------------------------------------------------------------------------- runs


def _each(items: Sequence[T], work: Callable[[T], R], concurrency: int, phase: str,
          on_progress: Progress | None) -> list[R]:
    """`work(item)` for every item, `concurrency` at a time, results in the items' order."""
    total = len(items)
    if concurrency <= 1 or total <= 1:
        results = []
        for done, item in enumerate(items, start=1):
            results.append(work(item))
            if on_progress is not None:
                on_progress(phase, done, total)
        return results
    slots: list[R | None] = [None] * total
    pool = ThreadPoolExecutor(max_workers=min(concurrency, total), thread_name_prefix="opsgh-protect")
    try:
        futures: dict[Future[R], int] = {pool.submit(work, item): index for index, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            slots[futures[future]] = future.result()
            if on_progress is not None:
                on_progress(phase, done, total)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [slot for slot in slots if slot is not None]


def _require_protection(config: Config) -> None:
    if not config.protection:
        raise UsageError("the configuration declares no protection: nothing to plan",
                         "add protection.<branch> to .github/opsgh.yml (see docs/CONFIG.md), e.g. "
                         "protection: {prod: {required_reviews: {count: 1}}}")


def plan(port: ProtectPort, config: Config, targets: Targets, current_repo: str | None, clock: Clock, *,
         mode: Mode = "plan", concurrency: int = DEFAULT_CONCURRENCY,
         on_progress: Progress | None = None) -> ProtectResult:
    """Read every target and compare it with the configuration; changes nothing."""
    _require_protection(config)
    started = clock.monotonic()
    selection = select(port, targets, current_repo)
    repos = _each(selection.repos, lambda target: plan_repo(port, config, target), concurrency, "reading",
                  on_progress)
    return ProtectResult(mode, repos, tuple(config_warnings(config)), selection.left_out,
                         seconds=clock.monotonic() - started)


def apply(port: ProtectPort, planned: ProtectResult, clock: Clock, *, concurrency: int = DEFAULT_CONCURRENCY,
          on_progress: Progress | None = None) -> ProtectResult:
    """Write the changes of a plan (repositories without changes cost nothing)."""
    started = clock.monotonic()
    changing = [repo for repo in planned.repos if repo.differs]
    done = {id(repo): result for repo, result in zip(
        changing, _each(changing, lambda repo: apply_repo(port, repo), concurrency, "applying", on_progress),
        strict=True)}
    return ProtectResult("apply", [done.get(id(repo), repo) for repo in planned.repos], planned.warnings,
                         planned.left_out, applied=True, seconds=planned.seconds + clock.monotonic() - started)
