"""Issues, labels, comments, reactions and issue search in the sandbox, over HTTP, contract-checked."""

from __future__ import annotations

import re

import httpx
import pytest
from sandbox.issues_support import Shop, make_shop, open_pull
from sandbox.support import ContractRecorder

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox
from opsgh.sandbox.routes.comments import COMMENTS, IssueComment
from opsgh.sandbox.routes.issues import ISSUES, LABELS, Issue, Label

LIMIT = 65536


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    return make_shop(sandbox)


def links(response: httpx.Response) -> dict[str, str]:
    header = response.headers.get("link", "")
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header)}


def create_issue(shop: Shop, title: str, **fields: object) -> dict[str, object]:
    response = shop.writer.post("/repos/acme/shop/issues", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


# ---------------------------------------------------------------------------------------------------
# Issues


def test_issue_lifecycle(sandbox: Sandbox, shop: Shop) -> None:
    unassignable = shop.writer.post("/repos/acme/shop/issues", json={"title": "x", "assignees": ["alice", "dave"]})
    assert unassignable.status_code == 422  # dave is no collaborator
    assert unassignable.json()["errors"] == [{"resource": "Issue", "field": "assignees", "code": "invalid",
                                              "value": "dave"}]
    created = shop.writer.post("/repos/acme/shop/issues", json={
        "title": "Checkout fails", "body": "Steps...", "labels": ["bug", "P1"], "assignees": ["alice"]})
    assert created.status_code == 201
    issue = created.json()
    assert issue["number"] == 1
    assert issue["state"] == "open"
    assert issue["user"]["login"] == "bob"
    assert [label["name"] for label in issue["labels"]] == ["bug", "P1"]  # P1 did not exist: created
    assert [a["login"] for a in issue["assignees"]] == ["alice"]
    assert issue["assignee"]["login"] == "alice"
    assert created.headers["location"] == issue["url"]
    assert "pull_request" not in issue

    updated = shop.writer.patch("/repos/acme/shop/issues/1", json={"title": "Checkout fails on Safari"}).json()
    assert updated["title"] == "Checkout fails on Safari"
    assert updated["body"] == "Steps..."

    closed = shop.admin.patch("/repos/acme/shop/issues/1", json={"state": "closed", "state_reason": "not_planned"})
    assert closed.status_code == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["state_reason"] == "not_planned"
    assert closed.json()["closed_by"]["login"] == "alice"
    assert closed.json()["closed_at"] is not None
    assert shop.writer.get("/repos/acme/shop/issues").json() == []  # open issues by default
    reopened = shop.writer.patch("/repos/acme/shop/issues/1", json={"state": "open"}).json()
    assert (reopened["state"], reopened["state_reason"], reopened["closed_at"]) == ("open", "reopened", None)
    assert shop.anonymous.get("/repos/acme/shop/issues/1").json()["title"] == "Checkout fails on Safari"
    assert shop.writer.get("/repos/acme/shop/issues/99").status_code == 404


def test_readers_open_issues_but_cannot_label_or_edit_others(sandbox: Sandbox, shop: Shop,
                                                             sandbox_contract: ContractRecorder) -> None:
    issue = shop.reader.post("/repos/acme/shop/issues", json={"title": "Typo", "labels": ["bug"],
                                                                 "assignees": ["alice"]})
    assert issue.status_code == 201
    assert issue.json()["labels"] == []  # silently dropped without triage access, like GitHub
    assert issue.json()["assignees"] == []
    assert shop.reader.patch("/repos/acme/shop/issues/1", json={"body": "my own issue"}).status_code == 200
    create_issue(shop, "Bob's issue")
    refused = shop.reader.patch("/repos/acme/shop/issues/2", json={"title": "hijacked"})
    assert refused.status_code == 403
    assert shop.anonymous.post("/repos/acme/shop/issues", json={"title": "x"}).status_code == 401
    outsider = shop.stranger.post("/repos/acme/shop/issues", json={"title": "Feature request"})
    assert outsider.status_code == 201  # any signed-in user may open issues on a public repository
    assert outsider.json()["author_association"] == "NONE"
    sandbox.create_repo("acme", "private", private=True, collaborators={"alice": "admin"})
    assert shop.stranger.post("/repos/acme/private/issues", json={"title": "x"}).status_code == 404
    sandbox_contract.expect("request body $.title", operation="POST /repos/{owner}/{repo}/issues")
    missing = shop.writer.post("/repos/acme/shop/issues", json={"body": "no title"})
    assert missing.status_code == 422
    assert missing.json()["message"] == 'Invalid request.\n\n"title" wasn\'t supplied.'


def test_list_issues_filters_sorts_and_pages(sandbox: Sandbox, shop: Shop, sandbox_clock: FakeClock) -> None:
    for number in range(1, 8):
        labels = ["release"] + (["P0"] if number % 2 else [])
        create_issue(shop, f"Issue {number}", labels=labels)
        sandbox_clock.advance(60)
    shop.admin.patch("/repos/acme/shop/issues/3", json={"state": "closed"})
    both = shop.writer.get("/repos/acme/shop/issues", params={"labels": "release,P0"}).json()
    assert [i["number"] for i in both] == [7, 5, 1]  # all labels must match; open only; newest first
    assert [i["number"] for i in shop.writer.get("/repos/acme/shop/issues", params={
        "labels": "p0", "state": "all", "direction": "asc"}).json()] == [1, 3, 5, 7]
    assert [i["number"] for i in shop.writer.get("/repos/acme/shop/issues", params={"state": "closed"}).json()] == [3]
    first = shop.writer.get("/repos/acme/shop/issues", params={"per_page": 4})
    assert [i["number"] for i in first.json()] == [7, 6, 5, 4]
    assert links(first)["next"].endswith("per_page=4&page=2")
    second = shop.writer.get(links(first)["next"])
    assert [i["number"] for i in second.json()] == [2, 1]
    shop.writer.patch("/repos/acme/shop/issues/2", json={"body": "touched"})
    recent = shop.writer.get("/repos/acme/shop/issues", params={"sort": "updated"}).json()
    assert recent[0]["number"] == 2
    by_bob = shop.writer.get("/repos/acme/shop/issues", params={"creator": "bob", "state": "all"}).json()
    assert len(by_bob) == 7
    assert shop.writer.get("/repos/acme/shop/issues", params={"creator": "carol"}).json() == []


def test_pull_requests_are_issues_with_a_pull_request_key(sandbox: Sandbox, shop: Shop) -> None:
    create_issue(shop, "An issue")
    sandbox.commit("acme", "shop", "feature", {"f.py": "x\n"}, "Feature", author="bob")
    number = open_pull(shop, "feature", "main", "Add feature")
    assert number == 2  # one number sequence for issues and pull requests
    listed = shop.writer.get("/repos/acme/shop/issues").json()
    assert [(i["number"], "pull_request" in i) for i in listed] == [(2, True), (1, False)]
    pull = shop.writer.get(f"/repos/acme/shop/issues/{number}").json()
    assert pull["title"] == "Add feature"
    assert pull["pull_request"]["url"].endswith(f"/repos/acme/shop/pulls/{number}")
    labelled = shop.writer.post(f"/repos/acme/shop/issues/{number}/labels", json={"labels": ["release"]})
    assert [label["name"] for label in labelled.json()] == ["release"]
    assert shop.writer.post(f"/repos/acme/shop/issues/{number}/comments", json={"body": "LGTM"}).status_code == 201
    assert shop.writer.get(f"/repos/acme/shop/issues/{number}").json()["comments"] == 1
    renamed = shop.writer.patch(f"/repos/acme/shop/issues/{number}", json={"title": "Add the feature"})
    assert renamed.json()["title"] == "Add the feature"


# ---------------------------------------------------------------------------------------------------
# Labels


def test_repository_labels_crud(sandbox: Sandbox, shop: Shop) -> None:
    defaults = shop.reader.get("/repos/acme/shop/labels").json()
    assert len(defaults) == 9
    assert all(label["default"] for label in defaults)
    created = shop.writer.post("/repos/acme/shop/labels", json={"name": "needs review", "color": "#FBCA04",
                                                                 "description": "Waiting for a reviewer"})
    assert created.status_code == 201
    assert created.json()["color"] == "fbca04"
    duplicate = shop.writer.post("/repos/acme/shop/labels", json={"name": "Needs Review"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [{"resource": "Label", "field": "name", "code": "already_exists"}]
    assert shop.writer.post("/repos/acme/shop/labels", json={"name": "x", "color": "red"}).status_code == 422
    assert shop.reader.post("/repos/acme/shop/labels", json={"name": "mine"}).status_code == 403
    assert shop.reader.get("/repos/acme/shop/labels/needs%20review").json()["name"] == "needs review"
    renamed = shop.writer.patch("/repos/acme/shop/labels/needs%20review", json={"new_name": "area/checkout",
                                                                               "color": "00ff00"})
    assert renamed.json()["name"] == "area/checkout"
    assert renamed.json()["url"].endswith("/labels/area%2Fcheckout")
    create_issue(shop, "Labelled", labels=["area/checkout", "bug"])
    assert shop.writer.get("/repos/acme/shop/labels/area%2Fcheckout").status_code == 200
    assert shop.writer.delete("/repos/acme/shop/labels/area%2Fcheckout").status_code == 204
    assert shop.writer.get("/repos/acme/shop/labels/area%2Fcheckout").status_code == 404
    assert [label["name"] for label in shop.writer.get("/repos/acme/shop/issues/1").json()["labels"]] == ["bug"]


def test_labels_of_an_issue(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    create_issue(shop, "Release blocker")
    added = shop.writer.post("/repos/acme/shop/issues/1/labels", json={"labels": ["P0", "bug"]})
    assert added.status_code == 200
    assert [label["name"] for label in added.json()] == ["P0", "bug"]
    # A bare array: GitHub accepts it (documented in prose), the description only lists the object form.
    sandbox_contract.expect("request body $", operation="POST /repos/{owner}/{repo}/issues/{issue_number}/labels")
    again = shop.writer.post("/repos/acme/shop/issues/1/labels", json=["bug", "release"])
    assert [label["name"] for label in again.json()] == ["P0", "bug", "release"]
    assert shop.reader.post("/repos/acme/shop/issues/1/labels", json={"labels": ["x"]}).status_code == 403
    replaced = shop.writer.put("/repos/acme/shop/issues/1/labels", json={"labels": ["release"]})
    assert [label["name"] for label in replaced.json()] == ["release"]
    removed = shop.writer.delete("/repos/acme/shop/issues/1/labels/release")
    assert removed.status_code == 200
    assert removed.json() == []
    absent = shop.writer.delete("/repos/acme/shop/issues/1/labels/release")
    assert absent.status_code == 404
    assert absent.json()["message"] == "Label does not exist"
    shop.writer.post("/repos/acme/shop/issues/1/labels", json={"labels": ["a", "b"]})
    assert shop.writer.delete("/repos/acme/shop/issues/1/labels").status_code == 204
    assert shop.writer.get("/repos/acme/shop/issues/1/labels").json() == []
    assert len(shop.writer.get("/repos/acme/shop/labels").json()) == 9 + 4  # P0, release, a, b were created


# ---------------------------------------------------------------------------------------------------
# Comments and reactions


def test_body_limit_is_65536_characters(sandbox: Sandbox, shop: Shop) -> None:
    create_issue(shop, "Big")
    at_limit = shop.writer.post("/repos/acme/shop/issues/1/comments", json={"body": "x" * LIMIT})
    assert at_limit.status_code == 201
    too_long = shop.writer.post("/repos/acme/shop/issues/1/comments", json={"body": "x" * (LIMIT + 1)})
    assert too_long.status_code == 422
    assert too_long.json()["message"] == "Validation Failed"
    assert too_long.json()["errors"] == [{"resource": "IssueComment", "field": "data", "code": "unprocessable",
                                          "message": "Body is too long (maximum is 65536 characters)"}]
    edit = shop.writer.patch(f"/repos/acme/shop/issues/comments/{at_limit.json()['id']}",
                             json={"body": "y" * (LIMIT + 1)})
    assert edit.status_code == 422
    issue = shop.writer.post("/repos/acme/shop/issues", json={"title": "t", "body": "x" * (LIMIT + 1)})
    assert issue.status_code == 422
    assert issue.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    blank = shop.writer.post("/repos/acme/shop/issues/1/comments", json={"body": "  "})
    assert blank.json()["errors"][0]["message"] == "Body cannot be blank"


def test_comments_page_with_github_links(sandbox: Sandbox, shop: Shop) -> None:
    create_issue(shop, "Chatty")
    posted = shop.reader.post("/repos/acme/shop/issues/1/comments", json={"body": "first!"})
    assert posted.status_code == 201
    assert posted.json()["user"]["login"] == "carol"  # the author is the token's user
    assert posted.json()["author_association"] == "COLLABORATOR"
    with sandbox.app.lock:  # 249 more, straight into the state: the paging is what is tested here
        repo = sandbox.repo("acme", "shop")
        comments = repo.items(COMMENTS)
        for index in range(249):
            comment_id = sandbox.state.next_id("issue_comment")
            comments[comment_id] = IssueComment(comment_id, 1, "bob", f"comment {index}", 1000.0 + index,
                                                1000.0 + index)
    first = shop.reader.get("/repos/acme/shop/issues/1/comments", params={"per_page": 100})
    assert len(first.json()) == 100
    assert first.json()[0]["body"] == "first!"  # oldest first
    repo_id = sandbox.repo("acme", "shop").id
    assert links(first) == {
        "next": f"{sandbox.url}/repositories/{repo_id}/issues/1/comments?per_page=100&page=2",
        "last": f"{sandbox.url}/repositories/{repo_id}/issues/1/comments?per_page=100&page=3"}
    second = shop.reader.get(links(first)["next"])
    assert len(second.json()) == 100
    assert set(links(second)) == {"next", "last", "first", "prev"}
    third = shop.reader.get(links(second)["next"])
    assert len(third.json()) == 50
    assert set(links(third)) == {"first", "prev"}
    bodies = [c["body"] for page in (first, second, third) for c in page.json()]
    assert len(set(bodies)) == 250
    since = shop.reader.get("/repos/acme/shop/issues/1/comments", params={"since": "1970-01-01T00:20:00Z"})
    assert [c["body"] for c in since.json()] == ["first!"] + [f"comment {i}" for i in range(200, 229)]
    assert shop.reader.get("/repos/acme/shop/issues/comments", params={"per_page": 1}).json()[0]["body"] == "comment 0"


def test_comment_edit_and_delete_permissions(sandbox: Sandbox, shop: Shop) -> None:
    create_issue(shop, "Discuss")
    comment = shop.writer.post("/repos/acme/shop/issues/1/comments", json={"body": "<!-- marker --> v1"}).json()
    url = f"/repos/acme/shop/issues/comments/{comment['id']}"
    assert shop.reader.patch(url, json={"body": "vandalised"}).status_code == 403
    assert shop.reader.delete(url).status_code == 403
    edited = shop.writer.patch(url, json={"body": "<!-- marker --> v2"})
    assert edited.status_code == 200
    assert edited.json()["body"] == "<!-- marker --> v2"
    assert shop.admin.patch(url, json={"body": "moderated"}).json()["body"] == "moderated"
    assert shop.reader.get(url).json()["issue_url"].endswith("/repos/acme/shop/issues/1")
    assert shop.writer.delete(url).status_code == 204
    assert shop.writer.get(url).status_code == 404
    assert shop.writer.get("/repos/acme/shop/issues/1").json()["comments"] == 0
    assert shop.anonymous.post("/repos/acme/shop/issues/1/comments", json={"body": "hi"}).status_code == 401


def test_comment_reactions(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    create_issue(shop, "Ship it?")
    comment = shop.writer.post("/repos/acme/shop/issues/1/comments", json={"body": "/ship"}).json()
    url = f"/repos/acme/shop/issues/comments/{comment['id']}/reactions"
    first = shop.app.post(url, json={"content": "eyes"})
    assert first.status_code == 201
    assert first.json()["user"]["login"] == "ci[bot]"
    same = shop.app.post(url, json={"content": "eyes"})
    assert same.status_code == 200  # already there: the same reaction, not a new one
    assert same.json()["id"] == first.json()["id"]
    assert shop.reader.post(url, json={"content": "+1"}).status_code == 201
    assert shop.writer.post(url, json={"content": "+1"}).status_code == 201
    sandbox_contract.expect("request body $.content")
    assert shop.writer.post(url, json={"content": "thumbsup"}).status_code == 422
    listed = shop.reader.get(url).json()
    assert [(r["content"], r["user"]["login"]) for r in listed] == [("eyes", "ci[bot]"), ("+1", "carol"),
                                                                    ("+1", "bob")]
    assert len(shop.reader.get(url, params={"content": "+1"}).json()) == 2
    rollup = shop.reader.get(f"/repos/acme/shop/issues/comments/{comment['id']}").json()["reactions"]
    assert (rollup["total_count"], rollup["+1"], rollup["eyes"], rollup["heart"]) == (3, 2, 1, 0)
    assert shop.app.delete(f"{url}/{first.json()['id']}").status_code == 204
    assert [r["content"] for r in shop.reader.get(url).json()] == ["+1", "+1"]
    assert shop.app.delete(f"{url}/{first.json()['id']}").status_code == 404


# ---------------------------------------------------------------------------------------------------
# Search


def test_search_issues(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    create_issue(shop, "Payment outage", labels=["P0", "incident"])
    create_issue(shop, "Slow search page", labels=["P1"], body="mentions payment in the body")
    shop.reader.post("/repos/acme/shop/issues", json={"title": "Docs typo"})
    create_issue(shop, "Old incident", labels=["P0", "needs review"])
    shop.admin.patch("/repos/acme/shop/issues/4", json={"state": "closed"})
    sandbox.create_branch("acme", "shop", "prod", "main")
    sandbox.commit("acme", "shop", "main", {"b.py": "b\n"}, "More", author="bob")
    release = open_pull(shop, "main", "prod", "Release 2026-01-06")
    shop.writer.post(f"/repos/acme/shop/issues/{release}/labels", json={"labels": ["release"]})
    sandbox.create_repo("acme", "secret", private=True, collaborators={"alice": "admin"})

    def numbers(query: str, api: httpx.Client | None = None) -> list[int]:
        response = (api or shop.reader).get("/search/issues", params={"q": query})
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["incomplete_results"] is False
        assert data["total_count"] == len(data["items"])
        return sorted(item["number"] for item in data["items"])

    assert numbers("repo:acme/shop is:issue is:open label:P0") == [1]
    assert numbers("repo:acme/shop is:issue label:P0") == [1, 4]
    assert numbers("repo:acme/shop label:P0 label:incident") == [1]
    assert numbers("repo:acme/shop label:P0,P1 state:open") == [1, 2]
    assert numbers('repo:acme/shop label:"needs review" is:closed') == [4]
    assert numbers("repo:acme/shop payment") == [1, 2]
    assert numbers("repo:acme/shop payment in:title") == [1]
    assert numbers("repo:acme/shop author:carol") == [3]
    assert numbers("repo:acme/shop -label:P0 is:issue") == [2, 3]
    assert numbers("repo:acme/shop is:pr is:open base:prod head:main") == [release]
    assert numbers("repo:acme/shop is:pr label:release") == [release]
    assert numbers("repo:acme/shop is:pr base:main") == []
    items = shop.reader.get("/search/issues", params={"q": "repo:acme/shop is:pr"}).json()["items"]
    assert items[0]["pull_request"]["url"].endswith(f"/pulls/{release}")
    assert items[0]["score"] == 1.0
    newest_first = shop.reader.get("/search/issues", params={"q": "repo:acme/shop is:issue", "sort": "created"})
    assert [i["number"] for i in newest_first.json()["items"]] == [4, 3, 2, 1]
    paged = shop.reader.get("/search/issues", params={"q": "repo:acme/shop is:issue", "per_page": 3})
    assert paged.json()["total_count"] == 4
    assert len(paged.json()["items"]) == 3
    assert links(paged)["next"].endswith("page=2")

    secret_issue = shop.admin.post("/repos/acme/secret/issues", json={"title": "Payment key rotation"})
    assert secret_issue.status_code == 201
    assert numbers("payment is:issue") == [1, 2]  # carol cannot see acme/secret
    assert numbers("payment is:issue", shop.admin) == [1, 1, 2]
    hidden = shop.reader.get("/search/issues", params={"q": "repo:acme/secret payment"})
    assert hidden.status_code == 422
    assert "cannot be searched" in hidden.json()["errors"][0]["message"]
    missing = shop.reader.get("/search/issues")
    assert missing.status_code == 422
    sandbox_contract.expect("query parameter q", operation="GET /search/issues")  # q is required, like GitHub
    assert missing.json()["errors"] == [{"resource": "Search", "field": "q", "code": "missing"}]
    assert missing.headers["x-ratelimit-resource"] == "search"


def test_opsgh_gateway_lists_issues_and_posts_statuses(sandbox: Sandbox, shop: Shop) -> None:
    from opsgh.github.gateway import GitHubGateway

    with sandbox.app.lock:  # 105 issues, straight into the state: the gateway's paging is what is tested
        repo = sandbox.repo("acme", "shop")
        for index in range(105):
            number = repo.next_number()
            labels = ["P0"] if index % 50 == 0 else []
            issues = repo.items(ISSUES)
            issues[number] = Issue(number, sandbox.state.next_id("issue"), f"Issue {number}", "bob",
                                   label_ids=[label.id for label in resolve_labels_for(sandbox, labels)],
                                   created_at=float(number), updated_at=float(number))
    sandbox.commit("acme", "shop", "feature", {"f.py": "x\n"}, "Feature", author="bob")
    pull = open_pull(shop, "feature", "main", "Feature")
    token = sandbox.add_user("alice")
    gateway = GitHubGateway.connect(api_url=sandbox.url, token=token, clock=FakeClock(), jitter=None)
    try:
        listed = gateway.list_issues("acme/shop")
        assert len(listed) == 106  # four pages of 30 (the gateway follows the Link header)
        assert [i.number for i in listed if i.is_pull_request] == [pull]
        blockers = gateway.list_issues("acme/shop", labels=("P0",))
        assert sorted(i.number for i in blockers) == [1, 51, 101]
        sha = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
        assert sha is not None
        posted = gateway.create_commit_status("acme/shop", sha, "success", "opsgh/gate", "GO " * 60)
        assert (posted.state, posted.context, posted.creator) == ("success", "opsgh/gate", "alice")
        assert [s.context for s in gateway.list_commit_statuses("acme/shop", "main")] == ["opsgh/gate"]
    finally:
        gateway.close()


def resolve_labels_for(sandbox: Sandbox, names: list[str]) -> list[Label]:
    labels = sandbox.repo("acme", "shop").items(LABELS)
    for name in names:
        labels.setdefault(name.lower(), Label(sandbox.state.next_id("label"), name))
    return [labels[name.lower()] for name in names]
