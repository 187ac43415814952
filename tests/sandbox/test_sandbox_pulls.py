"""Pull requests in the sandbox: lifecycle, mergeability, the three merge methods (asserted on the real git
result), 405/409/422 like GitHub, protection (reviews, required checks, up to date), reviews and requests."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from sandbox.support import ContractRecorder, client

from opsgh.sandbox import Sandbox
from opsgh.sandbox.gitstore import GitRepo
from opsgh.sandbox.routes.actions_settings import set_actions_settings
from opsgh.sandbox.routes.rulesets import add_ruleset


@dataclass
class Shop:
    sandbox: Sandbox
    admin: httpx.Client  # alice, admin
    writer: httpx.Client  # bob, write: opens the pull requests
    reader: httpx.Client  # carol, read
    git: GitRepo

    def tip(self, branch: str) -> str:
        sha = self.git.ref(f"refs/heads/{branch}")
        assert sha is not None
        return sha

    def open(self, head: str = "feature", base: str = "main", **extra: object) -> dict[str, object]:
        response = self.writer.post("/repos/acme/shop/pulls", json={"title": f"Merge {head}", "head": head,
                                                                    "base": base, **extra})
        assert response.status_code == 201, response.text
        data: dict[str, object] = response.json()
        return data

    def pull(self, number: int, as_client: httpx.Client | None = None) -> dict[str, object]:
        response = (as_client or self.writer).get(f"/repos/acme/shop/pulls/{number}")
        assert response.status_code == 200, response.text
        data: dict[str, object] = response.json()
        return data

    def settled(self, number: int) -> dict[str, object]:
        """Read until `mergeable` is computed, as a client must (at most a few reads)."""
        for _ in range(3):
            data = self.pull(number)
            if data["mergeable"] is not None:
                return data
        raise AssertionError("mergeable never computed")


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    alice = sandbox.add_user("alice", email="alice@example.invalid")
    bob = sandbox.add_user("bob", email="bob@example.invalid")
    carol = sandbox.add_user("carol")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write", "carol": "read"})
    sandbox.commit("acme", "shop", "main", {"app.py": "a = 1\nb = 2\nc = 3\n", "docs.md": "# Docs\n"}, "Base",
                   author="alice")
    sandbox.commit("acme", "shop", "feature", {"app.py": "a = 1\nb = 2\nc = 30\n"}, "Change c", author="bob")
    sandbox.commit("acme", "shop", "feature", {"new.py": "print('new')\n"}, "Add new", author="bob")
    return Shop(sandbox, client(sandbox, alice), client(sandbox, bob), client(sandbox, carol),
                sandbox.app.git_repo(sandbox.repo("acme", "shop")))


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))}


# ---------------------------------------------------------------------------------------------------
# Lifecycle


def test_create_list_get_update(shop: Shop) -> None:
    created = shop.writer.post("/repos/acme/shop/pulls", json={"title": "Feature", "head": "acme:feature",
                                                              "base": "main", "body": "Why", "draft": True})
    assert created.status_code == 201
    pr = created.json()
    assert created.headers["location"] == pr["url"]
    assert (pr["number"], pr["state"], pr["draft"], pr["merged"]) == (1, "open", True, False)
    assert (pr["head"]["ref"], pr["head"]["label"], pr["head"]["sha"]) == ("feature", "acme:feature",
                                                                          shop.tip("feature"))
    assert (pr["base"]["ref"], pr["base"]["sha"]) == ("main", shop.tip("main"))
    assert (pr["user"]["login"], pr["author_association"]) == ("bob", "COLLABORATOR")
    assert (pr["commits"], pr["changed_files"], pr["additions"], pr["deletions"]) == (2, 2, 2, 1)
    shop.sandbox.create_branch("acme", "shop", "other", "feature")
    shop.sandbox.commit("acme", "shop", "other", {"other.txt": "o\n"}, "Other")
    second = shop.open("other")
    assert second["number"] == 2

    def numbers(**params: str) -> list[int]:
        response = shop.reader.get("/repos/acme/shop/pulls", params=params)
        assert response.status_code == 200
        return [item["number"] for item in response.json()]

    assert numbers() == [2, 1]  # newest first
    assert numbers(direction="asc") == [1, 2]
    assert numbers(head="acme:feature") == [1]
    assert numbers(head="feature") == [2, 1]  # GitHub ignores a head filter without "owner:"
    assert numbers(head="someone:feature") == []
    assert numbers(base="prod") == []
    assert numbers(state="closed") == []

    updated = shop.writer.patch("/repos/acme/shop/pulls/1", json={"title": "Feature!", "body": "Because",
                                                                  "state": "closed"})
    assert updated.status_code == 200
    assert (updated.json()["title"], updated.json()["body"], updated.json()["state"]) == ("Feature!", "Because",
                                                                                          "closed")
    assert updated.json()["closed_at"] is not None
    assert numbers(state="closed") == [1]
    assert numbers(state="all") == [2, 1]
    reopened = shop.writer.patch("/repos/acme/shop/pulls/1", json={"state": "open"}).json()
    assert (reopened["state"], reopened["closed_at"]) == ("open", None)

    shop.sandbox.create_branch("acme", "shop", "prod", "main")
    rebased = shop.admin.patch("/repos/acme/shop/pulls/2", json={"base": "prod"}).json()
    assert (rebased["base"]["ref"], rebased["base"]["sha"]) == ("prod", shop.tip("prod"))
    assert numbers(base="prod") == [2]
    # the reader can see but not change
    refused = shop.reader.patch("/repos/acme/shop/pulls/1", json={"title": "mine"})
    assert refused.status_code == 403
    assert refused.json()["message"] == "Must have push access to repository."


def test_create_refuses_what_github_refuses(shop: Shop, sandbox_contract: ContractRecorder) -> None:
    def create(**body: object) -> httpx.Response:
        return shop.writer.post("/repos/acme/shop/pulls", json={"title": "T", **body})

    assert shop.open()["number"] == 1
    duplicate = create(head="feature", base="main")
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [{"resource": "PullRequest", "code": "custom",
                                           "message": "A pull request already exists for acme:feature."}]
    shop.sandbox.create_branch("acme", "shop", "empty", "main")
    nothing = create(head="empty", base="main")
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["message"] == "No commits between main and empty"
    assert create(head="nope", base="main").json()["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}]
    assert create(head="feature", base="nope").json()["errors"] == [
        {"resource": "PullRequest", "field": "base", "code": "invalid"}]
    sandbox_contract.expect("request body $.base", operation="POST /repos/{owner}/{repo}/pulls")  # on purpose
    assert create(head="feature").json()["message"] == 'Invalid request.\n\n"base" wasn\'t supplied.'
    assert create(head="someone:feature", base="main").status_code == 422  # forks are not modelled
    too_long = create(head="feature", base="prod", body="x" * 65537)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["message"] == "body is too long (maximum is 65536 characters)"
    read_only = shop.reader.post("/repos/acme/shop/pulls", json={"title": "T", "head": "feature", "base": "main"})
    assert read_only.status_code == 403
    # numbers are not used up by refused requests
    shop.sandbox.commit("acme", "shop", "second", {"s.txt": "s\n"}, "S")
    assert shop.open("second")["number"] == 2


def test_mergeable_is_null_until_computed_then_follows_the_branches(shop: Shop) -> None:
    created = shop.open()
    assert (created["mergeable"], created["mergeable_state"]) == (None, "unknown")  # the job just started
    first = shop.pull(1)
    assert (first["mergeable"], first["mergeable_state"], first["rebaseable"]) == (True, "clean", True)
    assert first["merge_commit_sha"] is not None  # the test merge, as GitHub shows for open pull requests
    test_merge = shop.git.commit_info(str(first["merge_commit_sha"]))
    assert test_merge.parents == (shop.tip("main"), shop.tip("feature"))

    pushed = shop.sandbox.commit("acme", "shop", "feature", {"more.txt": "more\n"}, "More", author="bob")
    after_push = shop.pull(1)
    assert (after_push["head"]["sha"], after_push["mergeable"], after_push["mergeable_state"]) == (
        pushed, None, "unknown")
    assert shop.pull(1)["mergeable"] is True

    shop.sandbox.commit("acme", "shop", "main", {"app.py": "a = 1\nb = 2\nc = 300\n"}, "Conflict", author="alice")
    assert shop.pull(1)["mergeable"] is None  # the base moved: unknown again
    conflicted = shop.pull(1)
    assert (conflicted["mergeable"], conflicted["mergeable_state"], conflicted["merge_commit_sha"]) == (
        False, "dirty", None)
    refused = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"sha": pushed})
    assert refused.status_code == 405
    assert refused.json()["message"] == "Pull Request is not mergeable"
    assert shop.git.ref("refs/pull/1/head") == pushed


# ---------------------------------------------------------------------------------------------------
# Merging


def test_a_slow_mergeability_job_answers_null_until_its_time_has_passed(shop: Shop) -> None:
    shop.sandbox.faults.slow_mergeability(120)
    created = shop.open()
    assert created["mergeable"] is None
    clock = shop.sandbox.clock
    assert [shop.pull(1)["mergeable"] for _ in range(3)] == [None, None, None]
    clock.sleep(119)
    assert shop.pull(1)["mergeable"] is None
    clock.sleep(1)
    assert (shop.pull(1)["mergeable"], shop.pull(1)["mergeable_state"]) == (True, "clean")
    shop.sandbox.commit("acme", "shop", "feature", {"more.txt": "more\n"}, "More", author="bob")
    assert shop.pull(1)["mergeable"] is None  # the head moved: a new job, as slow
    shop.sandbox.faults.clear()  # back to GitHub's usual speed
    assert shop.pull(1)["mergeable"] is True

def test_merge_commit(shop: Shop) -> None:
    shop.open()
    shop.sandbox.commit("acme", "shop", "main", {"docs.md": "# Docs\nmore\n"}, "Docs", author="alice")
    main_before, head = shop.tip("main"), shop.tip("feature")
    expected_tree = shop.git.merge_trees(main_before, head).tree
    merged = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"sha": head, "merge_method": "merge"})
    assert merged.status_code == 200
    body = merged.json()
    assert (body["merged"], body["message"]) == (True, "Pull Request successfully merged")
    commit = shop.git.commit_info(body["sha"])
    assert commit.parents == (main_before, head)
    assert commit.tree == expected_tree
    assert shop.tip("main") == body["sha"]
    assert commit.message == "Merge pull request #1 from acme/feature\n\nMerge feature\n"
    assert (commit.author.email, commit.committer.email) == ("bob@example.invalid", "noreply@github.com")
    assert shop.tip("feature") == head  # the head branch is kept
    pr = shop.pull(1)
    assert (pr["state"], pr["merged"], pr["merge_commit_sha"], pr["merged_by"]["login"]) == (
        "closed", True, body["sha"], "bob")
    assert pr["merged_at"] is not None
    assert (pr["head"]["sha"], pr["commits"]) == (head, 2)  # what was merged
    assert shop.writer.get("/repos/acme/shop/pulls/1/merge").status_code == 204
    again = shop.writer.put("/repos/acme/shop/pulls/1/merge")
    assert again.status_code == 405


def test_squash_merge(shop: Shop) -> None:
    shop.open()
    main_before, head = shop.tip("main"), shop.tip("feature")
    merged = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": "squash"}).json()
    commit = shop.git.commit_info(merged["sha"])
    assert commit.parents == (main_before,)
    assert commit.tree == shop.git.tree_of(head)  # main had not moved: the squash holds the head's tree
    assert commit.message == "Merge feature (#1)\n\n* Change c\n\n* Add new\n"
    assert commit.author.email == "bob@example.invalid"
    assert shop.tip("main") == merged["sha"]


def test_rebase_merge_replays_each_commit(shop: Shop) -> None:
    shop.open()
    shop.sandbox.commit("acme", "shop", "main", {"docs.md": "# Docs\nmore\n"}, "Docs", author="alice")
    main_before, head = shop.tip("main"), shop.tip("feature")
    merged = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": "rebase", "sha": head}).json()
    tip = shop.git.commit_info(merged["sha"])
    first = shop.git.commit_info(tip.parents[0])
    assert first.parents == (main_before,)
    assert [first.subject, tip.subject] == ["Change c", "Add new"]
    assert merged["sha"] not in (head, shop.git.commit_info(head).parents[0])  # replayed: new commits
    assert tip.tree == shop.git.merge_trees(main_before, head).tree
    assert (tip.author.email, tip.committer.email) == ("bob@example.invalid", "noreply@github.com")
    assert shop.tip("main") == merged["sha"]


def test_merge_refusals(shop: Shop) -> None:
    shop.open()
    main_before = shop.tip("main")
    stale = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"sha": main_before})
    assert stale.status_code == 409
    assert stale.json()["message"] == "Head branch was modified. Review and try the merge again."
    settings = shop.sandbox.repo("acme", "shop").settings
    settings.allow_squash_merge = settings.allow_rebase_merge = False
    for method, message in (("squash", "Squash merges are not allowed on this repository."),
                            ("rebase", "Rebase merges are not allowed on this repository.")):
        refused = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": method})
        assert (refused.status_code, refused.json()["message"]) == (405, message)
    settings.allow_merge_commit = False
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge").json()["message"] == (
        "Merge commits are not allowed on this repository.")
    settings.allow_merge_commit = True
    assert shop.reader.put("/repos/acme/shop/pulls/1/merge").status_code == 403
    shop.sandbox.commit("acme", "shop", "drafty", {"d.txt": "d\n"}, "Draft work", author="bob")
    assert shop.open("drafty", draft=True)["number"] == 2
    assert shop.settled(2)["mergeable_state"] == "draft"
    draft = shop.writer.put("/repos/acme/shop/pulls/2/merge")
    assert (draft.status_code, draft.json()["message"]) == (405, "Pull Request is still a draft")
    assert shop.tip("main") == main_before  # nothing was merged


# ---------------------------------------------------------------------------------------------------
# Protection


def test_required_reviews_block_until_a_writer_approves(shop: Shop) -> None:
    shop.sandbox.protect("acme", "shop", "main", required_pull_request_reviews={
        "required_approving_review_count": 1, "dismiss_stale_reviews": True}, enforce_admins=True)
    shop.open()
    assert shop.settled(1)["mergeable_state"] == "blocked"
    own = shop.writer.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"})
    assert own.status_code == 422
    assert own.json()["errors"] == ["Can not approve your own pull request"]
    by_reader = shop.reader.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE", "body": "lgtm"})
    assert by_reader.status_code == 200  # anyone may review; a reader's approval does not count
    assert shop.pull(1)["mergeable_state"] == "blocked"
    refused = shop.writer.put("/repos/acme/shop/pulls/1/merge")
    assert (refused.status_code, refused.json()["message"]) == (
        405, "At least 1 approving review is required by reviewers with write access.")
    approved = shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"}).json()
    assert (approved["state"], approved["commit_id"], approved["user"]["login"]) == (
        "APPROVED", shop.tip("feature"), "alice")
    assert shop.pull(1)["mergeable_state"] == "clean"
    # a push dismisses the stale approval (dismiss_stale_reviews)
    shop.sandbox.commit("acme", "shop", "feature", {"late.txt": "late\n"}, "Late", author="bob")
    assert shop.settled(1)["mergeable_state"] == "blocked"
    states = [(r["user"]["login"], r["state"]) for r in shop.writer.get("/repos/acme/shop/pulls/1/reviews").json()]
    assert states == [("carol", "DISMISSED"), ("alice", "DISMISSED")]
    shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "REQUEST_CHANGES", "body": "no"})
    assert shop.settled(1)["mergeable_state"] == "blocked"
    shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"})
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge").status_code == 200


def test_admins_bypass_protection_unless_enforced(shop: Shop) -> None:
    shop.sandbox.protect("acme", "shop", "main", required_pull_request_reviews={"required_approving_review_count": 2})
    shop.open()
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge").json()["message"] == (
        "At least 2 approving reviews are required by reviewers with write access.")
    assert shop.admin.put("/repos/acme/shop/pulls/1/merge").status_code == 200


def test_required_status_checks_and_up_to_date_branches(shop: Shop) -> None:
    shop.sandbox.protect("acme", "shop", "main", required_status_checks={"strict": True, "contexts": ["ci"]})
    shop.open()
    head = shop.tip("feature")
    assert shop.settled(1)["mergeable_state"] == "blocked"
    expected = shop.writer.put("/repos/acme/shop/pulls/1/merge")
    assert (expected.status_code, expected.json()["message"]) == (405, 'Required status check "ci" is expected.')
    status = shop.writer.post(f"/repos/acme/shop/statuses/{head}", json={"state": "failure", "context": "ci"})
    assert status.status_code == 201
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge").json()["message"] == (
        'Required status check "ci" is failing.')
    shop.writer.post(f"/repos/acme/shop/statuses/{head}", json={"state": "success", "context": "ci"})
    assert shop.pull(1)["mergeable_state"] == "clean"
    shop.writer.post(f"/repos/acme/shop/statuses/{head}", json={"state": "failure", "context": "lint"})
    assert shop.pull(1)["mergeable_state"] == "unstable"  # a failing check that is not required
    shop.sandbox.commit("acme", "shop", "main", {"docs.md": "# Docs\nnewer\n"}, "Docs", author="alice")
    assert shop.settled(1)["mergeable_state"] == "behind"  # strict: the head must contain the base
    behind = shop.writer.put("/repos/acme/shop/pulls/1/merge")
    assert (behind.status_code, behind.json()["message"]) == (405, 'Required status check "ci" is expected.')


# ---------------------------------------------------------------------------------------------------
# Reviews, review requests, commits and files


def test_reviews_and_review_requests(shop: Shop) -> None:
    shop.open()
    requested = shop.writer.post("/repos/acme/shop/pulls/1/requested_reviewers", json={"reviewers": ["alice",
                                                                                                       "carol"]})
    assert requested.status_code == 201
    assert [u["login"] for u in requested.json()["requested_reviewers"]] == ["alice", "carol"]
    author = shop.writer.post("/repos/acme/shop/pulls/1/requested_reviewers", json={"reviewers": ["bob"]})
    assert (author.status_code, author.json()["errors"][0]["message"]) == (
        422, "Review cannot be requested from pull request author.")
    stranger = shop.writer.post("/repos/acme/shop/pulls/1/requested_reviewers", json={"reviewers": ["mallory"]})
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["message"].startswith("Reviews may only be requested from collaborators.")
    pending = shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"body": "thinking"}).json()
    assert (pending["state"], "submitted_at" in pending) == ("PENDING", False)
    assert [r["state"] for r in shop.admin.get("/repos/acme/shop/pulls/1/reviews").json()] == ["PENDING"]
    assert shop.writer.get("/repos/acme/shop/pulls/1/reviews").json() == []  # a pending review is private
    comment = shop.reader.post("/repos/acme/shop/pulls/1/reviews", json={"event": "COMMENT", "body": "nice"})
    assert comment.json()["state"] == "COMMENTED"
    no_body = shop.reader.post("/repos/acme/shop/pulls/1/reviews", json={"event": "REQUEST_CHANGES"})
    assert no_body.status_code == 422
    after = shop.writer.get("/repos/acme/shop/pulls/1/requested_reviewers").json()
    assert ([u["login"] for u in after["users"]], after["teams"]) == (["alice"], [])  # carol reviewed
    removed = shop.writer.request("DELETE", "/repos/acme/shop/pulls/1/requested_reviewers",
                                  json={"reviewers": ["alice"]})
    assert (removed.status_code, removed.json()["requested_reviewers"]) == (200, [])


def test_commits_and_files_paginate(shop: Shop) -> None:
    shop.sandbox.commit_many("acme", "shop", "feature", [({f"f{i}.txt": f"{i}\n"}, f"File {i}") for i in range(3)])
    shop.open()
    first = shop.reader.get("/repos/acme/shop/pulls/1/commits", params={"per_page": 2})
    assert [c["commit"]["message"] for c in first.json()] == ["Change c", "Add new"]
    assert set(_links(first)) == {"next", "last"}
    last = shop.reader.get(_links(first)["last"])
    assert [c["commit"]["message"] for c in last.json()] == ["File 2"]
    files = shop.reader.get("/repos/acme/shop/pulls/1/files", params={"per_page": 100}).json()
    assert sorted(f["filename"] for f in files) == ["app.py", "f0.txt", "f1.txt", "f2.txt", "new.py"]
    change = next(f for f in files if f["filename"] == "app.py")
    assert (change["status"], change["additions"], change["deletions"]) == ("modified", 1, 1)
    assert "-c = 3\n+c = 30" in change["patch"]


def test_deleting_the_head_branch_closes_the_pull_request(shop: Shop) -> None:
    shop.open()
    assert shop.admin.delete("/repos/acme/shop/git/refs/heads/feature").status_code == 204
    pr = shop.pull(1)
    assert (pr["state"], pr["merged"]) == ("closed", False)


def test_rulesets_hold_merges_too(shop: Shop) -> None:
    add_ruleset(shop.sandbox, "acme", "shop", {
        "name": "main", "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [{"type": "pull_request", "parameters": {
            "dismiss_stale_reviews_on_push": False, "require_code_owner_review": False,
            "require_last_push_approval": False, "required_approving_review_count": 1,
            "required_review_thread_resolution": False, "allowed_merge_methods": ["squash"]}}]})
    shop.open()
    assert shop.settled(1)["mergeable_state"] == "blocked"
    shop.admin.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"})
    assert shop.pull(1)["mergeable_state"] == "clean"
    refused = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": "merge"})
    assert refused.status_code == 405
    assert "Merge method merge is not allowed" in refused.json()["message"]
    assert shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": "squash"}).status_code == 200


def test_pull_requests_of_a_commit(shop: Shop) -> None:
    shop.open()
    head = shop.tip("feature")
    assert [p["number"] for p in shop.reader.get(f"/repos/acme/shop/commits/{head}/pulls").json()] == [1]
    assert shop.reader.get(f"/repos/acme/shop/commits/{shop.tip('main')}/pulls").json() == []
    merged = shop.writer.put("/repos/acme/shop/pulls/1/merge", json={"merge_method": "squash"}).json()
    assert [p["number"] for p in shop.reader.get(f"/repos/acme/shop/commits/{merged['sha']}/pulls").json()] == [1]
    assert shop.reader.get(f"/repos/acme/shop/commits/{head}/pulls").json() == []  # squashed: not on main


def test_actions_may_open_and_approve_pull_requests_only_when_allowed(sandbox: Sandbox, shop: Shop) -> None:
    bot = client(sandbox, sandbox.add_user("ci", kind="actions", repositories=("acme/shop",)))
    body = {"title": "Release", "head": "feature", "base": "main"}
    refused = bot.post("/repos/acme/shop/pulls", json=body)
    assert (refused.status_code, refused.json()["message"]) == (
        403, "GitHub Actions is not permitted to create or approve pull requests.")  # the default, as on GitHub
    shop.open()
    approval = bot.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"})
    assert (approval.status_code, approval.json()["errors"]) == (
        422, ["GitHub Actions is not permitted to approve pull requests."])
    set_actions_settings(sandbox, "acme", "shop", can_approve_pull_request_reviews=True)
    assert bot.post("/repos/acme/shop/pulls/1/reviews", json={"event": "APPROVE"}).json()["state"] == "APPROVED"
    shop.sandbox.commit("acme", "shop", "release", {"r.txt": "r\n"}, "Release")
    assert bot.post("/repos/acme/shop/pulls", json={**body, "head": "release"}).json()["user"]["login"] == (
        "github-actions[bot]")
