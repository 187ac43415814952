"""The sandbox's state besides git: users, tokens, apps, repositories and their collections.

Everything is a dataclass that `encode`/`decode` turn into JSON and back, so `SandboxState.save(dir)`
and `SandboxState.load(dir)` keep it across a restart (git data is already on disk).

Per-repository resources that route modules add (pull requests, issues, comments, check runs...) live
in **collections**: declare one next to the routes that own it and reach it through the repository::

    @dataclass
    class Label:
        id: int
        name: str
        color: str = "ededed"

    LABELS = Collection("labels", Label, key=str)      # module level, name unique
    ...
    labels = repo.items(LABELS)                        # dict[str, Label], saved with the repo
    labels[name] = Label(state.next_id("label"), name)

Issues and pull requests share one number sequence per repository (`repo.next_number()`), as on
GitHub; database ids come from `state.next_id(kind)`. Site-wide collections (not per repository)
work the same way through `state.items(COLLECTION)`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

STATE_FILE = "state.json"
FORMAT_VERSION = 1

TokenKind = Literal["classic-pat", "fine-grained", "actions", "app-installation"]
TOKEN_KINDS: tuple[str, ...] = ("classic-pat", "fine-grained", "actions", "app-installation")
# Tokens that act as an integration (GitHub App semantics: permission map, "Resource not accessible by
# integration").
INTEGRATION_KINDS = frozenset({"actions", "app-installation"})
Role = Literal["read", "triage", "write", "maintain", "admin"]
ROLES: tuple[str, ...] = ("read", "triage", "write", "maintain", "admin")

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


def role_at_least(role: str | None, needed: str) -> bool:
    """Whether repository role `role` includes `needed` (read < triage < write < maintain < admin)."""
    return role is not None and ROLES.index(role) >= ROLES.index(needed)


# ---------------------------------------------------------------------------------------------------
# JSON encoding of dataclasses


def encode(value: Any) -> Any:
    """A dataclass tree -> plain JSON values (dict keys become strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.metadata.get("transient")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(kind: Any, data: Any) -> Any:
    """Plain JSON values -> `kind` (a dataclass, list[X], dict[K, V], X | None, Literal, scalars, Any)."""
    if kind is Any or data is None:
        return data
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        for option in options:
            if _fits(option, data):
                return decode(option, data)
        return data
    if origin is Literal:
        return data
    if origin in (list, tuple):
        args = typing.get_args(kind)
        item = args[0] if args else Any
        items = [decode(item, v) for v in data]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        key_type, value_type = typing.get_args(kind) or (str, Any)
        return {_decode_key(key_type, k): decode(value_type, v) for k, v in data.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return decode_dataclass(kind, data)
    if kind is float and isinstance(data, int):
        return float(data)
    return data


def _decode_key(kind: Any, key: str) -> Any:
    return int(key) if kind is int else key


def _fits(kind: Any, data: Any) -> bool:
    origin = typing.get_origin(kind) or kind
    if origin in (list, tuple):
        return isinstance(data, list)
    if origin is dict or (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        return isinstance(data, dict)
    if kind is float:
        return isinstance(data, int | float)
    if isinstance(origin, type):
        return isinstance(data, origin)
    return True


def decode_dataclass(cls: type[T], data: dict[str, Any]) -> T:
    """Build `cls` from its encoded form; unknown keys are ignored, missing ones take their defaults."""
    hints = typing.get_type_hints(cls)
    values = {f.name: decode(hints[f.name], data[f.name]) for f in dataclasses.fields(cls)  # type: ignore[arg-type]
              if f.name in data and f.init and not f.metadata.get("transient")}
    return cls(**values)


# ---------------------------------------------------------------------------------------------------
# Collections


class Collection(Generic[K, V]):
    """A named, typed dict of items kept on a repository (or on the site), e.g. pulls by number."""

    registry: ClassVar[dict[str, Collection[Any, Any]]] = {}
    item_type: type[V]
    key_type: type[K]

    def __init__(self, name: str, item_type: type[V], key: type[K]) -> None:
        existing = Collection.registry.get(name)
        if existing is not None and existing.item_type is not item_type:
            raise ValueError(f"a sandbox collection named {name!r} already holds {existing.item_type.__name__}")
        self.name = name
        self.item_type = item_type
        self.key_type = key
        Collection.registry[name] = self

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, {self.item_type.__name__})"

    def decode(self, raw: dict[str, Any]) -> dict[K, V]:
        return {_decode_key(self.key_type, k): decode(self.item_type, v) for k, v in raw.items()}


class _HasCollections:
    """Mixin: `items(collection)` over a `collections` field holding decoded dicts or, after a load,
    the raw JSON of collections no code has asked for yet (decoded on first use)."""

    collections: dict[str, Any]
    _decoded: set[str]

    def items(self, collection: Collection[K, V]) -> dict[K, V]:
        if collection.name not in self._decoded:
            raw = self.collections.get(collection.name) or {}
            self.collections[collection.name] = collection.decode(raw)
            self._decoded.add(collection.name)
        result: dict[K, V] = self.collections[collection.name]
        return result


# ---------------------------------------------------------------------------------------------------
# Accounts, tokens, apps


@dataclass
class User:
    """A user, a bot or an organization (GitHub's `type`: User, Bot, Organization)."""

    login: str
    id: int
    type: str = "User"
    site_admin: bool = False
    name: str | None = None
    email: str | None = None
    created_at: float = 0.0


@dataclass
class Token:
    """An API token and what it may do.

    kind: classic-pat (ghp_; `scopes`), fine-grained (github_pat_; `permissions`, `repositories`),
    actions (ghs_, the workflow GITHUB_TOKEN: `permissions`, one repository; events it causes start no
    workflows), app-installation (ghs_; `permissions` of the installation, its repositories).
    `repositories` None means every repository the user (or installation) can reach.
    """

    value: str
    login: str
    kind: str = "classic-pat"
    scopes: list[str] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)  # contents -> read|write, ...
    repositories: list[str] | None = None  # "owner/name", lower-case
    installation_id: int | None = None
    expires_at: float | None = None
    created_at: float = 0.0

    @property
    def is_integration(self) -> bool:
        return self.kind in INTEGRATION_KINDS

    @property
    def triggers_workflows(self) -> bool:
        """Events caused by the Actions GITHUB_TOKEN start no workflows (recorded, not simulated)."""
        return self.kind != "actions"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    public_key_pem: str
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    client_id: str = ""
    created_at: float = 0.0


@dataclass
class Installation:
    id: int
    app_id: int
    account: str  # login of the user or organization it is installed on
    repository_selection: str = "all"  # all | selected
    repositories: list[str] = field(default_factory=list)  # "owner/name" when selected
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created_at: float = 0.0


# ---------------------------------------------------------------------------------------------------
# Repositories


@dataclass
class RepoSettings:
    allow_merge_commit: bool = True
    allow_squash_merge: bool = True
    allow_rebase_merge: bool = True
    allow_auto_merge: bool = False
    delete_branch_on_merge: bool = False
    allow_update_branch: bool = False
    has_issues: bool = True
    has_projects: bool = True
    has_wiki: bool = True
    has_discussions: bool = False
    is_template: bool = False
    web_commit_signoff_required: bool = False
    squash_merge_commit_title: str = "COMMIT_OR_PR_TITLE"
    squash_merge_commit_message: str = "COMMIT_MESSAGES"
    merge_commit_title: str = "MERGE_MESSAGE"
    merge_commit_message: str = "PR_TITLE"


@dataclass
class BranchProtection:
    """Classic protection of one branch (GitHub's `branch-protection`), as pushes and merges see it.

    The three dict fields hold what the protection routes store (normalised, see `reviews()`,
    `status_checks()`, `push_restrictions()`); `Sandbox.protect()` may seed partial dicts, which those
    accessors complete with GitHub's defaults. `push_policy()` is what a direct push (git or a REST ref
    update) is held to; `opsgh.sandbox.rules.effective_rules()` combines this with rulesets.
    """

    branch: str
    # {dismiss_stale_reviews, require_code_owner_reviews, required_approving_review_count,
    #  require_last_push_approval, dismissal_restrictions: {users, teams, apps} | None,
    #  bypass_pull_request_allowances: {users, teams, apps} | None}
    required_pull_request_reviews: dict[str, Any] | None = None
    # {strict, checks: [{context, app_id | None}], contexts: [...]} (contexts kept in sync with checks)
    required_status_checks: dict[str, Any] | None = None
    enforce_admins: bool = False
    allow_force_pushes: bool = False
    allow_deletions: bool = False
    lock_branch: bool = False
    required_linear_history: bool = False
    required_signatures: bool = False
    required_conversation_resolution: bool = False
    restrictions: dict[str, Any] | None = None  # {users: [login], teams: [slug], apps: [slug]}
    block_creations: bool = False
    allow_fork_syncing: bool = False

    def reviews(self) -> dict[str, Any] | None:
        """The required-reviews settings with GitHub's defaults filled in (None: not required)."""
        raw = self.required_pull_request_reviews
        if raw is None:
            return None
        return {
            "dismiss_stale_reviews": bool(raw.get("dismiss_stale_reviews", False)),
            "require_code_owner_reviews": bool(raw.get("require_code_owner_reviews", False)),
            "required_approving_review_count": int(raw.get("required_approving_review_count", 1)),
            "require_last_push_approval": bool(raw.get("require_last_push_approval", False)),
            "dismissal_restrictions": _actor_lists(raw.get("dismissal_restrictions")),
            "bypass_pull_request_allowances": _actor_lists(raw.get("bypass_pull_request_allowances")),
        }

    def status_checks(self) -> dict[str, Any] | None:
        """{strict, checks: [{context, app_id}], contexts} (None: no required status checks)."""
        raw = self.required_status_checks
        if raw is None:
            return None
        if raw.get("checks") is not None:
            checks = [{"context": str(c["context"]), "app_id": c.get("app_id")} for c in raw["checks"]]
        else:
            checks = [{"context": str(c), "app_id": None} for c in raw.get("contexts") or ()]
        return {"strict": bool(raw.get("strict", False)), "checks": checks,
                "contexts": [c["context"] for c in checks]}

    def push_restrictions(self) -> dict[str, list[str]] | None:
        """Who may push ({users, teams, apps}), or None when anyone with write access may."""
        return _actor_lists(self.restrictions)

    def push_policy(self, role: str | None, login: str | None = None) -> PushPolicy:
        """What a direct push by `login` (repository role `role`) may do to this branch."""
        if self.lock_branch:
            return PushPolicy(self.branch, "Cannot update this protected branch: the branch is locked.",
                              self.allow_force_pushes, self.allow_deletions)
        if role_at_least(role, "admin") and not self.enforce_admins:
            return PushPolicy(self.branch, None, True, True)
        reason = None
        restricted = self.push_restrictions()
        reviews = self.reviews()
        checks = self.status_checks()
        if restricted is not None and not _listed(restricted, login):
            reason = ("You're not authorized to push to this branch. Visit "
                      "https://docs.github.com/articles/about-protected-branches/ for more information.")
        elif reviews is not None and not _listed(reviews["bypass_pull_request_allowances"], login):
            reason = "Changes must be made through a pull request."
        elif checks is not None and checks["contexts"]:
            contexts = checks["contexts"]
            reason = (f"Required status check \"{contexts[0]}\" is expected." if len(contexts) == 1
                      else f"{len(contexts)} of {len(contexts)} required status checks are expected.")
        return PushPolicy(self.branch, reason, self.allow_force_pushes, self.allow_deletions,
                          required_linear_history=self.required_linear_history,
                          required_signatures=self.required_signatures)


def _actor_lists(raw: Any) -> dict[str, list[str]] | None:
    """{users, teams, apps} lists from a stored restriction object (None stays None)."""
    if raw is None:
        return None
    return {kind: [str(v) for v in raw.get(kind) or ()] for kind in ("users", "teams", "apps")}


def _listed(lists: dict[str, list[str]] | None, login: str | None) -> bool:
    """Whether `login` (a user, or an App's `slug[bot]`) is named in `lists` (teams are not resolved)."""
    if lists is None or login is None:
        return False
    name = login.lower()
    return (name in (u.lower() for u in lists["users"])
            or (name.endswith("[bot]") and name.removesuffix("[bot]") in (a.lower() for a in lists["apps"])))


@dataclass(frozen=True)
class PushPolicy:
    """The rule for direct pushes to one protected branch or one ruleset (git pushes and REST ref updates).

    Classic protection (`source` "protection") is keyed by its ref and explains a refusal with one
    reason (GH006); a ruleset (`source` "ruleset") covers the refs its `include`/`exclude` patterns match
    and lists every violation (GH013). `opsgh.sandbox.rules` finds the policies of a ref and words
    the refusal; the fields after `allow_deletions` have defaults so older encodings still load.
    """

    branch: str
    blocked: str | None  # why every direct update is refused, or None
    allow_force_pushes: bool
    allow_deletions: bool
    source: str = "protection"  # protection | ruleset
    include: tuple[str, ...] = ()  # ruleset: ref patterns covered (fnmatch, ~DEFAULT_BRANCH resolved)
    exclude: tuple[str, ...] = ()
    allow_creations: bool = True
    required_linear_history: bool = False
    required_signatures: bool = False
    violations: tuple[str, ...] = ()  # ruleset: why every update of an existing ref is refused
    creation_violations: tuple[str, ...] = ()  # ruleset: why creating a ref is refused (besides `creation`)

    def reject_reason(self, old: str | None, new: str | None, fast_forward: bool) -> str | None:
        """None when the update is allowed, else GitHub's (first) explanation (history not inspected)."""
        reasons = self.reject_reasons(old, new, fast_forward)
        return reasons[0] if reasons else None

    def reject_reasons(self, old: str | None, new: str | None, fast_forward: bool, *,
                       merge_commits: tuple[str, ...] = (), new_commits: tuple[str, ...] = ()) -> list[str]:
        """Every reason GitHub gives for refusing the update (classic protection: the first only).

        merge_commits / new_commits: the merge commits and all commits the update brings (for linear
        history and signatures; the sandbox verifies no signature, so every pushed commit is unverified).
        """
        ruleset = self.source == "ruleset"
        if new is None:
            if self.allow_deletions:
                return []
            return ["Cannot delete this branch" if ruleset else "Cannot delete this protected branch."]
        reasons: list[str] = []
        if old is None and ruleset:
            if not self.allow_creations:
                reasons.append("Cannot create ref due to creations being restricted.")
            reasons.extend(self.creation_violations)
        else:
            if self.blocked:
                reasons.append(self.blocked)
            reasons.extend(self.violations)
            if old is not None and not fast_forward and not self.allow_force_pushes:
                reasons.append("Cannot force-push to this branch")
        if self.required_linear_history and merge_commits:
            reasons.append(_violations("This branch must not contain merge commits.", merge_commits))
        if self.required_signatures and new_commits:
            reasons.append(_violations("Commits must have verified signatures.", new_commits))
        return reasons if ruleset else reasons[:1]


def _violations(headline: str, shas: tuple[str, ...]) -> str:
    noun = "violation" if len(shas) == 1 else "violations"
    return f"{headline}\nFound {len(shas)} {noun}:\n\n" + "\n".join(shas)


@dataclass
class RepoState(_HasCollections):
    id: int
    owner: str
    name: str
    default_branch: str = "main"
    private: bool = False
    visibility: str = "public"  # public | private | internal
    archived: bool = False
    disabled: bool = False
    fork: bool = False
    description: str | None = None
    homepage: str | None = None
    topics: list[str] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0
    pushed_at: float = 0.0
    settings: RepoSettings = field(default_factory=RepoSettings)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    protection: dict[str, BranchProtection] = field(default_factory=dict)  # branch name -> protection
    number_counter: int = 0
    collections: dict[str, Any] = field(default_factory=dict)
    _decoded: set[str] = field(default_factory=set, repr=False, compare=False, metadata={"transient": True})

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def key(self) -> str:
        return self.full_name.lower()

    def next_number(self) -> int:
        """The next issue/pull request number (GitHub numbers both from one sequence)."""
        self.number_counter += 1
        return self.number_counter

    def role_of(self, login: str | None) -> str | None:
        """The user's role on this repository (the owner is admin), or None."""
        if login is None:
            return None
        if login.lower() == self.owner.lower():
            return "admin"
        for name, role in self.collaborators.items():
            if name.lower() == login.lower():
                return role
        return None

    def push_policies(self, role: str | None, login: str | None = None) -> dict[str, PushPolicy]:
        """{"refs/heads/BRANCH": policy} for every protected branch, plus {"ruleset:ID": policy} for every
        active ruleset the pusher does not bypass (see `opsgh.sandbox.rules.policies_for`)."""
        from opsgh.sandbox.rules import push_policies  # rules imports this module

        return push_policies(self, role, login)


# ---------------------------------------------------------------------------------------------------
# The whole state


@dataclass
class SandboxState(_HasCollections):
    users: dict[str, User] = field(default_factory=dict)  # login (lower-case) -> user
    tokens: dict[str, Token] = field(default_factory=dict)  # token value -> token
    repos: dict[str, RepoState] = field(default_factory=dict)  # "owner/name" lower-case -> repo
    apps: dict[int, App] = field(default_factory=dict)
    installations: dict[int, Installation] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # kind -> last id given
    collections: dict[str, Any] = field(default_factory=dict)
    _decoded: set[str] = field(default_factory=set, repr=False, compare=False, metadata={"transient": True})

    def next_id(self, kind: str) -> int:
        """A new database id for `kind` (user, repo, issue, comment, check_run...)."""
        self.ids[kind] = self.ids.get(kind, 0) + 1
        return self.ids[kind]

    def user(self, login: str | None) -> User | None:
        return self.users.get(login.lower()) if login else None

    def repo(self, owner: str, name: str) -> RepoState | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_by_id(self, repo_id: int) -> RepoState | None:
        return next((r for r in self.repos.values() if r.id == repo_id), None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = encode(self)
        data["format"] = FORMAT_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxState:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"sandbox state format {data.get('format')!r} is not {FORMAT_VERSION}")
        return decode_dataclass(cls, data)

    def save(self, directory: Path) -> None:
        """Write `directory/state.json` atomically."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / STATE_FILE
        temporary = directory / f".{STATE_FILE}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, target)

    @classmethod
    def load(cls, directory: Path) -> SandboxState:
        """The state saved in `directory`, or a fresh state when there is none."""
        target = directory / STATE_FILE
        if not target.is_file():
            return cls()
        return cls.from_json(json.loads(target.read_text(encoding="utf-8")))
