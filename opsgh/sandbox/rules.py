"""Branch rules as GitHub enforces them: classic protection and repository rulesets, combined.

For route modules (pulls, merges) and the push checks::

    from opsgh.sandbox.rules import RuleActor, effective_rules

    rules = effective_rules(repo, "prod")                      # what applies to everyone
    rules.required_approving_review_count, rules.contexts, rules.strict, rules.enforce_admins
    mine = effective_rules(repo, "prod", RuleActor(role="admin", login="alice"))   # after bypasses

- `effective_rules(repo, branch, actor=None, *, merging=True) -> EffectiveRules`: the most restrictive
  combination of the branch's classic protection and every *active* ruleset whose conditions match
  `refs/heads/<branch>` (rulesets in `evaluate` or `disabled` enforcement do not apply). With an
  `actor`, the sources it bypasses are left out: classic protection for admins unless
  `enforce_admins`; a ruleset whose `bypass_actors` name the actor (`bypass_mode` `pull_request` only
  counts when `merging`). Without an actor nobody bypasses anything: that is what `mergeable_state`
  reflects (GitHub shows "blocked" to admins too; they may merge anyway).
- `push_policies(repo, role, login)`: what `RepoState.push_policies` returns (classic policies keyed by
  ref, ruleset policies keyed "ruleset:ID" with their ref patterns); `policies_for(policies, ref)`
  picks the ones covering a ref; `refusal_messages(...)` words a refused update for git (GH006 /
  GH013, what the pre-receive hook prints) and `rest_refusal(...)` for a REST ref update (422).
- `Ruleset` and `RULESETS` (per-repository collection, owned by routes/rulesets.py) and
  `ruleset_applies(ruleset, ref, default_branch)` (GitHub's fnmatch with File::FNM_PATHNAME, plus
  `~DEFAULT_BRANCH` and `~ALL`).

Standard library and `opsgh.sandbox.state` only: the pre-receive hook imports this module.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from opsgh.sandbox.state import Collection, PushPolicy, RepoState, role_at_least

ENFORCEMENTS = ("disabled", "active", "evaluate")
TARGETS = ("branch", "tag", "push")
BYPASS_ACTOR_TYPES = ("Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey", "User")
BYPASS_MODES = ("always", "pull_request", "exempt")
# The ids GitHub gives the base repository roles that may bypass a ruleset (actor_type RepositoryRole).
REPOSITORY_ROLE_IDS: dict[int, str] = {5: "admin", 2: "maintain", 4: "write"}
# Rule types the sandbox stores and returns; the ones in ENFORCED_RULE_TYPES also act on pushes/merges.
RULE_TYPES = frozenset({
    "creation", "update", "deletion", "required_linear_history", "merge_queue", "required_deployments",
    "required_signatures", "pull_request", "required_status_checks", "non_fast_forward",
    "commit_message_pattern", "commit_author_email_pattern", "committer_email_pattern", "branch_name_pattern",
    "tag_name_pattern", "workflows", "code_scanning", "copilot_code_review", "license_compliance_scanning",
    "file_path_restriction", "max_file_path_length", "file_extension_restriction", "max_file_size",
})
ENFORCED_RULE_TYPES = frozenset({"creation", "update", "deletion", "non_fast_forward", "required_linear_history",
                                 "required_signatures", "pull_request", "required_status_checks"})
_REF_PREFIX = {"branch": "refs/heads/", "tag": "refs/tags/"}


# ---------------------------------------------------------------------------------------------------
# Rulesets (state)


@dataclass
class Ruleset:
    """A repository ruleset as stored: GitHub's normalised request (see routes/rulesets.py)."""

    id: int
    name: str
    target: str = "branch"
    enforcement: str = "active"
    bypass_actors: list[dict[str, Any]] = field(default_factory=list)  # {actor_id, actor_type, bypass_mode}
    conditions: dict[str, Any] = field(default_factory=dict)  # {"ref_name": {"include": [...], "exclude": [...]}}
    rules: list[dict[str, Any]] = field(default_factory=list)  # [{"type": ..., "parameters"?: {...}}]
    created_at: float = 0.0
    updated_at: float = 0.0

    def rule(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in self.rules if r.get("type") == kind), None)

    def parameters(self, kind: str) -> dict[str, Any]:
        found = self.rule(kind)
        return dict(found.get("parameters") or {}) if found is not None else {}


RULESETS: Collection[int, Ruleset] = Collection("rulesets", Ruleset, key=int)


def rulesets(repo: RepoState) -> dict[int, Ruleset]:
    """The repository's rulesets by id."""
    return repo.items(RULESETS)


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    """Ruby's File.fnmatch(pattern, ref, File::FNM_PATHNAME), which GitHub uses for ref patterns:
    `*` and `?` stop at "/", `**/` matches any number of directories, `[...]` is a class."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif char == "*":
            while index < len(pattern) and pattern[index] == "*":
                index += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
        elif char == "[" and pattern.find("]", index + 2) != -1:
            close = pattern.find("]", index + 2)
            body = pattern[index + 1:close]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("[" + ("^/" if negate else "") + body.replace("\\", "\\\\") + "]")
            index = close + 1
        else:
            out.append(re.escape(char))
            index += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def ref_pattern_matches(pattern: str, ref: str) -> bool:
    """Whether a resolved ref pattern (fnmatch, or `~ALL:<prefix>`) matches a full ref name."""
    if pattern.startswith("~ALL:"):
        return ref.startswith(pattern[len("~ALL:"):])
    return _glob(pattern).match(ref) is not None


def resolve_patterns(patterns: Iterable[str], target: str, default_branch: str) -> tuple[str, ...]:
    """The condition's patterns with `~DEFAULT_BRANCH` and `~ALL` made concrete for this repository."""
    prefix = _REF_PREFIX.get(target, "refs/heads/")
    resolved = []
    for pattern in patterns:
        if pattern == "~DEFAULT_BRANCH":
            if target == "branch":
                resolved.append(f"refs/heads/{default_branch}")
        elif pattern == "~ALL":
            resolved.append(f"~ALL:{prefix}")
        else:
            resolved.append(pattern)
    return tuple(resolved)


def _ref_name(ruleset: Ruleset) -> tuple[list[str], list[str]]:
    ref_name = (ruleset.conditions or {}).get("ref_name") or {}
    return list(ref_name.get("include") or ()), list(ref_name.get("exclude") or ())


def ruleset_applies(ruleset: Ruleset, ref: str, default_branch: str) -> bool:
    """Whether the ruleset's target and ref_name conditions cover `ref` (a full ref name). Patterns are
    matched against the full name, so `main` never matches: GitHub wants `refs/heads/main`."""
    prefix = _REF_PREFIX.get(ruleset.target)
    if prefix is None or not ref.startswith(prefix):
        return False
    include, exclude = _ref_name(ruleset)
    included = resolve_patterns(include, ruleset.target, default_branch)
    excluded = resolve_patterns(exclude, ruleset.target, default_branch)
    return (any(ref_pattern_matches(p, ref) for p in included)
            and not any(ref_pattern_matches(p, ref) for p in excluded))


# ---------------------------------------------------------------------------------------------------
# Who is acting, and bypasses


@dataclass(frozen=True)
class RuleActor:
    """Who pushes or merges, as far as bypasses go. Unknown parts stay empty (no bypass through them)."""

    role: str | None = None  # repository role: read, triage, write, maintain, admin
    login: str | None = None  # a user, or an App's "slug[bot]"
    user_id: int | None = None
    app_id: int | None = None  # the GitHub App behind an installation token
    team_ids: tuple[int, ...] = ()
    team_slugs: tuple[str, ...] = ()
    deploy_key: bool = False
    organization_admin: bool = False


def _actor_matches(entry: Mapping[str, Any], actor: RuleActor) -> bool:
    kind, actor_id = entry.get("actor_type"), entry.get("actor_id")
    if kind == "RepositoryRole":
        needed = REPOSITORY_ROLE_IDS.get(actor_id) if isinstance(actor_id, int) else None
        return needed is not None and role_at_least(actor.role, needed)
    if kind == "OrganizationAdmin":
        return actor.organization_admin
    if kind == "Integration":
        return actor.app_id is not None and actor.app_id == actor_id
    if kind == "Team":
        return actor_id in actor.team_ids
    if kind == "DeployKey":
        return actor.deploy_key
    if kind == "User":
        return actor.user_id is not None and actor.user_id == actor_id
    return False


def bypass_mode(ruleset: Ruleset, actor: RuleActor | None) -> str | None:
    """The strongest bypass the actor has on this ruleset: always, exempt, pull_request, or None."""
    if actor is None:
        return None
    modes = {str(entry.get("bypass_mode") or "always") for entry in ruleset.bypass_actors
             if _actor_matches(entry, actor)}
    return next((mode for mode in ("always", "exempt", "pull_request") if mode in modes), None)


def current_user_can_bypass(ruleset: Ruleset, actor: RuleActor | None) -> str:
    """GitHub's `current_user_can_bypass`: always, pull_requests_only, exempt or never."""
    mode = bypass_mode(ruleset, actor)
    return {"always": "always", "exempt": "exempt", "pull_request": "pull_requests_only"}.get(mode or "", "never")


def _bypasses(ruleset: Ruleset, actor: RuleActor | None, *, merging: bool) -> bool:
    mode = bypass_mode(ruleset, actor)
    return mode in ("always", "exempt") or (mode == "pull_request" and merging)


def active_rulesets(repo: RepoState, ref: str) -> list[Ruleset]:
    """Rulesets in `active` enforcement that cover `ref`, oldest first (what GitHub enforces)."""
    return [ruleset for _, ruleset in sorted(rulesets(repo).items())
            if ruleset.enforcement == "active" and ruleset_applies(ruleset, ref, repo.default_branch)]


# ---------------------------------------------------------------------------------------------------
# Effective rules (for merges and mergeable_state)


@dataclass(frozen=True)
class RequiredCheck:
    context: str
    app_id: int | None = None  # the App that must report it; None: any source


@dataclass(frozen=True)
class Restrictions:
    """Who may push (classic protection): logins, team slugs, App slugs."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()

    def allows(self, login: str | None, team_slugs: Iterable[str] = ()) -> bool:
        if login is None:
            return False
        name = login.lower()
        if name in (u.lower() for u in self.users):
            return True
        if name.endswith("[bot]") and name.removesuffix("[bot]") in (a.lower() for a in self.apps):
            return True
        return bool({t.lower() for t in team_slugs} & {t.lower() for t in self.teams})


@dataclass(frozen=True)
class BypassActor:
    actor_type: str
    actor_id: int | None
    bypass_mode: str
    ruleset_id: int


@dataclass(frozen=True)
class EffectiveRules:
    """What merging into / pushing to one branch requires: classic protection and active rulesets combined
    (most restrictive wins: the largest review count, every required check, any `strict`...)."""

    branch: str
    classic: bool = False  # classic protection applies (exists and is not bypassed)
    ruleset_ids: tuple[int, ...] = ()  # active rulesets that apply (and are not bypassed)
    requires_pull_request: bool = False
    required_approving_review_count: int = 0
    require_code_owner_reviews: bool = False
    dismiss_stale_reviews: bool = False
    require_last_push_approval: bool = False
    required_conversation_resolution: bool = False
    required_status_checks: tuple[RequiredCheck, ...] = ()
    strict: bool = False  # the head must be up to date with the base before merging
    required_linear_history: bool = False
    required_signatures: bool = False
    allow_force_pushes: bool = True
    allow_deletions: bool = True
    allow_creations: bool = True
    lock_branch: bool = False
    enforce_admins: bool = False  # classic: admins are held to the rules too
    restrictions: Restrictions | None = None  # classic: only these may push (and merge)
    bypass_pull_request_allowances: Restrictions | None = None  # classic: may skip the pull request rules
    bypass_actors: tuple[BypassActor, ...] = ()  # of the rulesets that apply
    allowed_merge_methods: tuple[str, ...] | None = None  # rulesets' pull_request rule; None: any

    @property
    def contexts(self) -> tuple[str, ...]:
        """The required check names, without duplicates, in order."""
        return tuple(dict.fromkeys(check.context for check in self.required_status_checks))

    @property
    def protected(self) -> bool:
        """Whether anything applies at all."""
        return self.classic or bool(self.ruleset_ids)


def effective_rules(repo: RepoState, branch: str, actor: RuleActor | None = None, *,
                    merging: bool = True) -> EffectiveRules:
    """The rules for `branch` (it need not exist); see the module docstring for bypasses."""
    values: dict[str, Any] = {}
    checks: list[RequiredCheck] = []
    bypassers: list[BypassActor] = []
    merge_methods: set[str] | None = None

    def tighten(name: str, value: Any) -> None:
        """Combine one source's setting into `values`, keeping the most restrictive."""
        current = values.get(name)
        if name.startswith("allow_"):
            values[name] = value if current is None else (current and value)
        elif isinstance(value, bool):
            values[name] = bool(current) or value
        elif isinstance(value, int):
            values[name] = max(int(current or 0), value)
        else:
            values[name] = value

    protection = repo.protection.get(branch)
    classic = protection is not None and not (
        actor is not None and role_at_least(actor.role, "admin") and not protection.enforce_admins)
    if protection is not None and classic:
        reviews = protection.reviews()
        status = protection.status_checks()
        restricted = protection.push_restrictions()
        allowances = reviews["bypass_pull_request_allowances"] if reviews is not None else None
        skips_reviews = allowances is not None and actor is not None and _restrictions(allowances).allows(
            actor.login, actor.team_slugs)
        if reviews is not None and not skips_reviews:
            tighten("requires_pull_request", True)
            tighten("required_approving_review_count", reviews["required_approving_review_count"])
            tighten("require_code_owner_reviews", reviews["require_code_owner_reviews"])
            tighten("dismiss_stale_reviews", reviews["dismiss_stale_reviews"])
            tighten("require_last_push_approval", reviews["require_last_push_approval"])
        if status is not None:
            checks += [RequiredCheck(c["context"], c["app_id"]) for c in status["checks"]]
            tighten("strict", status["strict"])
        for name in ("required_conversation_resolution", "required_linear_history", "required_signatures",
                     "lock_branch", "enforce_admins"):
            tighten(name, getattr(protection, name))
        tighten("allow_force_pushes", protection.allow_force_pushes)
        tighten("allow_deletions", protection.allow_deletions)
        if protection.block_creations and restricted is not None:
            tighten("allow_creations", False)
        values["restrictions"] = _restrictions(restricted) if restricted is not None else None
        values["bypass_pull_request_allowances"] = _restrictions(allowances) if allowances is not None else None

    applied: list[int] = []
    for ruleset in active_rulesets(repo, f"refs/heads/{branch}"):
        if _bypasses(ruleset, actor, merging=merging):
            continue
        applied.append(ruleset.id)
        bypassers += [BypassActor(str(b.get("actor_type")), b.get("actor_id"), str(b.get("bypass_mode") or "always"),
                                  ruleset.id) for b in ruleset.bypass_actors]
        for rule in ruleset.rules:
            kind, params = rule.get("type"), dict(rule.get("parameters") or {})
            if kind == "pull_request":
                tighten("requires_pull_request", True)
                tighten("required_approving_review_count", int(params.get("required_approving_review_count", 0)))
                tighten("require_code_owner_reviews", bool(params.get("require_code_owner_review", False)))
                tighten("dismiss_stale_reviews", bool(params.get("dismiss_stale_reviews_on_push", False)))
                tighten("require_last_push_approval", bool(params.get("require_last_push_approval", False)))
                tighten("required_conversation_resolution",
                        bool(params.get("required_review_thread_resolution", False)))
                methods = params.get("allowed_merge_methods")
                if methods is not None:
                    merge_methods = set(methods) if merge_methods is None else merge_methods & set(methods)
            elif kind == "required_status_checks":
                checks += [RequiredCheck(str(c["context"]), c.get("integration_id"))
                           for c in params.get("required_status_checks") or ()]
                tighten("strict", bool(params.get("strict_required_status_checks_policy", False)))
            elif kind == "required_linear_history":
                tighten("required_linear_history", True)
            elif kind == "required_signatures":
                tighten("required_signatures", True)
            elif kind == "non_fast_forward":
                tighten("allow_force_pushes", False)
            elif kind == "deletion":
                tighten("allow_deletions", False)
            elif kind == "creation":
                tighten("allow_creations", False)
            elif kind == "update":
                tighten("lock_branch", True)

    return EffectiveRules(
        branch=branch,
        classic=protection is not None and classic,
        ruleset_ids=tuple(applied),
        required_status_checks=tuple(dict.fromkeys(checks)),
        bypass_actors=tuple(bypassers),
        allowed_merge_methods=(tuple(m for m in ("merge", "squash", "rebase") if m in merge_methods)
                               if merge_methods is not None else None),
        **{name: value for name, value in values.items() if value is not None},
    )


def _restrictions(lists: Mapping[str, Sequence[str]]) -> Restrictions:
    return Restrictions(tuple(lists.get("users") or ()), tuple(lists.get("teams") or ()),
                        tuple(lists.get("apps") or ()))


# ---------------------------------------------------------------------------------------------------
# Pushes: policies, lookup, messages


def ruleset_push_policy(ruleset: Ruleset, default_branch: str) -> PushPolicy | None:
    """The direct-push policy of one ruleset (None when none of its rules concern pushes)."""
    kinds = {rule.get("type") for rule in ruleset.rules}
    if not kinds & ENFORCED_RULE_TYPES:
        return None
    violations: list[str] = []
    creation: list[str] = []
    if "update" in kinds:
        violations.append("Cannot update this protected ref.")
    if "pull_request" in kinds:
        violations.append("Changes must be made through a pull request.")
    if "required_status_checks" in kinds:
        params = ruleset.parameters("required_status_checks")
        contexts = list(dict.fromkeys(str(c["context"]) for c in params.get("required_status_checks") or ()))
        if contexts:
            message = (f"Required status check \"{contexts[0]}\" is expected." if len(contexts) == 1
                       else f"{len(contexts)} of {len(contexts)} required status checks are expected.")
            violations.append(message)
            if not params.get("do_not_enforce_on_create", False):
                creation.append(message)
    include, exclude = _ref_name(ruleset)
    return PushPolicy(
        branch=ruleset.name, blocked=None,
        allow_force_pushes="non_fast_forward" not in kinds, allow_deletions="deletion" not in kinds,
        source="ruleset",
        include=resolve_patterns(include, ruleset.target, default_branch),
        exclude=resolve_patterns(exclude, ruleset.target, default_branch),
        allow_creations="creation" not in kinds,
        required_linear_history="required_linear_history" in kinds,
        required_signatures="required_signatures" in kinds,
        violations=tuple(violations), creation_violations=tuple(creation),
    )


def push_policies(repo: RepoState, role: str | None, login: str | None = None) -> dict[str, PushPolicy]:
    """Every push policy of the repository for a pusher with `role` (and `login`): classic protection
    keyed "refs/heads/BRANCH", active rulesets the pusher does not bypass keyed "ruleset:ID"."""
    policies: dict[str, PushPolicy] = {
        f"refs/heads/{name}": rule.push_policy(role, login) for name, rule in repo.protection.items()}
    actor = RuleActor(role=role, login=login)
    for ruleset_id, ruleset in sorted(rulesets(repo).items()):
        if ruleset.enforcement != "active" or ruleset.target not in _REF_PREFIX:
            continue
        if _bypasses(ruleset, actor, merging=False):
            continue
        policy = ruleset_push_policy(ruleset, repo.default_branch)
        if policy is not None:
            policies[f"ruleset:{ruleset_id}"] = policy
    return policies


def _policy(value: PushPolicy | Mapping[str, Any]) -> PushPolicy:
    if isinstance(value, PushPolicy):
        return value
    known = {f.name for f in fields(PushPolicy)}
    data: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in value.items() if k in known}
    return PushPolicy(**data)


def policies_for(policies: Mapping[str, PushPolicy | Mapping[str, Any]], ref: str) -> list[PushPolicy]:
    """The policies covering `ref`: the classic one keyed by the ref, and every ruleset whose patterns
    match. Values may be PushPolicy objects or their JSON form (the hook's environment)."""
    found: list[PushPolicy] = []
    for key, value in policies.items():
        policy = _policy(value)
        if policy.source == "ruleset":
            if (any(ref_pattern_matches(p, ref) for p in policy.include)
                    and not any(ref_pattern_matches(p, ref) for p in policy.exclude)):
                found.append(policy)
        elif key == ref:
            found.append(policy)
    return found


class GitHistory:
    """Answers about the commits of an update, from `git` in `git_dir` (or the current directory, as in
    the pre-receive hook, where new objects are visible but refs are not updated yet)."""

    def __init__(self, git_dir: str | None = None) -> None:
        self.git_dir = git_dir

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["git", *([f"--git-dir={self.git_dir}"] if self.git_dir else []), *args]
        return subprocess.run(command, check=False, capture_output=True, text=True)

    def is_ancestor(self, old: str, new: str) -> bool:
        return self._git("merge-base", "--is-ancestor", old, new).returncode == 0

    def commits(self, old: str | None, new: str, *, merges_only: bool = False) -> tuple[str, ...]:
        """The commits `new` brings over `old` (over every existing ref when creating one)."""
        limits = [f"{old}..{new}"] if old is not None else [new, "--not", "--all"]
        result = self._git("rev-list", *(["--merges"] if merges_only else []), *limits)
        return tuple(result.stdout.split()) if result.returncode == 0 else ()


@dataclass(frozen=True)
class Refusal:
    source: str  # protection (GH006) | ruleset (GH013)
    reasons: tuple[str, ...]


def refusals(policies: Mapping[str, PushPolicy | Mapping[str, Any]], ref: str, old: str | None, new: str | None,
             git: GitHistory) -> list[Refusal]:
    """Why the update of `ref` from `old` to `new` (None: absent) is refused: one Refusal per kind of
    source (classic protection first), or [] when every policy allows it. `git` is only asked when a
    policy covers the ref."""
    applicable = policies_for(policies, ref)
    if not applicable:
        return []
    fast_forward = old is None or new is None or git.is_ancestor(old, new)
    needs_history = new is not None and any(p.required_linear_history or p.required_signatures for p in applicable)
    merges = git.commits(old, new, merges_only=True) if needs_history and new is not None else ()
    brought = git.commits(old, new) if needs_history and new is not None else ()
    found: list[Refusal] = []
    for source in ("protection", "ruleset"):
        reasons: list[str] = []
        for policy in applicable:
            if policy.source == source:
                reasons += [r for r in policy.reject_reasons(old, new, fast_forward, merge_commits=merges,
                                                             new_commits=brought) if r not in reasons]
        if reasons:
            found.append(Refusal(source, tuple(reasons[:1] if source == "protection" else reasons)))
    return found


def refusal_message(ref: str, refusal: Refusal) -> str:
    """What git shows after "remote: " for a refused push, as GitHub words it."""
    if refusal.source == "protection":
        first, *rest = refusal.reasons[0].split("\n")
        return "".join([f"error: GH006: Protected branch update failed for {ref}.\n", f"error: {first}\n",
                        *(f"{line}\n" for line in rest)])
    lines = [f"error: GH013: Repository rule violations found for {ref}.\n", "\n"]
    for reason in refusal.reasons:
        first, *rest = reason.split("\n")
        lines += [f"- {first}\n", *(f"  {line}\n" for line in rest), "\n"]
    return "".join(lines)


def rest_refusal(ref: str, found: Sequence[Refusal]) -> str:
    """The 422 message for a REST ref update the rules refuse."""
    rulesets_refusal = next((r for r in found if r.source == "ruleset"), None)
    if rulesets_refusal is not None and not any(r.source == "protection" for r in found):
        return "Repository rule violations found\n\n" + "".join(f"{r}\n\n" for r in rulesets_refusal.reasons)
    return f"Protected branch update failed for {ref}. {found[0].reasons[0]}".strip()
