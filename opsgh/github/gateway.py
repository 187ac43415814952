"""`GitHubGateway`: the object the core gets (it implements `opsgh.ports.GitHubPort`).

REST objects come from PyGithub where it fits (repository, branch, issues, refs), raw transport
calls where PyGithub would cost extra requests or hides what we need (file text, protection,
statuses, workflow permissions, token report). Everything returns frozen values from `ports.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from opsgh.clock import Clock, SystemClock
from opsgh.errors import GitHubError, NotFound, ValidationFailed
from opsgh.gate.security import AlertsRead
from opsgh.github.auth import AppInstallationTokens, StaticToken, token_kind
from opsgh.github.gateway_commands import CommandGatewayMixin
from opsgh.github.gateway_hotfix import HotfixGatewayMixin
from opsgh.github.gateway_protect import ProtectGatewayMixin, repo_info
from opsgh.github.gateway_rollback import RollbackGatewayMixin
from opsgh.github.gateway_ship import ShipGatewayMixin
from opsgh.github.graphql import GraphQLClient
from opsgh.github.ledger import Ledger
from opsgh.github.pacing import RequestPacer
from opsgh.github.retry import RetryPolicy, default_jitter
from opsgh.github.transport import ExchangeHook, TokenProvider, Transport
from opsgh.github.urls import ApiUrls
from opsgh.ports import (
    BranchInfo,
    CommitInfo,
    ComparePage,
    FileChange,
    IssueInfo,
    PullInfo,
    RefInfo,
    RepoInfo,
    StatusInfo,
    TokenReport,
)

if TYPE_CHECKING:
    import github


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


def _login_of(user: object) -> str | None:
    return str(user["login"]) if isinstance(user, dict) and user.get("login") else None


def _commit_info(data: dict[str, Any]) -> CommitInfo:
    commit = data.get("commit") or {}
    author = commit.get("author") or {}
    committer = commit.get("committer") or {}
    return CommitInfo(
        sha=str(data["sha"]),
        message=str(commit.get("message") or ""),
        author_name=str(author.get("name") or ""),
        author_login=_login_of(data.get("author")),
        committer_name=str(committer.get("name") or ""),
        committer_email=str(committer.get("email") or ""),
        committed_at=str(committer.get("date") or author.get("date") or ""),
        parents=tuple(str(parent["sha"]) for parent in data.get("parents") or ()),
        html_url=str(data.get("html_url") or ""),
    )


def _file_change(data: dict[str, Any]) -> FileChange:
    return FileChange(
        filename=str(data["filename"]),
        status=str(data.get("status") or "modified"),
        additions=int(data.get("additions") or 0),
        deletions=int(data.get("deletions") or 0),
        patch=data.get("patch") if isinstance(data.get("patch"), str) else None,
        previous_filename=data.get("previous_filename") if isinstance(data.get("previous_filename"), str)
        else None,
    )


def _pull_info(data: dict[str, Any]) -> PullInfo:
    head, base = data.get("head") or {}, data.get("base") or {}
    return PullInfo(
        number=int(data["number"]),
        title=str(data.get("title") or ""),
        body=data.get("body") if isinstance(data.get("body"), str) else None,
        state=str(data.get("state") or "open"),
        html_url=str(data.get("html_url") or ""),
        author=_login_of(data.get("user")),
        head_ref=str(head.get("ref") or ""),
        head_sha=str(head.get("sha") or ""),
        base_ref=str(base.get("ref") or ""),
        base_sha=str(base.get("sha") or ""),
        labels=tuple(str(label["name"]) for label in data.get("labels") or () if isinstance(label, dict)),
        draft=bool(data.get("draft")),
        created_at=str(data.get("created_at") or ""),
        updated_at=str(data.get("updated_at") or ""),
        merged_at=data.get("merged_at") if isinstance(data.get("merged_at"), str) else None,
        merge_commit_sha=data.get("merge_commit_sha") if isinstance(data.get("merge_commit_sha"), str) else None,
    )


class GitHubGateway(ShipGatewayMixin, RollbackGatewayMixin, ProtectGatewayMixin, CommandGatewayMixin,
                    HotfixGatewayMixin):
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
        on_wait: Callable[[str], None] | None = None,
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
            urls, provider, RetryPolicy(clock, max_attempts=max_attempts, max_wait=max_wait, jitter=jitter,
                                        on_wait=on_wait),
            clock, Ledger(), on_exchange=on_exchange, timeout=timeout, http_transport=http_transport,
        )
        if isinstance(provider, AppInstallationTokens):
            provider.attach(transport)
        return cls(transport, token_kind_name=kind)

    def __repr__(self) -> str:
        return f"GitHubGateway({self.transport.urls.rest!r}, token={self._token_kind})"

    def close(self) -> None:
        self.transport.close()

    def pace_requests(self, clock: Clock, *, per_minute: int = 80, per_hour: int = 500,
                      points_per_minute: int = 900) -> RequestPacer:
        """Pace every REST request under GitHub's secondary limits from now on (see pacing.py)."""
        pacer = RequestPacer(clock, per_minute=per_minute, per_hour=per_hour, points_per_minute=points_per_minute)
        self.transport.pacer = pacer
        return pacer

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
            from opsgh.github.rest import build_github  # PyGithub is heavy: imported when first used

            self._github = build_github(self.transport)
        return self._github

    # ------------------------------------------------------------------ repository

    def get_repository(self, full_name: str) -> RepoInfo:
        # On the transport, not PyGithub: the Action's first request must not wait for PyGithub's import.
        return repo_info(self.transport.get_json(f"/repos/{full_name}"))  # one GET /repos/{owner}/{repo}

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

    def check_runs_allowed(self) -> bool:
        """Only GitHub Apps (installation and Actions tokens) may create check runs; PATs and OAuth
        tokens get 403 "You must authenticate via a GitHub App." (known from the token's prefix)."""
        return self._token_kind not in ("classic-pat", "fine-grained-pat", "oauth", "user-to-server")

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

    # ------------------------------------------------------------------ comparisons, pull requests, labels
    # Raw JSON through the transport, not PyGithub: its objects complete themselves with extra GETs
    # when an attribute is missing, and its compare object hides the pages.

    def compare(self, full_name: str, base: str, head: str, *, per_page: int = 250) -> Iterator[ComparePage]:
        url: str | None = f"/repos/{full_name}/compare/{_q(base)}...{_q(head)}"
        params: dict[str, Any] | None = {"per_page": per_page, "page": 1}
        seen: set[str] = set()
        while url is not None:
            response = self.transport.request("GET", url, params=params)
            seen.add(url)
            params = None  # the Link URLs carry their own query
            data = response.json()
            files = data.get("files")
            yield ComparePage(
                status=str(data.get("status") or ""),
                ahead_by=int(data.get("ahead_by") or 0),
                behind_by=int(data.get("behind_by") or 0),
                base_sha=str((data.get("base_commit") or {}).get("sha") or ""),
                merge_base_sha=str((data.get("merge_base_commit") or {}).get("sha") or ""),
                html_url=str(data.get("html_url") or ""),
                commits=tuple(_commit_info(c) for c in data.get("commits") or ()),
                files=tuple(_file_change(f) for f in files) if isinstance(files, list) else None,
            )
            url = response.links().get("next")
            if url in seen:
                break

    def list_pulls(self, full_name: str, *, state: str = "open", head: str | None = None, base: str | None = None,
                   sort: str = "created", direction: str = "desc") -> Iterator[PullInfo]:
        params: dict[str, Any] = {"state": state, "sort": sort, "direction": direction, "head": head, "base": base}
        for item in self.transport.paginate(f"/repos/{full_name}/pulls",
                                            {k: v for k, v in params.items() if v is not None}):
            yield _pull_info(item)

    def list_pull_commits(self, full_name: str, number: int) -> list[CommitInfo]:
        return [_commit_info(item) for item in self.transport.paginate(f"/repos/{full_name}/pulls/{number}/commits")]

    def create_pull(self, full_name: str, *, title: str, head: str, base: str, body: str,
                    draft: bool = False) -> PullInfo:
        payload = {"title": title, "head": head, "base": base, "body": body, "draft": draft}
        return _pull_info(self.transport.request("POST", f"/repos/{full_name}/pulls", json=payload).json())

    def update_pull(self, full_name: str, number: int, *, title: str | None = None,
                    body: str | None = None) -> PullInfo:
        payload = {k: v for k, v in (("title", title), ("body", body)) if v is not None}
        # Setting the same title and body again changes nothing: safe to retry.
        data = self.transport.request("PATCH", f"/repos/{full_name}/pulls/{number}", json=payload,
                                      idempotent=True).json()
        return _pull_info(data)

    def add_labels(self, full_name: str, number: int, labels: Sequence[str]) -> tuple[str, ...]:
        # Adding a label twice is harmless: safe to retry.
        data = self.transport.request("POST", f"/repos/{full_name}/issues/{number}/labels",
                                      json={"labels": list(labels)}, idempotent=True).json()
        return tuple(str(label["name"]) for label in data or () if isinstance(label, dict))

    def create_label(self, full_name: str, name: str, color: str, description: str | None = None) -> None:
        payload: dict[str, Any] = {"name": name, "color": color}
        if description:
            payload["description"] = description
        try:
            self.transport.request("POST", f"/repos/{full_name}/labels", json=payload, idempotent=True)
        except ValidationFailed as err:
            codes = {e.get("code") for e in err.errors if isinstance(e, dict)}
            if "already_exists" not in codes:
                raise

    def get_directory_texts(self, full_name: str, path: str, ref: str | None = None) -> dict[str, str]:
        try:
            listing = self.transport.get_json(f"/repos/{full_name}/contents/{_q(path.strip('/'))}",
                                              {"ref": ref} if ref else None)
        except NotFound:
            return {}
        if not isinstance(listing, list):  # a file, not a directory
            return {}
        texts: dict[str, str] = {}
        for entry in listing:
            if not isinstance(entry, dict) or entry.get("type") != "file" or not entry.get("url"):
                continue
            # The entry's own URL carries the ref the listing was read at.
            response = self.transport.request("GET", str(entry["url"]),
                                              headers={"Accept": "application/vnd.github.raw+json"})
            texts[str(entry["name"])] = response.text
        return texts

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

    def security_alerts(self, full_name: str, source: str, severity: str) -> AlertsRead:
        """Open `source` (dependabot, code_scanning) alerts at or above `severity` (the gate's security
        criterion); a disabled feature or a token that may not read them is `unavailable`, not an error."""
        from opsgh.github.alerts import read_security_alerts

        return read_security_alerts(self.transport, full_name, source, severity)

    def team_members(self, org: str, slug: str) -> tuple[str, ...] | None:
        """The logins of a team (child teams included, as GitHub lists them); None when the team is
        not visible to this token (404/403), so the gate says it could not check instead of failing."""
        from opsgh.errors import Forbidden

        try:
            return tuple(str(member["login"]) for member in self.transport.paginate(
                f"/orgs/{quote(org, safe='')}/teams/{quote(slug, safe='')}/members", {"per_page": 100}))
        except (NotFound, Forbidden):
            return None
