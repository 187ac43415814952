"""`GitHubGateway`: the object the core gets (it implements `opsgh.ports.GitHubPort`).

REST objects come from PyGithub where it fits (repository, branch, issues, refs), raw transport
calls where PyGithub would cost extra requests or hides what we need (file text, protection,
statuses, workflow permissions, token report). Everything returns frozen values from `ports.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import github
import httpx

from opsgh.clock import Clock, SystemClock
from opsgh.errors import GitHubError, NotFound
from opsgh.github.auth import AppInstallationTokens, StaticToken, token_kind
from opsgh.github.gateway_ship import ShipGatewayMixin
from opsgh.github.graphql import GraphQLClient
from opsgh.github.ledger import Ledger
from opsgh.github.rest import build_github
from opsgh.github.retry import RetryPolicy, default_jitter
from opsgh.github.transport import ExchangeHook, TokenProvider, Transport
from opsgh.github.urls import ApiUrls
from opsgh.ports import BranchInfo, IssueInfo, RefInfo, RepoInfo, StatusInfo, TokenReport

PERMISSION_KEYS = ("admin", "maintain", "push", "triage", "pull")


def _q(segment: str) -> str:
    """A path segment that may contain "/" (branch names, file paths), URL-quoted."""
    return quote(segment, safe="/")


def _ref_path(ref: str) -> str:
    """`refs/heads/main`, `heads/main` -> `heads/main` (what /git/ref/ and /git/refs/ take)."""
    return ref.removeprefix("refs/")


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/{ref}"


def _status_info(data: dict[str, Any]) -> StatusInfo:
    creator = data.get("creator")
    return StatusInfo(
        state=str(data.get("state")),
        context=str(data.get("context") or "default"),
        description=data.get("description"),
        target_url=data.get("target_url"),
        id=data.get("id"),
        creator=creator.get("login") if isinstance(creator, dict) else None,
        created_at=data.get("created_at"),
    )


def _int_value(*candidates: object) -> int | None:
    """The first candidate that reads as an integer."""
    for value in candidates:
        if value is None:
            continue
        try:
            return int(float(str(value)))
        except ValueError:
            continue
    return None


class GitHubGateway(ShipGatewayMixin):
    """GitHub for the core: typed values in, typed values and typed errors out."""

    def __init__(self, transport: Transport, *, token_kind_name: str) -> None:
        self.transport = transport
        self._token_kind = token_kind_name
        self._github: github.Github | None = None  # PyGithub client, built on first use
        self._graphql = GraphQLClient(transport)

    @classmethod
    def connect(
        cls,
        *,
        token: str | None = None,
        api_url: str | None = None,
        graphql_url: str | None = None,
        app_id: str | int | None = None,
        private_key: str | None = None,
        repo: str | None = None,
        clock: Clock | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_wait: float = 900.0,
        jitter: Callable[[float], float] | None = default_jitter,
        on_exchange: ExchangeHook | None = None,
        http_transport: httpx.BaseTransport | None = None,
    ) -> GitHubGateway:
        """Build the gateway. A GitHub App (app_id + private_key) wins over a token.

        `http_transport` replaces the network (tests: httpx.MockTransport); `on_exchange` sees every
        exchange (contract tests, --record) with the Authorization header masked.
        """
        clock = clock or SystemClock()
        urls = ApiUrls.from_values(api_url, graphql_url)
        provider: TokenProvider
        if app_id is not None and private_key is not None:
            app = AppInstallationTokens(app_id, private_key, clock=clock, repo=repo)
            provider, kind = app, "app"
        else:
            provider, kind = StaticToken(token), token_kind(token)
        transport = Transport(
            urls, provider, RetryPolicy(clock, max_attempts=max_attempts, max_wait=max_wait, jitter=jitter),
            clock, Ledger(), on_exchange=on_exchange, timeout=timeout, http_transport=http_transport,
        )
        if isinstance(provider, AppInstallationTokens):
            provider.attach(transport)
        return cls(transport, token_kind_name=kind)

    def __repr__(self) -> str:
        return f"GitHubGateway({self.transport.urls.rest!r}, token={self._token_kind})"

    def close(self) -> None:
        self.transport.close()

    @property
    def ledger(self) -> Ledger:
        return self.transport.ledger

    @property
    def urls(self) -> ApiUrls:
        return self.transport.urls

    @property
    def github(self) -> github.Github:
        """The PyGithub client (lazy objects) on our transport, for REST objects the port lacks."""
        if self._github is None:
            self._github = build_github(self.transport)
        return self._github

    # ------------------------------------------------------------------ repository

    def get_repository(self, full_name: str) -> RepoInfo:
        repo = self.github.get_repo(full_name)
        data = repo.raw_data  # one GET /repos/{owner}/{repo}
        perms = data.get("permissions")
        return RepoInfo(
            full_name=data["full_name"],
            default_branch=data["default_branch"],
            private=bool(data.get("private")),
            archived=bool(data.get("archived")),
            fork=bool(data.get("fork")),
            permissions={k: bool(perms[k]) for k in PERMISSION_KEYS if k in perms} if isinstance(perms, dict)
            else None,
            allow_merge_commit=data.get("allow_merge_commit"),
            allow_squash_merge=data.get("allow_squash_merge"),
            allow_rebase_merge=data.get("allow_rebase_merge"),
        )

    def get_branch(self, full_name: str, branch: str) -> BranchInfo | None:
        try:
            found = self.github.get_repo(full_name).get_branch(branch)
        except NotFound:
            return None
        return BranchInfo(name=found.name, sha=found.commit.sha, protected=bool(found.protected))

    def get_file_text(self, full_name: str, path: str, ref: str) -> str | None:
        """The file's text at `ref`, or None if there is no such file. Raw media type: works past 1 MB."""
        try:
            response = self.transport.request(
                "GET", f"/repos/{full_name}/contents/{_q(path.lstrip('/'))}", params={"ref": ref},
                headers={"Accept": "application/vnd.github.raw+json"},
            )
        except NotFound:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            # A directory answers with a JSON listing even for the raw media type.
            listing = response.json()
            if isinstance(listing, list):
                return None
        return response.text

    def get_branch_protection(self, full_name: str, branch: str) -> dict[str, Any] | None:
        """Classic protection of `branch`; None when the branch is not protected.

        GitHub answers 404 both for "Branch not protected" and when the token may not read
        protection (no admin rights) or the branch is missing: only the first means None.
        """
        try:
            data = self.transport.get_json(f"/repos/{full_name}/branches/{_q(branch)}/protection")
        except NotFound as err:
            if "branch not protected" in err.message.lower():
                return None
            raise NotFound(err.message, "reading branch protection needs admin rights on the repository "
                           "(and the branch must exist)", status=err.status, method=err.method, path=err.path,
                           request_id=err.request_id) from None
        return data if isinstance(data, dict) else None

    def get_workflow_permissions(self, full_name: str) -> dict[str, Any] | None:
        data = self.transport.get_json(f"/repos/{full_name}/actions/permissions/workflow")
        return data if isinstance(data, dict) else None

    # ------------------------------------------------------------------ issues

    def list_issues(self, full_name: str, state: str = "open",
                    labels: tuple[str, ...] = ()) -> list[IssueInfo]:
        # Raw JSON, not PyGithub: reading an attribute GitHub left out of a list item (`pull_request`
        # on a plain issue) makes PyGithub "complete" the object with one more GET per issue.
        params: dict[str, Any] = {"state": state}
        if labels:
            params["labels"] = ",".join(labels)
        return [
            IssueInfo(
                number=int(issue["number"]),
                title=str(issue["title"]),
                labels=tuple(str(label["name"]) for label in issue.get("labels") or ()),
                state=str(issue["state"]),
                is_pull_request=issue.get("pull_request") is not None,
            )
            for issue in self.transport.paginate(f"/repos/{full_name}/issues", params)
        ]

    # ------------------------------------------------------------------ statuses

    def create_commit_status(self, full_name: str, sha: str, state: str, context: str, description: str,
                             target_url: str | None = None) -> StatusInfo:
        body: dict[str, Any] = {"state": state, "context": context, "description": description[:140]}
        if target_url:
            body["target_url"] = target_url
        # Setting the same status twice is harmless (the latest per context wins): safe to retry.
        data = self.transport.request("POST", f"/repos/{full_name}/statuses/{sha}", json=body,
                                      idempotent=True).json()
        return _status_info(data)

    def list_commit_statuses(self, full_name: str, ref: str) -> list[StatusInfo]:
        path = f"/repos/{full_name}/commits/{_q(ref)}/statuses"
        return [_status_info(s) for s in self.transport.paginate(path)]

    # ------------------------------------------------------------------ refs

    def get_ref(self, full_name: str, ref: str) -> RefInfo | None:
        """`heads/main`, `refs/heads/main` or `tags/v1`; None when the ref does not exist."""
        git_ref = self.github.get_repo(full_name).get_git_ref(_ref_path(ref))  # lazy: no request yet
        try:
            sha = git_ref.object.sha  # GET /repos/{owner}/{repo}/git/ref/{ref}
        except NotFound:
            return None
        return RefInfo(ref=_full_ref(git_ref.ref), sha=sha)

    def create_ref(self, full_name: str, ref: str, sha: str) -> RefInfo:
        created = self.github.get_repo(full_name).create_git_ref(_full_ref(ref), sha)
        return RefInfo(ref=created.ref, sha=created.object.sha)

    def update_ref(self, full_name: str, ref: str, sha: str, force: bool = False) -> RefInfo:
        data = self.transport.request("PATCH", f"/repos/{full_name}/git/refs/{_q(_ref_path(ref))}",
                                      json={"sha": sha, "force": force}).json()
        return RefInfo(ref=data["ref"], sha=data["object"]["sha"])

    # ------------------------------------------------------------------ token, GraphQL

    def token_report(self) -> TokenReport:
        """GET /rate_limit (free) and GET /user (refused to installation tokens: tolerated)."""
        notes: list[str] = []
        remaining = limit = None
        reset: float | None = None
        try:
            rate = self.transport.request("GET", "/rate_limit")
            core = (rate.json() or {}).get("resources", {}).get("core", {})
            # The body's core bucket is authoritative; the headers are the fallback.
            remaining = _int_value(core.get("remaining"), rate.headers.get("x-ratelimit-remaining"))
            limit = _int_value(core.get("limit"), rate.headers.get("x-ratelimit-limit"))
            reset_value = _int_value(core.get("reset"), rate.headers.get("x-ratelimit-reset"))
            reset = float(reset_value) if reset_value is not None else None
        except NotFound:
            notes.append("rate limiting is not enabled on this server")
        login: str | None = None
        scopes: tuple[str, ...] | None = None
        accepted: str | None = None
        try:
            user = self.transport.request("GET", "/user")
            login = (user.json() or {}).get("login")
            headers = user.headers
        except GitHubError as err:
            if err.status not in (403, 404):
                raise
            notes.append("GET /user is refused to this token (normal for installation tokens)")
            headers = {}
        if "x-oauth-scopes" in headers:
            scopes = tuple(s.strip() for s in headers["x-oauth-scopes"].split(",") if s.strip())
        accepted = headers.get("x-accepted-github-permissions")
        return TokenReport(kind=self._token_kind, login=login, scopes=scopes, accepted_permissions=accepted,
                           rate_limit_remaining=remaining, rate_limit_limit=limit, rate_limit_reset=reset,
                           notes=tuple(notes))

    def graphql(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        return self._graphql.execute(name, variables)
