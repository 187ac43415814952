"""The Python API: start a sandbox, seed it, misbehave on purpose, read what happened.

    with Sandbox() as sandbox:
        token = sandbox.add_user("alice")
        sandbox.create_repo("acme", "shop", collaborators={"alice": "admin"})
        sandbox.commit("acme", "shop", "main", {"README.md": "hi\\n"}, "first commit")
        gateway = GitHubGateway.connect(api_url=sandbox.url, token=token)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsgh.clock import Clock
from opsgh.sandbox import prereceive
from opsgh.sandbox.app import ExchangeObserver, RefListener, SandboxApp
from opsgh.sandbox.auth import generate_app_key, new_token_value
from opsgh.sandbox.faults import Faults, RateLimits
from opsgh.sandbox.gitstore import Signature
from opsgh.sandbox.log import RequestLog
from opsgh.sandbox.routing import Router, RouteTable
from opsgh.sandbox.server import SandboxHTTPServer, make_server
from opsgh.sandbox.state import (
    ROLES,
    TOKEN_KINDS,
    App,
    BranchProtection,
    Installation,
    RepoSettings,
    RepoState,
    SandboxState,
    Token,
    User,
)

ACTIONS_BOT = "github-actions[bot]"
ACTIONS_BOT_ID = 41898282
DEFAULT_ACTIONS_PERMISSIONS = {"contents": "write", "pull_requests": "write", "issues": "write",
                               "checks": "write", "statuses": "write", "deployments": "write",
                               "actions": "write", "metadata": "read"}


@dataclass(frozen=True)
class AppCredentials:
    """A registered GitHub App: what `GitHubGateway.connect(app_id=..., private_key=...)` needs."""

    app_id: int
    slug: str
    private_key: str
    installation_id: int


class Sandbox:
    """A local GitHub on 127.0.0.1. `start()`/`stop()`, or use it as a context manager."""

    def __init__(self, state_dir: Path | str | None = None, clock: Clock | None = None, latency_ms: float = 0,
                 log_path: Path | str | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 router: Router | None = None) -> None:
        self.app = SandboxApp(Path(state_dir) if state_dir is not None else None, clock=clock,
                              latency_ms=latency_ms, log_path=Path(log_path) if log_path is not None else None,
                              router=router)
        self._host = host
        self._port = port
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        if self.app.stopping.is_set():
            raise RuntimeError("a stopped sandbox cannot start again: create a new Sandbox (same state_dir)")
        for repo in self.state.repos.values():
            if self.app.git.exists(repo.owner, repo.name):
                prereceive.install(self.app.git.path(repo.owner, repo.name))
        self._server = make_server(self.app, self._host, self._port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="opsgh-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, save the state (with a state directory) or delete the temporary one."""
        with self._stop_lock:
            server, self._server = self._server, None
            if server is None and self.app.stopping.is_set():
                return  # already stopped
            self.app.stopping.set()  # wake delayed requests
            if server is not None:
                server.shutdown()
                server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None
            self.app.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI's `opsgh sandbox serve`)."""
        if self._server is None and not self.app.stopping.is_set():
            self.start()
        thread = self._thread  # stop() from another thread clears the attribute
        try:
            while thread is not None and thread.is_alive():
                thread.join(timeout=0.5)
        finally:
            self.stop()

    # ------------------------------------------------------------------ URLs

    @property
    def started(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """The REST base URL (GITHUB_API_URL)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return self._server.url

    @property
    def ghes_url(self) -> str:
        """The same API under a GitHub Enterprise Server-style base (`/api/v3`)."""
        return self.url + "/api/v3"

    @property
    def graphql_url(self) -> str:
        return self.url + "/graphql"

    def git_url(self, owner: str, name: str, token: str | None = None) -> str:
        """The clone URL; with `token`, carrying `x-access-token:<token>` as GitHub accepts."""
        base = self.url
        if token is not None:
            scheme, _, rest = base.partition("://")
            base = f"{scheme}://x-access-token:{token}@{rest}"
        return f"{base}/{owner}/{name}.git"

    # ------------------------------------------------------------------ parts

    @property
    def state(self) -> SandboxState:
        return self.app.state

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @property
    def rate_limits(self) -> RateLimits:
        return self.app.rate_limits

    @property
    def log(self) -> RequestLog:
        return self.app.log

    @property
    def clock(self) -> Clock:
        return self.app.clock

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handler crashes (each answered 500): bugs in the sandbox."""
        return self.app.errors

    def add_observer(self, observer: ExchangeObserver) -> None:
        """Call `observer(method, url, request_headers, request_body, status, response_headers,
        response_body)` for every REST exchange (contract validation, recording)."""
        self.app.observers.append(observer)

    def on_ref_update(self, listener: RefListener) -> None:
        self.app.ref_listeners.append(listener)

    def add_routes(self, table: RouteTable, *, first: bool = True) -> None:
        """Serve more routes (tests); `first` makes them win over the built-in ones."""
        self.app.router.add(table, first=first)

    # ------------------------------------------------------------------ seeding

    def add_user(self, login: str, *, kind: str = "classic-pat", scopes: tuple[str, ...] = ("repo",),
                 permissions: Mapping[str, str] | None = None, repositories: tuple[str, ...] | None = None,
                 type: str = "User", site_admin: bool = False, name: str | None = None,
                 email: str | None = None) -> str:
        """Create the user if needed and return a new token of `kind` for it.

        kind: classic-pat (`scopes`), fine-grained (`permissions`, `repositories` "owner/name"),
        actions (a workflow's GITHUB_TOKEN for the one repository in `repositories`; the user is
        github-actions[bot] whatever `login` says), app-installation (use `add_app` instead).
        """
        if kind not in TOKEN_KINDS:
            raise ValueError(f"kind must be one of {TOKEN_KINDS}, not {kind!r}")
        with self.app.lock:
            if kind == "actions":
                if not repositories or len(repositories) != 1:
                    raise ValueError("an actions token belongs to exactly one repository: pass repositories=")
                user = self._ensure_user(ACTIONS_BOT, "Bot", user_id=ACTIONS_BOT_ID)
            else:
                user = self._ensure_user(login, type, site_admin=site_admin, name=name, email=email)
            token = Token(new_token_value(kind), user.login, kind,
                          scopes=list(scopes) if kind == "classic-pat" else [],
                          permissions=dict(permissions if permissions is not None else
                                           DEFAULT_ACTIONS_PERMISSIONS if kind == "actions" else {}),
                          repositories=[r.lower() for r in repositories] if repositories is not None else None,
                          created_at=self.app.now())
            self.state.tokens[token.value] = token
            self.app.persist()
            return token.value

    def add_org(self, login: str) -> None:
        with self.app.lock:
            self._ensure_user(login, "Organization")
            self.app.persist()

    def _ensure_user(self, login: str, type: str = "User", *, user_id: int | None = None, site_admin: bool = False,
                     name: str | None = None, email: str | None = None) -> User:
        user = self.state.user(login)
        if user is None:
            user = User(login, user_id or self.state.next_id("user"), type, site_admin, name,
                        email or f"{login.removesuffix('[bot]')}@users.noreply.example.invalid",
                        self.app.now())
            self.state.users[login.lower()] = user
        return user

    def create_repo(self, owner: str, name: str, *, default_branch: str = "main", private: bool = False,
                    collaborators: Mapping[str, str] | None = None, description: str | None = None,
                    settings: RepoSettings | None = None, initial_commit: bool = True) -> RepoState:
        """A repository with a bare git repo behind it; `initial_commit` puts a README on the default branch."""
        for role in (collaborators or {}).values():
            if role not in ROLES:
                raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        with self.app.lock:
            if self.state.repo(owner, name) is not None:
                raise ValueError(f"{owner}/{name} already exists")
            if self.state.user(owner) is None:
                self._ensure_user(owner, "Organization")
            for login in collaborators or {}:
                self._ensure_user(login)
            now = self.app.now()
            repo = RepoState(self.state.next_id("repo"), owner, name, default_branch, private,
                             "private" if private else "public", description=description, created_at=now,
                             updated_at=now, settings=settings or RepoSettings(),
                             collaborators=dict(collaborators or {}))
            git = self.app.git.create(owner, name, default_branch)
            prereceive.install(git.path)
            self.state.repos[repo.key] = repo
            if initial_commit:
                self.commit(owner, name, default_branch, {"README.md": f"# {name}\n"}, "Initial commit")
            self.app.persist()
            return repo

    def repo(self, owner: str, name: str) -> RepoState:
        found = self.state.repo(owner, name)
        if found is None:
            raise KeyError(f"no repository {owner}/{name}")
        return found

    def signature(self, login: str | None = None, *, at: float | None = None) -> Signature:
        """A git signature for `login` (its email, so commits link to the account) at the sandbox time;
        without a login, GitHub's own "GitHub <noreply@github.com>" (web-flow)."""
        with self.app.lock:
            return self.app.signature(login, at=at)

    def commit(self, owner: str, name: str, branch: str, files: Mapping[str, str | bytes | None], message: str,
               *, author: str | Signature | None = None, from_ref: str | None = None) -> str:
        """Commit `files` (path -> content, None deletes) on `branch`; a new branch starts at `from_ref`
        (default: the default branch). Returns the new sha. Protection does not apply (server side)."""
        with self.app.lock:
            repo = self.repo(owner, name)
            signature = author if isinstance(author, Signature) else self.signature(author)
            git = self.app.git_repo(repo)
            ref = f"refs/heads/{branch}"
            old = git.ref(ref)
            start = from_ref or (f"refs/heads/{repo.default_branch}" if branch != repo.default_branch else None)
            sha = git.commit_files(branch, files, message, signature, create_branch_from=start)
            repo.pushed_at = self.app.now()
            self.app.ref_updated(repo, ref, old, sha, author if isinstance(author, str) else None)
            self.app.persist()
            return sha

    def commit_many(self, owner: str, name: str, branch: str,
                    commits: list[tuple[Mapping[str, str | bytes | None], str]], *,
                    author: str | Signature | None = None, from_ref: str | None = None) -> list[str]:
        """Many commits (files, message) on `branch` at once (one `git fast-import`): long histories fast.
        Each commit is one second after the previous one. Returns the shas, oldest first."""
        with self.app.lock:
            repo = self.repo(owner, name)
            first = author if isinstance(author, Signature) else self.signature(author)
            series = [(files, message, Signature(first.name, first.email, first.timestamp + index, first.offset))
                      for index, (files, message) in enumerate(commits)]
            git = self.app.git_repo(repo)
            ref = f"refs/heads/{branch}"
            old = git.ref(ref)
            start = from_ref or (f"refs/heads/{repo.default_branch}" if branch != repo.default_branch else None)
            shas = git.commit_series(branch, series, create_branch_from=start)
            if shas:
                repo.pushed_at = self.app.now()
                self.app.ref_updated(repo, ref, old, shas[-1], author if isinstance(author, str) else None)
            self.app.persist()
            return shas

    def create_branch(self, owner: str, name: str, branch: str, from_ref: str) -> str:
        with self.app.lock:
            repo = self.repo(owner, name)
            git = self.app.git_repo(repo)
            sha = git.resolve(from_ref)
            if sha is None:
                raise KeyError(f"no commit {from_ref} in {owner}/{name}")
            self.app.move_ref(repo, f"refs/heads/{branch}", sha, None)
            self.app.persist()
            return sha

    def protect(self, owner: str, name: str, branch: str, **rules: Any) -> BranchProtection:
        """Protect `branch` (fields of BranchProtection, e.g. required_pull_request_reviews={...})."""
        with self.app.lock:
            repo = self.repo(owner, name)
            protection = BranchProtection(branch, **rules)
            repo.protection[branch] = protection
            self.app.persist()
            return protection

    def add_app(self, slug: str, owner: str, *, permissions: Mapping[str, str] | None = None,
                repositories: tuple[str, ...] | None = None, events: tuple[str, ...] = ()) -> AppCredentials:
        """Register a GitHub App (new RSA key) installed on `owner` (all repos, or `repositories` names)."""
        with self.app.lock:
            private_key, public_key = generate_app_key(len(self.state.apps))
            now = self.app.now()
            app = App(self.state.next_id("app"), slug, slug.replace("-", " ").title(), owner, public_key,
                      dict(permissions or {"contents": "write", "metadata": "read"}), list(events),
                      created_at=now)
            self.state.apps[app.id] = app
            self._ensure_user(f"{slug}[bot]", "Bot")
            if self.state.user(owner) is None:
                self._ensure_user(owner, "Organization")
            installation = Installation(self.state.next_id("installation"), app.id, owner,
                                        "selected" if repositories is not None else "all",
                                        [f"{owner}/{r}".lower() for r in repositories or ()],
                                        dict(app.permissions), list(events), now)
            self.state.installations[installation.id] = installation
            self.app.persist()
            return AppCredentials(app.id, slug, private_key, installation.id)

    def installation_token(self, credentials: AppCredentials, *, expires_in: float = 3600.0) -> str:
        """An installation token without the JWT round trip (seeding, tests)."""
        with self.app.lock:
            installation = self.state.installations[credentials.installation_id]
            token = Token(new_token_value("app-installation"), f"{credentials.slug}[bot]", "app-installation",
                          permissions=dict(installation.permissions), installation_id=installation.id,
                          expires_at=self.app.now() + expires_in, created_at=self.app.now())
            self.state.tokens[token.value] = token
            self.app.persist()
            return token.value


def serve(port: int = 0, state_dir: Path | str | None = None, latency_ms: float = 0, host: str = "127.0.0.1",
          *, on_ready: Callable[[Sandbox], None] | None = None, log_path: Path | str | None = None) -> None:
    """Run a sandbox until interrupted (`opsgh sandbox serve`). `on_ready(sandbox)` runs once it listens
    (print the URL and tokens there). With `state_dir`, the state survives a restart."""
    sandbox = Sandbox(state_dir, latency_ms=latency_ms, log_path=log_path, host=host, port=port)
    sandbox.start()
    try:
        if on_ready is not None:
            on_ready(sandbox)
        sandbox.serve_forever()
    finally:
        sandbox.stop()
