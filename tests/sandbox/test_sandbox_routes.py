"""The first REST routes: repositories, branches, refs, commits, compare, contents, user, rate limit, Apps."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import httpx
import jwt
import pytest
from sandbox.support import ContractRecorder, client

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox


@dataclass
class Shop:
    admin: str
    writer: str
    reader: str
    api: httpx.Client  # as the admin


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    admin = sandbox.add_user("alice", email="alice@example.invalid")
    writer = sandbox.add_user("bob")
    reader = sandbox.add_user("carol")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin", "bob": "write", "carol": "read"})
    sandbox.commit("acme", "shop", "main", {"src/app.py": "print(1)\n", "docs/guide.md": "# Guide\n"},
                   "Add app", author="alice")
    return Shop(admin, writer, reader, client(sandbox, admin))


def test_repository(sandbox: Sandbox, shop: Shop) -> None:
    data = shop.api.get("/repos/acme/shop").json()
    assert data["full_name"] == "acme/shop"
    assert data["default_branch"] == "main"
    assert data["permissions"] == {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True}
    assert data["allow_merge_commit"] is True  # merge settings: only shown with push access
    as_reader = client(sandbox, shop.reader).get("/repos/acme/shop").json()
    assert as_reader["permissions"]["push"] is False
    assert "allow_merge_commit" not in as_reader
    assert client(sandbox).get("/repos/acme/nope").status_code == 404


def test_unknown_route_answers_404_like_github(sandbox: Sandbox, shop: Shop,
                                               sandbox_contract: ContractRecorder) -> None:
    sandbox_contract.expect("route")  # the path is not in GitHub's description either
    response = shop.api.get("/repos/acme/shop/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found", "documentation_url": "https://docs.github.com/rest",
                               "status": "404"}
    assert response.headers["x-github-request-id"]
    assert response.headers["x-ratelimit-limit"] == "5000"


def test_branches_paginate_with_github_links(sandbox: Sandbox, shop: Shop) -> None:
    main = sandbox.repo("acme", "shop")
    for number in range(5):
        sandbox.create_branch("acme", "shop", f"feature/{number}", "main")
    sandbox.protect("acme", "shop", "main")
    first = shop.api.get("/repos/acme/shop/branches", params={"per_page": 2})
    assert [b["name"] for b in first.json()] == ["feature/0", "feature/1"]
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["link"]))
    assert set(links) == {"next", "last"}
    assert links["next"] == f"{sandbox.url}/repositories/{main.id}/branches?per_page=2&page=2"
    assert links["last"].endswith("page=3")
    last = shop.api.get(links["last"])  # the /repositories/{id} form is served too
    assert [(b["name"], b["protected"]) for b in last.json()] == [("feature/4", False), ("main", True)]
    assert set(dict((rel, u) for u, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', last.headers["link"]))) == {
        "first", "prev"}
    protected = shop.api.get("/repos/acme/shop/branches", params={"protected": "true"}).json()
    assert [b["name"] for b in protected] == ["main"]
    assert "link" not in shop.api.get("/repos/acme/shop/branches").headers
    capped = shop.api.get("/repos/acme/shop/branches", params={"per_page": 1000})
    assert len(capped.json()) == 6


def test_branch_with_slash_and_missing_branch(sandbox: Sandbox, shop: Shop) -> None:
    sha = sandbox.create_branch("acme", "shop", "hotfix/login", "main")
    branch = shop.api.get("/repos/acme/shop/branches/hotfix/login").json()
    assert branch["name"] == "hotfix/login"
    assert branch["commit"]["sha"] == sha
    assert branch["protected"] is False
    assert shop.api.get("/repos/acme/shop/branches/hotfix%2Flogin").json()["name"] == "hotfix/login"
    missing = shop.api.get("/repos/acme/shop/branches/nope")
    assert (missing.status_code, missing.json()["message"]) == (404, "Branch not found")


def test_git_refs_lifecycle(sandbox: Sandbox, shop: Shop, sandbox_contract: ContractRecorder) -> None:
    git = sandbox.app.git_repo(sandbox.repo("acme", "shop"))
    main = shop.api.get("/repos/acme/shop/git/ref/heads/main").json()
    assert main["ref"] == "refs/heads/main"
    assert main["object"]["type"] == "commit"
    sha = main["object"]["sha"]
    created = shop.api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/release/1", "sha": sha})
    assert created.status_code == 201
    assert created.headers["location"] == created.json()["url"]
    assert git.ref("refs/heads/release/1") == sha
    again = shop.api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/release/1", "sha": sha})
    assert (again.status_code, again.json()["message"]) == (422, "Reference already exists")
    matching = shop.api.get("/repos/acme/shop/git/matching-refs/heads/rel").json()
    assert [r["ref"] for r in matching] == ["refs/heads/release/1"]
    assert shop.api.get("/repos/acme/shop/git/matching-refs/heads/zzz").json() == []

    newer = sandbox.commit("acme", "shop", "main", {"x.txt": "x\n"}, "More")
    updated = shop.api.patch("/repos/acme/shop/git/refs/heads/release/1", json={"sha": newer})
    assert updated.json()["object"]["sha"] == newer
    backwards = shop.api.patch("/repos/acme/shop/git/refs/heads/release/1", json={"sha": sha})
    assert (backwards.status_code, backwards.json()["message"]) == (422, "Update is not a fast forward")
    forced = shop.api.patch("/repos/acme/shop/git/refs/heads/release/1", json={"sha": sha, "force": True})
    assert forced.status_code == 200
    assert git.ref("refs/heads/release/1") == sha

    assert shop.api.delete("/repos/acme/shop/git/refs/heads/release/1").status_code == 204
    assert git.ref("refs/heads/release/1") is None
    assert shop.api.get("/repos/acme/shop/git/ref/heads/release/1").status_code == 404
    assert shop.api.delete("/repos/acme/shop/git/refs/heads/main").status_code == 422  # the default branch
    unknown = shop.api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/x", "sha": "0" * 40})
    assert (unknown.status_code, unknown.json()["message"]) == (422, "Object does not exist")


def test_protected_branch_refuses_rest_ref_updates(sandbox: Sandbox, shop: Shop) -> None:
    base = sandbox.create_branch("acme", "shop", "prod", "main~1")
    sandbox.protect("acme", "shop", "prod", required_pull_request_reviews={"required_approving_review_count": 1})
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/main")
    writer = client(sandbox, shop.writer)
    refused = writer.patch("/repos/acme/shop/git/refs/heads/prod", json={"sha": main})
    assert refused.status_code == 422
    assert refused.json()["message"].startswith("Protected branch update failed for refs/heads/prod.")
    assert writer.delete("/repos/acme/shop/git/refs/heads/prod").status_code == 422
    # admins bypass unless enforce_admins
    assert shop.api.patch("/repos/acme/shop/git/refs/heads/prod", json={"sha": main}).status_code == 200
    sandbox.protect("acme", "shop", "prod", enforce_admins=True, required_pull_request_reviews={})
    assert shop.api.patch("/repos/acme/shop/git/refs/heads/prod", json={"sha": base, "force": True}
                          ).status_code == 422


def test_commits_list_paginates_and_shows_authors(sandbox: Sandbox, shop: Shop) -> None:
    for number in range(4):
        sandbox.commit("acme", "shop", "main", {f"f{number}.txt": "x\n"}, f"Change {number}", author="alice")
    page = shop.api.get("/repos/acme/shop/commits", params={"per_page": 2})
    data = page.json()
    assert [c["commit"]["message"] for c in data] == ["Change 3", "Change 2"]
    assert data[0]["author"]["login"] == "alice"
    assert data[0]["commit"]["author"]["email"] == "alice@example.invalid"
    assert 'rel="last"' in page.headers["link"]
    assert "page=3" in page.headers["link"]  # 6 commits (README, app, 4 changes) / 2
    third = shop.api.get("/repos/acme/shop/commits", params={"per_page": 2, "page": 3}).json()
    assert [c["commit"]["message"] for c in third] == ["Add app", "Initial commit"]
    assert third[-1]["parents"] == []
    by_path = shop.api.get("/repos/acme/shop/commits", params={"path": "src/app.py"}).json()
    assert [c["commit"]["message"] for c in by_path] == ["Add app"]
    assert shop.api.get("/repos/acme/shop/commits", params={"sha": "nope"}).status_code == 404


def test_commit_detail_has_files_and_stats(sandbox: Sandbox, shop: Shop) -> None:
    sha = sandbox.commit("acme", "shop", "main", {"src/app.py": "print(2)\nprint(3)\n", "docs/guide.md": None},
                         "Edit", author="alice")
    data = shop.api.get(f"/repos/acme/shop/commits/{sha}").json()
    assert data["sha"] == sha
    files = {f["filename"]: f for f in data["files"]}
    assert files["src/app.py"]["status"] == "modified"
    assert (files["src/app.py"]["additions"], files["src/app.py"]["deletions"]) == (2, 1)
    assert files["docs/guide.md"]["status"] == "removed"
    assert data["stats"] == {"total": 4, "additions": 2, "deletions": 2}
    assert shop.api.get("/repos/acme/shop/commits/main").json()["sha"] == sha
    missing = shop.api.get("/repos/acme/shop/commits/deadbeef")
    assert (missing.status_code, missing.json()["message"]) == (422, "No commit found for SHA: deadbeef")


def test_compare_counts_and_caps(sandbox: Sandbox, shop: Shop) -> None:
    sandbox.create_branch("acme", "shop", "prod", "main")
    sandbox.commit("acme", "shop", "prod", {"hotfix.txt": "h\n"}, "Hotfix")
    # 260 commits on main, the first one touching 310 files
    sandbox.commit_many("acme", "shop", "main", [
        ({f"many/{n:03}.txt": f"{n}\n" for n in range(310)}, "Bulk 0"),
        *(({"counter.txt": f"{number}\n"}, f"Bulk {number}") for number in range(1, 260)),
    ])
    data = shop.api.get("/repos/acme/shop/compare/prod...main").json()
    assert (data["status"], data["ahead_by"], data["behind_by"], data["total_commits"]) == ("diverged", 260, 1, 260)
    assert len(data["commits"]) == 250  # GitHub lists at most 250 commits without pagination
    assert data["commits"][0]["commit"]["message"] == "Bulk 0"  # oldest first
    assert len(data["files"]) == 300  # and at most 300 files
    assert data["merge_base_commit"]["sha"] == sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main~260")
    paged = shop.api.get("/repos/acme/shop/compare/prod...main", params={"per_page": 100, "page": 3})
    assert [c["commit"]["message"] for c in paged.json()["commits"]] == [f"Bulk {n}" for n in range(200, 260)]
    assert "files" not in paged.json()  # files only on the first page
    assert 'rel="prev"' in paged.headers["link"]
    over = shop.api.get("/repos/acme/shop/compare/prod...main", params={"per_page": 1000}).json()
    assert len(over["commits"]) == 250
    identical = shop.api.get("/repos/acme/shop/compare/main...main").json()
    assert (identical["status"], identical["commits"], identical["files"]) == ("identical", [], [])
    assert shop.api.get("/repos/acme/shop/compare/main...nope").status_code == 404


def test_contents_file_directory_raw_and_missing(sandbox: Sandbox, shop: Shop) -> None:
    old = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    sandbox.commit("acme", "shop", "main", {"src/app.py": "print(2)\n"}, "v2")
    file = shop.api.get("/repos/acme/shop/contents/src/app.py").json()
    assert file["type"] == "file"
    assert base64.b64decode(file["content"]) == b"print(2)\n"
    at_old = shop.api.get("/repos/acme/shop/contents/src/app.py", params={"ref": old}).json()
    assert base64.b64decode(at_old["content"]) == b"print(1)\n"
    listing = shop.api.get("/repos/acme/shop/contents/src").json()
    assert [(e["name"], e["type"]) for e in listing] == [("app.py", "file")]
    raw = shop.api.get("/repos/acme/shop/contents/src/app.py", headers={"accept": "application/vnd.github.raw+json"})
    assert raw.text == "print(2)\n"
    assert raw.headers["content-type"].startswith("application/vnd.github.raw+json")
    assert shop.api.get("/repos/acme/shop/contents/nope.txt").status_code == 404
    assert shop.api.get("/repos/acme/shop/contents/src/app.py", params={"ref": "nope"}).status_code == 404


def test_user_and_rate_limit(sandbox: Sandbox, shop: Shop) -> None:
    me = shop.api.get("/user")
    assert me.json()["login"] == "alice"
    assert me.headers["x-oauth-scopes"] == "repo"
    assert client(sandbox).get("/user").status_code == 401
    bad = client(sandbox, "ghp_" + "x" * 36).get("/repos/acme/shop")
    assert (bad.status_code, bad.json()["message"]) == (401, "Bad credentials")
    before = shop.api.get("/rate_limit").json()["resources"]["core"]
    again = shop.api.get("/rate_limit").json()["resources"]["core"]
    assert again["used"] == before["used"]  # GET /rate_limit is free
    assert again["limit"] == 5000
    assert before["reset"] == int(sandbox.clock.now()) + 3600


def test_collaborator_permission(sandbox: Sandbox, shop: Shop) -> None:
    sandbox.add_user("dave")
    answers = {login: shop.api.get(f"/repos/acme/shop/collaborators/{login}/permission").json()
               for login in ("alice", "bob", "carol", "dave")}
    assert {k: (v["permission"], v["role_name"]) for k, v in answers.items()} == {
        "alice": ("admin", "admin"), "bob": ("write", "write"), "carol": ("read", "read"), "dave": ("read", "read")}
    assert shop.api.get("/repos/acme/shop/collaborators/nobody/permission").status_code == 404


def test_ghes_style_base_url(sandbox: Sandbox, shop: Shop) -> None:
    api = client(sandbox, shop.admin, base=sandbox.ghes_url)
    data = api.get("/repos/acme/shop").json()
    assert data["url"] == f"{sandbox.url}/api/v3/repos/acme/shop"
    assert api.get("/repos/acme/shop/branches", params={"per_page": 1}).status_code == 200


def test_github_app_jwt_installation_token(sandbox: Sandbox, sandbox_clock: FakeClock, shop: Shop) -> None:
    credentials = sandbox.add_app("release-bot", "acme", permissions={"contents": "write", "metadata": "read"})
    now = int(sandbox_clock.now())
    app_jwt = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(credentials.app_id)},
                         credentials.private_key, algorithm="RS256")
    as_app = client(sandbox, app_jwt)
    assert as_app.get("/app").json()["slug"] == "release-bot"
    installation = as_app.get("/repos/acme/shop/installation").json()
    assert installation["id"] == credentials.installation_id
    assert [i["id"] for i in as_app.get("/app/installations").json()] == [credentials.installation_id]
    token = as_app.post(f"/app/installations/{credentials.installation_id}/access_tokens")
    assert token.status_code == 201
    assert token.json()["token"].startswith("ghs_")
    api = client(sandbox, token.json()["token"])
    assert api.get("/repos/acme/shop").status_code == 200
    denied = api.get("/user")
    assert (denied.status_code, denied.json()["message"]) == (403, "Resource not accessible by integration")
    assert as_app.get("/repos/acme/shop").status_code == 403  # a JWT is not an installation token
    assert client(sandbox, shop.admin).get("/app").status_code == 401
    # the token expires after an hour of sandbox time
    sandbox_clock.advance(3601)
    assert api.get("/repos/acme/shop").status_code == 401


@pytest.mark.parametrize(("claims", "message"), [
    ({"iat": -60, "exp": -1}, "'Expiration time' claim ('exp') must be a numeric value"),
    ({"iat": 0, "exp": 3600}, "'Expiration time' claim ('exp') is too far in the future."),
    ({"iat": 300, "exp": 600}, "'Issued at' claim ('iat') must be an Integer"),
])
def test_github_app_jwt_rejected(sandbox: Sandbox, sandbox_clock: FakeClock, claims: dict[str, int],
                                 message: str) -> None:
    credentials = sandbox.add_app("release-bot", "acme")
    now = int(sandbox_clock.now())
    token = jwt.encode({"iss": str(credentials.app_id), **{k: now + v for k, v in claims.items()}},
                       credentials.private_key, algorithm="RS256")
    answer = client(sandbox, token).get("/app")
    assert answer.status_code == 401
    assert answer.json()["message"].startswith(message)
    other_key = sandbox.add_app("other", "acme").private_key
    forged = jwt.encode({"iss": str(credentials.app_id), "iat": now - 60, "exp": now + 500}, other_key,
                        algorithm="RS256")
    assert client(sandbox, forged).get("/app").json()["message"] == "A JSON web token could not be decoded"
