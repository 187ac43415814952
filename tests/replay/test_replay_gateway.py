"""Real GitHub answers (npm @octokit/fixtures, recorded against api.github.com) through `GitHubGateway`.

Each test calls what an opsgh command would call and asserts what a user would notice: the values
parsed from GitHub's real answers, the typed errors, and how many requests it took (the ledger), so
that PyGithub's lazy "completion" GETs or a retry of a refused write would show. The `replay` fixture
(conftest.py) also checks every exchange against GitHub's OpenAPI description.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pytest

from opsgh.errors import NotFound, ValidationFailed
from opsgh.ports import RefInfo, RepoInfo, StatusInfo

if TYPE_CHECKING:
    from replay.conftest import Replay

OpenReplay = Callable[..., AbstractContextManager["Replay"]]
SHA1 = "0000000000000000000000000000000000000001"
SHA2 = "0000000000000000000000000000000000000002"


def _sent_json(replay: Replay, index: int) -> Any:
    body = replay.exchanges[index].request_body
    return json.loads(body) if body else None


def _statuses(replay: Replay) -> list[int | None]:
    return [entry.status for entry in replay.gateway.ledger]


def _assert_single_page(responses: list[dict[str, Any]]) -> None:
    """The premise for ignoring `per_page`: GitHub's answer without it fitted in one page."""
    assert responses
    for response in responses:
        assert not any(name.lower() == "link" for name in response["headers"])
        assert len(json.loads(response["body"]["string"])) < 30  # GitHub's default page size


# ----------------------------------------------------------------------------- repository


def test_repository_info_is_parsed_from_one_request(replay: OpenReplay) -> None:
    with replay("get-repository") as r:
        info = r.gateway.get_repository("octokit-fixture-org/hello-world")
    assert info == RepoInfo(
        full_name="octokit-fixture-org/hello-world", default_branch="master", private=False, archived=False,
        fork=False, permissions={"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
        allow_merge_commit=True, allow_squash_merge=True, allow_rebase_merge=True,
        topics=("fixtures", "hello", "hello-world"),  # what `opsgh protect --org --topic` filters on
    )
    # No lazy completion GET by PyGithub: the repository object costs one request.
    assert [(e.method, e.path) for e in r.gateway.ledger] == [("GET", "/repos/octokit-fixture-org/hello-world")]


def test_renamed_repository_redirects_are_followed_for_reads_and_writes(replay: OpenReplay) -> None:
    """GitHub answers 301 (GET) and 307 (PATCH) for a renamed repository; both must reach the new place."""
    old = "/repos/octokit-fixture-org/rename-repository"
    with replay("rename-repository") as r:
        renamed = r.gateway.transport.request("PATCH", old, json={"name": "rename-repository-newname"}).json()
        info = r.gateway.get_repository("octokit-fixture-org/rename-repository")
        updated = r.gateway.transport.request(
            "PATCH", old, json={"name": "rename-repository-newname", "description": "test description"}).json()
        sent_again = _sent_json(r, 4)
    assert renamed["full_name"] == "octokit-fixture-org/rename-repository-newname"
    assert info.full_name == "octokit-fixture-org/rename-repository-newname"
    assert info.default_branch == "main"
    # The 307 was re-sent verbatim (method and body) to the Location, and its answer is the repository.
    assert updated["description"] == "test description"
    assert sent_again == {"name": "rename-repository-newname", "description": "test description"}
    assert [(e.method, e.path, e.status) for e in r.gateway.ledger] == [
        ("PATCH", old, 200),
        ("GET", old, 301),
        ("GET", "/repositories/1000", 200),
        ("PATCH", old, 307),
        ("PATCH", "/repositories/1000", 200),
    ]


def test_renamed_repository_redirect_is_followed_by_raw_reads(replay: OpenReplay) -> None:
    """Raw reads (file text, protection, pagination) must not take GitHub's 301 body for the answer."""
    with replay("rename-repository") as r:
        data = r.gateway.transport.get_json("/repos/octokit-fixture-org/rename-repository")
    assert data["full_name"] == "octokit-fixture-org/rename-repository-newname"
    assert _statuses(r) == [301, 200]


def test_redirect_off_the_api_host_is_refused_not_followed() -> None:
    """A Location on another host must never receive the token (not a recording: no such answer exists)."""
    import httpx

    from opsgh.clock import FakeClock
    from opsgh.errors import GitHubError
    from opsgh.github.gateway import GitHubGateway

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(301, headers={"location": "https://elsewhere.example/repositories/1"},
                              json={"message": "Moved Permanently"})

    gateway = GitHubGateway.connect(token="test-token", api_url="http://127.0.0.1:9", clock=FakeClock(),
                                    jitter=None, http_transport=httpx.MockTransport(answer))
    with pytest.raises(GitHubError, match=r"refusing to send the GitHub token to https://elsewhere\.example"):
        gateway.transport.get_json("/repos/o/r")
    assert seen == ["http://127.0.0.1:9/repos/o/r"]


# ----------------------------------------------------------------------------- branch protection


def test_branch_protection_unprotected_then_applied(replay: OpenReplay) -> None:
    path = "/repos/octokit-fixture-org/branch-protection/branches/main/protection"
    with replay("branch-protection") as r:
        before = r.gateway.get_branch_protection("octokit-fixture-org/branch-protection", "main")
        minimal = r.gateway.transport.request("PUT", path, json=r.recorded_request_body(1), idempotent=True).json()
        full = r.gateway.transport.request("PUT", path, json=r.recorded_request_body(2), idempotent=True).json()
        removed = r.gateway.transport.request("DELETE", path)
    # "Branch not protected" (a real 404) means no protection, not an error.
    assert before is None
    assert "required_status_checks" not in minimal
    assert minimal["enforce_admins"]["enabled"] is False
    checks = full["required_status_checks"]
    assert (checks["strict"], checks["contexts"]) == (True, ["foo/bar"])
    assert [c["context"] for c in checks["checks"]] == ["foo/bar"]
    assert full["enforce_admins"]["enabled"] is True
    reviews = full["required_pull_request_reviews"]
    assert (reviews["required_approving_review_count"], reviews["dismiss_stale_reviews"]) == (1, True)
    assert [u["login"] for u in full["restrictions"]["users"]] == ["octokit-fixture-user-a"]
    assert [t["slug"] for t in full["restrictions"]["teams"]] == ["a-team"]
    assert (removed.status, removed.body) == (204, b"")
    assert _statuses(r) == [404, 200, 200, 204]


def test_real_404_is_a_one_line_not_found_and_not_retried(replay: OpenReplay) -> None:
    path = "/repos/octokit-fixture-org/branch-protection/branches/main/protection"
    with replay("branch-protection") as r, pytest.raises(NotFound) as caught:
        r.gateway.transport.request("GET", path)
    err = caught.value
    assert err.message == f"GitHub: 404 Not Found (GET {path}): Branch not protected"
    assert "\n" not in err.message
    assert (err.status, err.method, err.path) == (404, "GET", path)
    assert err.documentation_url == "https://docs.github.com/rest/reference/repos#get-branch-protection"
    assert err.hint
    assert len(r.gateway.ledger) == 1


# ----------------------------------------------------------------------------- pagination, issues


def test_pagination_follows_the_real_link_headers_to_the_end(replay: OpenReplay) -> None:
    with replay("paginate-issues") as r:
        issues = list(r.gateway.transport.paginate("/repos/octokit-fixture-org/paginate-issues/issues",
                                                   {"per_page": 3}))
    recorded_total = sum(len(json.loads(resp["body"]["string"])) for resp in r.cassette.responses)
    assert recorded_total == 13
    assert len(issues) == recorded_total
    assert [issue["number"] for issue in issues] == list(range(13, 0, -1))
    # The Link URLs point at /repositories/{id}/...: followed as given, query included, page by page.
    assert [e.path for e in r.gateway.ledger] == [
        "/repos/octokit-fixture-org/paginate-issues/issues?per_page=3",
        *(f"/repositories/1000/issues?page={page}&per_page=3" for page in range(2, 6)),
    ]


def test_search_results_are_read_from_the_items_key(replay: OpenReplay) -> None:
    with replay("search-issues", omitted_query={"per_page": "100"}) as r:
        found = list(r.gateway.transport.paginate(
            "/search/issues", {"q": "sesame repo:octokit-fixture-org/search-issues"}, items_key="items"))
    assert [(issue["number"], issue["title"]) for issue in found] == [
        (2, "Sesame seeds split without a pop!"), (1, "The doors don’t open")]
    assert json.loads(r.cassette.responses[0]["body"]["string"])["total_count"] == len(found)
    assert len(r.gateway.ledger) == 1


# ----------------------------------------------------------------------------- errors


def test_validation_failed_carries_githubs_errors_and_is_not_retried(replay: OpenReplay) -> None:
    path = "/repos/octokit-fixture-org/errors/labels"
    with replay("errors") as r, pytest.raises(ValidationFailed) as caught:
        r.gateway.transport.request("POST", path, json={"name": "foo", "color": "invalid"})
    err = caught.value
    assert err.errors == ({"resource": "Label", "code": "invalid", "field": "color"},)
    assert err.status == 422
    assert err.message == f"GitHub: 422 Unprocessable Entity (POST {path}): Validation Failed: Label.color invalid"
    assert len(r.gateway.ledger) == 1


# ----------------------------------------------------------------------------- refs


def test_git_refs_created_updated_listed_deleted(replay: OpenReplay) -> None:
    repo = "octokit-fixture-org/git-refs"
    with replay("git-refs") as r:
        before = r.gateway.transport.request("GET", f"/repos/{repo}/git/refs/").json()
        created = r.gateway.create_ref(repo, "heads/test", SHA2)
        updated = r.gateway.update_ref(repo, "refs/heads/test", SHA1)
        after = r.gateway.transport.request("GET", f"/repos/{repo}/git/refs/").json()
        deleted = r.gateway.transport.request("DELETE", f"/repos/{repo}/git/refs/heads/test")
        create_body, update_body = _sent_json(r, 1), _sent_json(r, 2)
    assert [ref["ref"] for ref in before] == ["refs/heads/main"]
    assert created == RefInfo(ref="refs/heads/test", sha=SHA2)
    assert create_body == r.recorded_request_body(1)  # what GitHub accepted
    assert updated == RefInfo(ref="refs/heads/test", sha=SHA1)
    assert update_body == {"sha": SHA1, "force": False}
    assert {ref["ref"]: ref["object"]["sha"] for ref in after} == {
        "refs/heads/main": SHA1, "refs/heads/test": SHA1}
    assert deleted.status == 204
    # PyGithub's GitRef is built from the POST answer alone: no completion GET.
    assert [(e.method, e.status) for e in r.gateway.ledger] == [
        ("GET", 200), ("POST", 201), ("PATCH", 200), ("GET", 200), ("DELETE", 204)]


# ----------------------------------------------------------------------------- statuses


def test_commit_statuses_created_listed_and_combined(replay: OpenReplay) -> None:
    repo = "octokit-fixture-org/create-status"
    with replay("create-status", omitted_query={"per_page": "100"}) as r:
        failure = r.gateway.create_commit_status(repo, SHA1, "failure", "example/1", "create-status failure test",
                                                 "https://example.com")
        success = r.gateway.create_commit_status(repo, SHA1, "success", "example/2", "create-status success test",
                                                 "https://example.com")
        listed = r.gateway.list_commit_statuses(repo, SHA1)
        combined = r.gateway.transport.get_json(f"/repos/{repo}/commits/{SHA1}/status")
        sent = [_sent_json(r, 0), _sent_json(r, 1)]
    _assert_single_page(r.recorded_responses("GET", f"/repos/{repo}/commits/{SHA1}/statuses"))
    assert failure == StatusInfo(state="failure", context="example/1", description="create-status failure test",
                                 target_url="https://example.com", id=1000, creator="octokit-fixture-user-a",
                                 created_at="2017-10-10T16:00:00Z")
    assert (success.state, success.context, success.id) == ("success", "example/2", 1001)
    # The bodies opsgh sends are the ones GitHub accepted.
    assert sent == [r.recorded_request_body(0), r.recorded_request_body(1)]
    assert [(s.state, s.context) for s in listed] == [("success", "example/2"), ("failure", "example/1")]
    # The combined state is the worst of the latest statuses per context.
    assert (combined["state"], combined["total_count"]) == ("failure", 2)
    assert len(r.gateway.ledger) == 4


# ----------------------------------------------------------------------------- contents


def test_file_text_and_directory(replay: OpenReplay) -> None:
    repo = "octokit-fixture-org/hello-world"
    # Octokit asked without ?ref=, i.e. for the default branch, which is master (get-repository.yaml).
    with replay("get-content", omitted_query={"ref": "master"}) as r:
        directory = r.gateway.get_file_text(repo, "/", "master")
        readme = r.gateway.get_file_text(repo, "README.md", "master")
    assert directory is None  # a directory is not a file, even under the raw media type
    assert readme == "# hello-world"
    assert [e.path for e in r.gateway.ledger] == [f"/repos/{repo}/contents/?ref=master",
                                                  f"/repos/{repo}/contents/README.md?ref=master"]


# ----------------------------------------------------------------------------- labels


def test_labels_listed_created_renamed_deleted(replay: OpenReplay) -> None:
    path = "/repos/octokit-fixture-org/labels/labels"
    with replay("labels", omitted_query={"per_page": "100"}) as r:
        names = [label["name"] for label in r.gateway.transport.paginate(path)]
        created = r.gateway.transport.request("POST", path, json={"name": "test-label", "color": "663399"}).json()
        fetched = r.gateway.transport.get_json(f"{path}/test-label")
        renamed = r.gateway.transport.request("PATCH", f"{path}/test-label",
                                              json={"new_name": "test-label-updated", "color": "BADA55"}).json()
        deleted = r.gateway.transport.request("DELETE", f"{path}/test-label-updated")
    _assert_single_page(r.recorded_responses("GET", path))
    assert names == ["bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted",
                     "invalid", "question", "wontfix"]
    assert (created["name"], created["color"]) == ("test-label", "663399")
    assert fetched["id"] == created["id"]
    assert (renamed["name"], renamed["color"]) == ("test-label-updated", "BADA55")
    assert deleted.status == 204
    assert len(r.gateway.ledger) == 5


def test_labels_added_to_a_new_issue(replay: OpenReplay) -> None:
    base = "/repos/octokit-fixture-org/add-labels-to-issue/issues"
    with replay("add-labels-to-issue") as r:
        issue = r.gateway.transport.request("POST", base, json={"title": "Issue without a label"}).json()
        labels = r.gateway.transport.request("POST", f"{base}/{issue['number']}/labels",
                                             json={"labels": ["Foo", "bAr", "baZ"]}).json()
    assert (issue["number"], issue["labels"]) == (1, [])
    assert [label["name"] for label in labels] == ["Foo", "bAr", "baZ"]
    assert len(r.gateway.ledger) == 2
