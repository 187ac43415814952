"""Git commit objects in the sandbox (GET/POST /git/commits), over HTTP, contract-checked."""

from __future__ import annotations

import pytest
from sandbox.issues_support import Shop, make_shop
from sandbox.support import ContractRecorder

from opsgh.sandbox import Sandbox


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    return make_shop(sandbox)


def test_a_commit_made_from_a_tree_and_parents_moves_no_branch(sandbox: Sandbox, shop: Shop) -> None:
    git = sandbox.app.git_repo(sandbox.repo("acme", "shop"))
    first = git.resolve("main")
    assert first is not None
    second = sandbox.commit("acme", "shop", "main", {"app.py": "print(2)\n"}, "Two", author="alice")
    # A commit on top of `second` whose files are `first`'s: what `git revert` of `second` gives.
    old = shop.reader.get(f"/repos/acme/shop/git/commits/{first}").json()
    assert old["sha"] == first
    assert old["tree"]["sha"] == git.tree_of(first)
    assert [p["sha"] for p in old["parents"]] == list(git.commit_info(first).parents)
    assert old["message"].rstrip("\n") == "Add app"
    made = shop.writer.post("/repos/acme/shop/git/commits", json={
        "message": "Undo two\n\nThis reverts commit " + second + ".\n", "tree": old["tree"]["sha"],
        "parents": [second]})
    assert made.status_code == 201, made.text
    commit = made.json()
    assert made.headers["location"] == commit["url"]
    assert [p["sha"] for p in commit["parents"]] == [second]
    assert commit["author"]["email"] == "bob@example.invalid"  # the caller, at the sandbox's time
    assert commit["committer"] == commit["author"]
    assert git.tree_of(commit["sha"]) == git.tree_of(first)
    assert git.read_file(commit["sha"], "app.py") == b"print(1)\n"
    assert git.resolve("main") == second  # no branch moved
    assert shop.reader.get(f"/repos/acme/shop/git/commits/{commit['sha']}").json()["message"] == (
        f"Undo two\n\nThis reverts commit {second}.\n")


def test_the_same_commit_twice_is_one_object(shop: Shop, sandbox: Sandbox) -> None:
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    tree = shop.reader.get(f"/repos/acme/shop/git/commits/{main}").json()["tree"]["sha"]
    person = {"name": "Release Bot", "email": "release@example.invalid", "date": "2027-01-05T10:00:00Z"}
    body = {"message": "m", "tree": tree, "parents": [main], "author": person}
    first, again = (shop.writer.post("/repos/acme/shop/git/commits", json=body).json() for _ in range(2))
    assert first["sha"] == again["sha"]
    assert first["author"] == first["committer"] == person


def test_bad_objects_and_permissions(shop: Shop, sandbox: Sandbox, sandbox_contract: ContractRecorder) -> None:
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    assert main is not None
    tree = shop.reader.get(f"/repos/acme/shop/git/commits/{main}").json()["tree"]["sha"]
    no_tree = shop.writer.post("/repos/acme/shop/git/commits", json={"message": "m", "tree": "0" * 40})
    assert (no_tree.status_code, no_tree.json()["message"]) == (422, "Tree SHA does not exist")
    commit_as_tree = shop.writer.post("/repos/acme/shop/git/commits", json={"message": "m", "tree": main})
    assert commit_as_tree.status_code == 422
    no_parent = shop.writer.post("/repos/acme/shop/git/commits", json={"message": "m", "tree": tree,
                                                                      "parents": ["1" * 40]})
    assert (no_parent.status_code, no_parent.json()["message"]) == (
        422, "Parent SHA does not exist or is not a commit object")
    sandbox_contract.expect("request body", operation="POST /repos/{owner}/{repo}/git/commits")
    missing = shop.writer.post("/repos/acme/shop/git/commits", json={"tree": tree})
    assert missing.status_code == 422  # GitHub's description requires a message
    assert shop.reader.post("/repos/acme/shop/git/commits", json={"message": "m", "tree": tree}).status_code == 403
    assert shop.reader.get(f"/repos/acme/shop/git/commits/{tree}").status_code == 404  # a tree is no commit
    assert shop.reader.get(f"/repos/acme/shop/git/commits/{'2' * 40}").status_code == 404
