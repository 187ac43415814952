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
    """Classic protection of one branch; the minimum that pushes and merges check.

    The protection routes extend this (and render it as GitHub's `branch-protection`). `push_policy()`
    is what a push (git or a REST ref update) is held to.
    """

    branch: str
    required_pull_request_reviews: dict[str, Any] | None = None
    required_status_checks: dict[str, Any] | None = None
    enforce_admins: bool = False
    allow_force_pushes: bool = False
    allow_deletions: bool = False
    lock_branch: bool = False
    required_linear_history: bool = False
    required_signatures: bool = False
    required_conversation_resolution: bool = False
    restrictions: dict[str, Any] | None = None

    def push_policy(self, role: str | None) -> PushPolicy:
        """What a direct push by a user with repository role `role` may do to this branch."""
        admin_bypass = role_at_least(role, "admin") and not self.enforce_admins
        if self.lock_branch:
            return PushPolicy(self.branch, "Cannot update this protected branch: the branch is locked.",
                              self.allow_force_pushes, self.allow_deletions)
        if admin_bypass:
            return PushPolicy(self.branch, None, True, True)
        reason = None
        if self.required_pull_request_reviews is not None:
            reason = "Changes must be made through a pull request."
        elif self.required_status_checks is not None and self.required_status_checks.get("contexts"):
            contexts = ", ".join(self.required_status_checks["contexts"])
            reason = f"Required status check{'s' if ',' in contexts else ''} \"{contexts}\" expected."
        return PushPolicy(self.branch, reason, self.allow_force_pushes, self.allow_deletions)


@dataclass(frozen=True)
class PushPolicy:
    """The rule for direct pushes to one protected branch (shared by git pushes and REST ref updates)."""

    branch: str
    blocked: str | None  # why every direct update is refused, or None
    allow_force_pushes: bool
    allow_deletions: bool

    def reject_reason(self, old: str | None, new: str | None, fast_forward: bool) -> str | None:
        """None when the update is allowed, else GitHub's explanation."""
        if new is None:
            return None if self.allow_deletions else "Cannot delete this protected branch."
        if self.blocked:
            return self.blocked
        if old is not None and not fast_forward and not self.allow_force_pushes:
            return "Cannot force-push to this branch"
        return None


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

    def push_policies(self, role: str | None) -> dict[str, PushPolicy]:
        """{"refs/heads/BRANCH": policy} for every protected branch."""
        return {f"refs/heads/{name}": rule.push_policy(role) for name, rule in self.protection.items()}


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
