"""`POST /git/commits` and `GET /git/commits/{sha}`: commit objects made through the Git database API."""

from __future__ import annotations

import pytest
from sandbox.support import client

from opsgh.sandbox import Sandbox


@pytest.fixture
def tokens(sandbox: Sandbox) -> dict[str, str]:
    found = {"alice": sandbox.add_user("alice", name="Alice", email="alice@example.invalid"),
             "carol": sandbox.add_user("carol")}
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "carol": "read"})
    sandbox.commit("acme", "shop", "main", {"app.py": "print(1)\n"}, "Add app", author="alice")
    return found


def _git(sandbox: Sandbox, *args: str) -> str:
    return sandbox.app.git_repo(sandbox.repo("acme", "shop")).run(*args).strip()


def test_an_empty_commit_on_top_of_a_branch_then_a_branch_at_it(sandbox: Sandbox, tokens: dict[str, str]) -> None:
    api = client(sandbox, tokens["alice"])
    tip = _git(sandbox, "rev-parse", "refs/heads/main")
    tree = _git(sandbox, "rev-parse", "refs/heads/main^{tree}")
    made = api.post("/repos/acme/shop/git/commits", json={"message": "Start hotfix login", "tree": tree,
                                                          "parents": [tip]})
    assert made.status_code == 201, made.text
    data = made.json()
    assert made.headers["location"] == data["url"]
    assert [p["sha"] for p in data["parents"]] == [tip]
    assert data["tree"]["sha"] == tree
    assert data["message"] == "Start hotfix login"
    # The author defaults to the authenticated user, the committer to the author.
    assert (data["author"]["name"], data["author"]["email"]) == ("Alice", "alice@example.invalid")
    assert data["committer"] == data["author"]
    # A real commit object in the repository, readable back, not on any branch yet.
    assert _git(sandbox, "log", "-1", "--format=%P %T %s", data["sha"]) == f"{tip} {tree} Start hotfix login"
    assert _git(sandbox, "rev-parse", "refs/heads/main") == tip
    assert api.get(f"/repos/acme/shop/git/commits/{data['sha']}").json() == data
    assert api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/hotfix/login",
                                                       "sha": data["sha"]}).status_code == 201


def test_author_and_date_given(sandbox: Sandbox, tokens: dict[str, str]) -> None:
    api = client(sandbox, tokens["alice"])
    tree = _git(sandbox, "rev-parse", "refs/heads/main^{tree}")
    data = api.post("/repos/acme/shop/git/commits", json={
        "message": "Root", "tree": tree,
        "author": {"name": "Bot", "email": "bot@example.invalid", "date": "2027-01-02T03:04:05Z"}}).json()
    assert data["parents"] == []
    assert data["author"] == {"name": "Bot", "email": "bot@example.invalid", "date": "2027-01-02T03:04:05Z"}
    assert data["committer"] == data["author"]


def test_bad_trees_and_parents_are_githubs_422s(sandbox: Sandbox, tokens: dict[str, str]) -> None:
    api = client(sandbox, tokens["alice"])
    tip = _git(sandbox, "rev-parse", "refs/heads/main")
    tree = _git(sandbox, "rev-parse", "refs/heads/main^{tree}")
    missing = api.post("/repos/acme/shop/git/commits", json={"message": "x", "tree": "1" * 40})
    assert (missing.status_code, missing.json()["message"]) == (422, "Tree SHA does not exist")
    not_tree = api.post("/repos/acme/shop/git/commits", json={"message": "x", "tree": tip})
    assert (not_tree.status_code, not_tree.json()["message"]) == (422, "Tree SHA is not a tree object")
    bad_parent = api.post("/repos/acme/shop/git/commits", json={"message": "x", "tree": tree, "parents": [tree]})
    assert bad_parent.status_code == 422
    assert bad_parent.json()["message"] == "Parent SHA does not exist or is not a commit object"
    short = api.post("/repos/acme/shop/git/commits", json={"message": "x", "tree": tree, "parents": ["abc"]})
    assert short.status_code == 422
    assert "exactly 40 characters" in short.json()["message"]


def test_reading_needs_read_access_and_writing_write_access(sandbox: Sandbox, tokens: dict[str, str]) -> None:
    reader = client(sandbox, tokens["carol"])
    tree = _git(sandbox, "rev-parse", "refs/heads/main^{tree}")
    assert reader.post("/repos/acme/shop/git/commits", json={"message": "x", "tree": tree}).status_code == 403
    tip = _git(sandbox, "rev-parse", "refs/heads/main")
    assert reader.get(f"/repos/acme/shop/git/commits/{tip}").json()["sha"] == tip
    assert reader.get(f"/repos/acme/shop/git/commits/{'0' * 40}").status_code == 404
