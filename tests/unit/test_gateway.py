"""The gateway against a small stateful fake GitHub: parsed values, pagination, typed errors, the ledger."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from opsgh.clock import FakeClock
from opsgh.errors import AmbiguousWrite, Forbidden, GitHubError, NotFound, RateLimited, Unauthorized
from opsgh.github.gateway import GitHubGateway
from opsgh.github.graphql import load_document, operation_of
from opsgh.ports import BranchInfo, GitHubPort, IssueInfo, RefInfo, RepoInfo, StatusInfo

SHA_MAIN = "a" * 40
SHA_PROD = "b" * 40
TOKEN = "ghp_" + "x" * 36


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=data, headers=headers or {})


class FakeGitHub:
    """Just enough of GitHub's REST and GraphQL APIs for the gateway, with state."""

    def __init__(self, base: str = "https://api.github.com") -> None:
        self.base = base
        self.requests: list[httpx.Request] = []
        self.repo: dict[str, Any] = {
            "id": 42,
            "full_name": "acme/shop",
            "name": "shop",
            "default_branch": "main",
            "private": True,
            "archived": False,
            "fork": False,
            "url": f"{base}/repos/acme/shop",
            "permissions": {"admin": False, "maintain": True, "push": True, "triage": True, "pull": True},
            "allow_merge_commit": True,
            "allow_squash_merge": False,
            "allow_rebase_merge": False,
        }
        self.branches = {
            "main": (SHA_MAIN, False),
            "prod": (SHA_PROD, True),
            "hotfix/login": (SHA_MAIN, False),
        }
        self.protection = {
            "prod": {"required_linear_history": {"enabled": False}, "enforce_admins": {"enabled": True}}
        }
        self.files = {("main", ".github/opsgh.yml"): "branches:\n  production: prod\n"}
        self.issues = [
            {
                "number": n,
                "title": f"issue {n}",
                "state": "open",
                "labels": [{"name": "P0" if n % 50 == 0 else "bug"}],
                **({"pull_request": {"url": "x"}} if n % 7 == 0 else {}),
            }
            for n in range(1, 251)
        ]
        self.statuses: list[dict[str, Any]] = []
        self.refs = {"refs/heads/main": SHA_MAIN, "refs/heads/prod": SHA_PROD}
        self.user_status = 200
        self.graphql_answers: list[httpx.Response] = []
        self.routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("GET", r"/repos/acme/shop", self.get_repo),
            ("GET", r"/repos/acme/shop/branches/(?P<branch>.+)/protection", self.get_protection),
            ("GET", r"/repos/acme/shop/branches/(?P<branch>.+)", self.get_branch),
            ("GET", r"/repos/acme/shop/contents/(?P<path>.+)", self.get_contents),
            ("GET", r"/(?:repos/acme/shop|repositories/42)/issues", self.list_issues),
            ("POST", r"/repos/acme/shop/statuses/(?P<sha>[0-9a-f]{40})", self.create_status),
            ("GET", r"/repos/acme/shop/commits/(?P<ref>.+)/statuses", self.list_statuses),
            ("GET", r"/repos/acme/shop/git/ref/(?P<ref>.+)", self.get_ref),
            ("POST", r"/repos/acme/shop/git/refs", self.create_ref),
            ("PATCH", r"/repos/acme/shop/git/refs/(?P<ref>.+)", self.update_ref),
            ("GET", r"/repos/acme/shop/actions/permissions/workflow", self.workflow_permissions),
            ("GET", r"/rate_limit", self.rate_limit),
            ("GET", r"/user", self.user),
            ("POST", r"/graphql", self.graphql),
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        path = unquote(request.url.path)
        prefix = httpx.URL(self.base).path.rstrip("/")
        path = path[len(prefix) :] if path.startswith(prefix + "/") else path
        for method, pattern, handler in self.routes:
            match = re.fullmatch(pattern, path)
            if method == request.method and match:
                return handler(request, **match.groupdict())
        return _json(404, {"message": "Not Found"})

    # -- handlers

    def get_repo(self, request: httpx.Request) -> httpx.Response:
        return _json(200, self.repo)

    def get_branch(self, request: httpx.Request, branch: str) -> httpx.Response:
        if branch not in self.branches:
            return _json(404, {"message": "Branch not found"})
        sha, protected = self.branches[branch]
        return _json(200, {"name": branch, "commit": {"sha": sha, "url": "u"}, "protected": protected})

    def get_protection(self, request: httpx.Request, branch: str) -> httpx.Response:
        if branch == "secret":
            return _json(404, {"message": "Not Found"})
        if branch not in self.protection:
            return _json(404, {"message": "Branch not protected"})
        return _json(200, self.protection[branch])

    def get_contents(self, request: httpx.Request, path: str) -> httpx.Response:
        ref = request.url.params.get("ref", "main")
        if path == ".github":
            return _json(200, [{"name": "opsgh.yml", "type": "file"}])
        if (ref, path) not in self.files:
            return _json(404, {"message": "Not Found"})
        text = self.files[(ref, path)]
        if "raw" in request.headers["accept"]:
            return httpx.Response(200, text=text, headers={"content-type": "application/vnd.github.raw"})
        return _json(200, {"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"})

    def list_issues(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        per_page, page = int(params.get("per_page", "30")), int(params.get("page", "1"))
        wanted = set(params["labels"].split(",")) if "labels" in params else None
        matching = [i for i in self.issues if wanted is None or wanted & {lab["name"] for lab in i["labels"]}]
        chunk = matching[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(matching):
            query = f"per_page={per_page}&state={params.get('state', 'open')}&page={page + 1}"
            headers["link"] = f'<{self.base}/repositories/42/issues?{query}>; rel="next"'
        return _json(200, chunk, headers)

    def create_status(self, request: httpx.Request, sha: str) -> httpx.Response:
        body = json.loads(request.content)
        status = {
            "id": len(self.statuses) + 1,
            "state": body["state"],
            "context": body.get("context", "default"),
            "description": body.get("description"),
            "target_url": body.get("target_url"),
            "creator": {"login": "opsgh-bot"},
            "created_at": "2027-01-15T08:00:00Z",
            "sha": sha,
        }
        self.statuses.insert(0, status)
        return _json(201, status)

    def list_statuses(self, request: httpx.Request, ref: str) -> httpx.Response:
        return _json(200, self.statuses)

    def get_ref(self, request: httpx.Request, ref: str) -> httpx.Response:
        full = f"refs/{ref}"
        if full not in self.refs:
            return _json(404, {"message": "Not Found"})
        return _json(
            200,
            {
                "ref": full,
                "url": f"{self.base}/repos/acme/shop/git/{full}",
                "object": {"sha": self.refs[full], "type": "commit", "url": "u"},
            },
        )

    def create_ref(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["ref"] in self.refs:
            return _json(422, {"message": "Reference already exists"})
        self.refs[body["ref"]] = body["sha"]
        return _json(201, {"ref": body["ref"], "url": "u", "object": {"sha": body["sha"], "type": "commit"}})

    def update_ref(self, request: httpx.Request, ref: str) -> httpx.Response:
        body = json.loads(request.content)
        full = f"refs/{ref}"
        if full not in self.refs:
            return _json(422, {"message": "Reference does not exist"})
        self.refs[full] = body["sha"]
        return _json(200, {"ref": full, "url": "u", "object": {"sha": body["sha"], "type": "commit"}})

    def workflow_permissions(self, request: httpx.Request) -> httpx.Response:
        return _json(200, {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False})

    def rate_limit(self, request: httpx.Request) -> httpx.Response:
        return _json(
            200,
            {"resources": {"core": {"limit": 5000, "remaining": 4990, "reset": 1800003600}}},
            {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4990"},
        )

    def user(self, request: httpx.Request) -> httpx.Response:
        if self.user_status == 403:
            return _json(403, {"message": "Resource not accessible by integration"})
        return _json(
            200,
            {"login": "octocat"},
            {
                "x-oauth-scopes": "repo, workflow",
                "x-accepted-github-permissions": "allows_permissionless_access=true",
            },
        )

    def graphql(self, request: httpx.Request) -> httpx.Response:
        return self.graphql_answers.pop(0)


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway(fake: FakeGitHub, clock: FakeClock) -> GitHubGateway:
    return GitHubGateway.connect(
        token=TOKEN, clock=clock, jitter=None, http_transport=httpx.MockTransport(fake)
    )


# ----------------------------------------------------------------------------- the port


def test_the_gateway_implements_every_port_method() -> None:
    port_methods = {n for n in vars(GitHubPort) if not n.startswith("_")}
    assert port_methods
    missing = [n for n in port_methods if not callable(getattr(GitHubGateway, n, None))]
    assert missing == []


def test_ports_is_light() -> None:
    code = (
        "import sys, opsgh.ports; heavy = sorted(m for m in ('github', 'httpx', 'opsgh.github', 'jwt', "
        "'tenacity') if m in sys.modules); print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


# ----------------------------------------------------------------------------- repository and branches


def test_get_repository(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    assert gateway.get_repository("acme/shop") == RepoInfo(
        full_name="acme/shop",
        default_branch="main",
        private=True,
        archived=False,
        fork=False,
        permissions={"admin": False, "maintain": True, "push": True, "triage": True, "pull": True},
        allow_merge_commit=True,
        allow_squash_merge=False,
        allow_rebase_merge=False,
    )
    assert len(fake.requests) == 1


def test_get_repository_when_github_withholds_permissions_and_settings(
    gateway: GitHubGateway, fake: FakeGitHub
) -> None:
    for key in ("permissions", "allow_merge_commit", "allow_squash_merge", "allow_rebase_merge"):
        del fake.repo[key]
    info = gateway.get_repository("acme/shop")
    assert info.permissions is None
    assert info.allow_merge_commit is None
    assert len(fake.requests) == 1  # PyGithub did not try to "complete" the object with a second GET


def test_get_repository_missing(gateway: GitHubGateway) -> None:
    with pytest.raises(NotFound, match=r"404 Not Found \(GET /repos/acme/nope\)"):
        gateway.get_repository("acme/nope")


def test_get_branch(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    assert gateway.get_branch("acme/shop", "prod") == BranchInfo("prod", SHA_PROD, True)
    assert gateway.get_branch("acme/shop", "hotfix/login") == BranchInfo("hotfix/login", SHA_MAIN, False)
    assert gateway.get_branch("acme/shop", "nope") is None
    assert len(fake.requests) == 3  # one request each: no GET of the repository first


def test_get_file_text(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    assert (
        gateway.get_file_text("acme/shop", ".github/opsgh.yml", "main") == "branches:\n  production: prod\n"
    )
    sent = fake.requests[-1]
    assert sent.url.path == "/repos/acme/shop/contents/.github/opsgh.yml"
    assert sent.url.params["ref"] == "main"
    assert gateway.get_file_text("acme/shop", ".github/opsgh.yml", "prod") is None
    assert gateway.get_file_text("acme/shop", ".github", "main") is None  # a directory is not a file


def test_get_branch_protection(gateway: GitHubGateway) -> None:
    assert gateway.get_branch_protection("acme/shop", "prod") == {
        "required_linear_history": {"enabled": False},
        "enforce_admins": {"enabled": True},
    }
    assert gateway.get_branch_protection("acme/shop", "main") is None  # "Branch not protected"


def test_get_branch_protection_tells_not_protected_from_not_allowed(gateway: GitHubGateway) -> None:
    with pytest.raises(NotFound) as caught:
        gateway.get_branch_protection("acme/shop", "secret")  # plain "Not Found": no admin rights
    assert "admin rights" in caught.value.hint


def test_get_workflow_permissions(gateway: GitHubGateway) -> None:
    assert gateway.get_workflow_permissions("acme/shop") == {
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False,
    }


# ----------------------------------------------------------------------------- issues


def test_list_issues_paginates_across_three_pages(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    issues = gateway.list_issues("acme/shop")
    assert len(issues) == 250
    assert issues[0] == IssueInfo(1, "issue 1", ("bug",), "open", False)
    assert issues[6].is_pull_request
    assert [r.url.path for r in fake.requests] == [
        "/repos/acme/shop/issues",
        "/repositories/42/issues",
        "/repositories/42/issues",
    ]
    assert fake.requests[0].url.params["per_page"] == "100"
    assert gateway.ledger.count("GET") == 3
    assert [e.route for e in gateway.ledger.entries] == [
        "/repos/{owner}/{repo}/issues",
        "/repositories/{n}/issues",
        "/repositories/{n}/issues",
    ]


def test_list_issues_by_label(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    issues = gateway.list_issues("acme/shop", labels=("P0", "P1"))
    assert [i.number for i in issues] == [50, 100, 150, 200, 250]
    assert fake.requests[0].url.params["labels"] == "P0,P1"
    assert fake.requests[0].url.params["state"] == "open"


# ----------------------------------------------------------------------------- statuses and refs


def test_commit_statuses(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    created = gateway.create_commit_status(
        "acme/shop", SHA_MAIN, "failure", "opsgh/gate", "x" * 200, target_url="https://example.com/run/1"
    )
    assert created == StatusInfo(
        state="failure",
        context="opsgh/gate",
        description="x" * 140,
        target_url="https://example.com/run/1",
        id=1,
        creator="opsgh-bot",
        created_at="2027-01-15T08:00:00Z",
    )
    sent = json.loads(fake.requests[-1].content)
    assert sent == {
        "state": "failure",
        "context": "opsgh/gate",
        "description": "x" * 140,
        "target_url": "https://example.com/run/1",
    }
    gateway.create_commit_status("acme/shop", SHA_MAIN, "success", "opsgh/gate", "GO")
    assert [(s.state, s.description) for s in gateway.list_commit_statuses("acme/shop", "main")] == [
        ("success", "GO"),
        ("failure", "x" * 140),
    ]


def test_refs(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    assert gateway.get_ref("acme/shop", "heads/main") == RefInfo("refs/heads/main", SHA_MAIN)
    assert gateway.get_ref("acme/shop", "refs/heads/prod") == RefInfo("refs/heads/prod", SHA_PROD)
    assert gateway.get_ref("acme/shop", "heads/nope") is None
    assert gateway.create_ref("acme/shop", "heads/hotfix/x", SHA_PROD) == RefInfo(
        "refs/heads/hotfix/x", SHA_PROD
    )
    assert json.loads(fake.requests[-1].content) == {"ref": "refs/heads/hotfix/x", "sha": SHA_PROD}
    assert gateway.update_ref("acme/shop", "heads/hotfix/x", SHA_MAIN, force=True) == RefInfo(
        "refs/heads/hotfix/x", SHA_MAIN
    )
    assert fake.requests[-1].method == "PATCH"
    assert json.loads(fake.requests[-1].content) == {"sha": SHA_MAIN, "force": True}
    assert fake.refs["refs/heads/hotfix/x"] == SHA_MAIN


def test_create_ref_that_exists_is_a_validation_error(gateway: GitHubGateway) -> None:
    with pytest.raises(GitHubError, match="Reference already exists"):
        gateway.create_ref("acme/shop", "refs/heads/main", SHA_PROD)


# ----------------------------------------------------------------------------- token report


def test_token_report_for_a_classic_pat(gateway: GitHubGateway) -> None:
    report = gateway.token_report()
    assert report.kind == "classic-pat"
    assert report.login == "octocat"
    assert report.scopes == ("repo", "workflow")
    assert report.accepted_permissions == "allows_permissionless_access=true"
    assert (report.rate_limit_remaining, report.rate_limit_limit, report.rate_limit_reset) == (
        4990,
        5000,
        1800003600,
    )


def test_token_report_tolerates_user_refused_to_installation_tokens(
    gateway: GitHubGateway, fake: FakeGitHub
) -> None:
    fake.user_status = 403
    report = gateway.token_report()
    assert report.login is None
    assert report.scopes is None
    assert report.rate_limit_remaining == 4990


def test_token_report_raises_on_a_bad_token(clock: FakeClock) -> None:
    gateway = GitHubGateway.connect(
        token=TOKEN,
        clock=clock,
        http_transport=httpx.MockTransport(lambda r: _json(401, {"message": "Bad credentials"})),
    )
    with pytest.raises(Unauthorized) as caught:
        gateway.token_report()
    assert TOKEN not in str(caught.value)


# ----------------------------------------------------------------------------- GraphQL


def pr_data() -> dict[str, Any]:
    return {
        "repository": {
            "pullRequest": {
                "number": 7,
                "state": "OPEN",
                "isDraft": False,
                "headRefOid": SHA_MAIN,
                "headRefName": "main",
                "baseRefName": "prod",
                "mergeable": "MERGEABLE",
                "mergeStateStatus": "CLEAN",
                "reviewDecision": "APPROVED",
                "labels": {"nodes": [{"name": "release"}]},
                "commits": {
                    "nodes": [{"commit": {"oid": SHA_MAIN, "statusCheckRollup": {"state": "SUCCESS"}}}]
                },
            }
        }
    }


def test_graphql_document_is_loaded_by_name() -> None:
    document = load_document("ship_pull_request")
    assert operation_of(document) == ("query", "ShipPullRequest")
    # the fragments it spreads follow it, once each
    assert document.count("fragment PullRequestFields on PullRequest {") == 1
    assert load_document("revert_pull_request").count("fragment PullRequestFields on PullRequest {") == 1
    with pytest.raises(ValueError, match="no GraphQL document"):
        load_document("no_such_document")
    with pytest.raises(ValueError, match="not a GraphQL document name"):
        load_document("../secrets")


def test_graphql_query(gateway: GitHubGateway, fake: FakeGitHub) -> None:
    fake.graphql_answers.append(_json(200, {"data": pr_data()}))
    data = gateway.graphql("ship_pull_request", {"owner": "acme", "name": "shop", "number": 7})
    assert data["repository"]["pullRequest"]["mergeStateStatus"] == "CLEAN"
    sent = json.loads(fake.requests[-1].content)
    assert sent["variables"] == {"owner": "acme", "name": "shop", "number": 7}
    assert sent["operationName"] == "ShipPullRequest"
    assert "pullRequest(number: $number)" in sent["query"]
    assert str(fake.requests[-1].url) == "https://api.github.com/graphql"
    entry = gateway.ledger.entries[-1]
    assert (entry.method, entry.route, entry.operation) == ("POST", "/graphql", "ShipPullRequest")
    assert "(ShipPullRequest)" in gateway.ledger.summary()


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [("NOT_FOUND", NotFound), ("FORBIDDEN", Forbidden), ("SOMETHING_ELSE", GitHubError)],
)
def test_graphql_errors_in_a_200_are_typed(
    gateway: GitHubGateway, fake: FakeGitHub, kind: str, error_type: type[Exception]
) -> None:
    fake.graphql_answers.append(
        _json(
            200,
            {
                "data": {"repository": {"pullRequest": None}},
                "errors": [
                    {
                        "type": kind,
                        "path": ["repository", "pullRequest"],
                        "message": "Could not resolve to a PullRequest with the number of 7.",
                    }
                ],
            },
        )
    )
    with pytest.raises(error_type) as caught:
        gateway.graphql("ship_pull_request", {"owner": "acme", "name": "shop", "number": 7})
    assert type(caught.value) is error_type
    assert caught.value.message == (
        f"GitHub GraphQL: {kind} (ShipPullRequest): Could not resolve to a PullRequest with the number of 7."
    )


def test_graphql_rate_limited_waits_for_the_reset(
    gateway: GitHubGateway, fake: FakeGitHub, clock: FakeClock
) -> None:
    reset = str(int(clock.now()) + 30)
    fake.graphql_answers += [
        _json(
            200,
            {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        ),
        _json(200, {"data": pr_data()}),
    ]
    assert gateway.graphql("ship_pull_request", {"owner": "acme", "name": "shop", "number": 7})
    assert clock.sleeps == [31.0]


def test_graphql_rate_limited_too_long(gateway: GitHubGateway, fake: FakeGitHub, clock: FakeClock) -> None:
    fake.graphql_answers.append(
        _json(
            200,
            {"errors": [{"type": "RATE_LIMITED", "message": "limit"}]},
            {"x-ratelimit-reset": str(int(clock.now()) + 7200)},
        )
    )
    with pytest.raises(RateLimited, match="2027-01-15 10:00:00 UTC"):
        gateway.graphql("ship_pull_request", {"owner": "acme", "name": "shop", "number": 7})
    assert clock.sleeps == []


def test_graphql_query_is_retried_but_a_mutation_is_not(
    gateway: GitHubGateway, fake: FakeGitHub, clock: FakeClock
) -> None:
    fake.graphql_answers += [httpx.Response(502), _json(200, {"data": pr_data()})]
    gateway.graphql("ship_pull_request", {"owner": "acme", "name": "shop", "number": 7})
    assert clock.sleeps == [1.0]
    fake.graphql_answers += [httpx.Response(502)]
    mutation = (
        "mutation RevertPullRequest($id: ID!) "
        "{ revertPullRequest(input: {pullRequestId: $id}) { clientMutationId } }"
    )
    with pytest.raises(AmbiguousWrite):
        gateway._graphql.execute_document(mutation, {"id": "PR_1"})
    assert gateway.ledger.count("POST") == 3


# ----------------------------------------------------------------------------- GHES and the ledger


def test_on_ghes_everything_goes_under_api_v3(clock: FakeClock) -> None:
    fake = FakeGitHub(base="https://ghe.example/api/v3")
    gateway = GitHubGateway.connect(
        token=TOKEN,
        api_url="https://ghe.example/api/v3",
        clock=clock,
        http_transport=httpx.MockTransport(fake),
    )
    gateway.get_repository("acme/shop")
    assert len(gateway.list_issues("acme/shop")) == 250
    assert {r.url.host for r in fake.requests} == {"ghe.example"}
    assert all(r.url.path.startswith("/api/v3/") for r in fake.requests)
    assert gateway.urls.graphql == "https://ghe.example/api/graphql"
    assert [e.path.split("?")[0] for e in gateway.ledger.entries] == [
        "/repos/acme/shop",
        "/repos/acme/shop/issues",
        "/repositories/42/issues",
        "/repositories/42/issues",
    ]


def test_the_ledger_counts_a_run(gateway: GitHubGateway) -> None:
    gateway.get_repository("acme/shop")
    gateway.get_branch("acme/shop", "main")
    gateway.get_branch("acme/shop", "prod")
    gateway.create_commit_status("acme/shop", SHA_MAIN, "pending", "opsgh/gate", "evaluating")
    ledger = gateway.ledger
    assert [(e.method, e.route, e.status) for e in ledger.entries] == [
        ("GET", "/repos/{owner}/{repo}", 200),
        ("GET", "/repos/{owner}/{repo}/branches/{branch}", 200),
        ("GET", "/repos/{owner}/{repo}/branches/{branch}", 200),
        ("POST", "/repos/{owner}/{repo}/statuses/{sha}", 201),
    ]
    assert ledger.count() == 4
    assert ledger.count("POST") == 1
    assert ledger.count(route="/repos/{owner}/{repo}/branches/{branch}") == 2
    assert TOKEN not in ledger.summary() + ledger.as_json() + repr(gateway)
