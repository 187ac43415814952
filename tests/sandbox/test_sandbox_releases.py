"""Releases, generated release notes and annotated tags in the sandbox, over HTTP, contract-checked."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox.issues_support import Shop, make_shop, merge_pull, open_pull
from sandbox.support import ContractRecorder

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox


@pytest.fixture
def shop(sandbox: Sandbox) -> Shop:
    return make_shop(sandbox)


def release(shop: Shop, tag: str, **fields: Any) -> dict[str, Any]:
    response = shop.writer.post("/repos/acme/shop/releases", json={"tag_name": tag, **fields})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def tag_target(shop: Shop, tag: str) -> str | None:
    response = shop.reader.get(f"/repos/acme/shop/git/ref/tags/{tag}")
    return str(response.json()["object"]["sha"]) if response.status_code == 200 else None


def test_release_lifecycle(sandbox: Sandbox, shop: Shop, sandbox_clock: FakeClock,
                           sandbox_contract: ContractRecorder) -> None:
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    first = release(shop, "v1.0.0", name="First", body="Hello")
    assert (first["tag_name"], first["target_commitish"], first["draft"]) == ("v1.0.0", "main", False)
    assert first["author"]["login"] == "bob"
    assert first["published_at"] is not None
    assert tag_target(shop, "v1.0.0") == main  # publishing created the tag at the target
    duplicate = shop.writer.post("/repos/acme/shop/releases", json={"tag_name": "v1.0.0"})
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [{"resource": "Release", "field": "tag_name", "code": "already_exists"}]
    assert shop.reader.get(f"/repos/acme/shop/releases/{first['id']}").json()["name"] == "First"
    assert shop.reader.get("/repos/acme/shop/releases/tags/v1.0.0").json()["id"] == first["id"]
    assert shop.reader.get("/repos/acme/shop/releases/latest").json()["id"] == first["id"]
    sandbox_clock.advance(60)
    sandbox.commit("acme", "shop", "main", {"v2.py": "2\n"}, "Two", author="bob")
    second = release(shop, "v2.0.0")
    assert tag_target(shop, "v2.0.0") != main
    assert shop.reader.get("/repos/acme/shop/releases/latest").json()["id"] == second["id"]
    assert [r["tag_name"] for r in shop.reader.get("/repos/acme/shop/releases").json()] == ["v2.0.0", "v1.0.0"]
    edited = shop.writer.patch(f"/repos/acme/shop/releases/{first['id']}", json={"body": "Edited", "name": "One"})
    assert (edited.json()["body"], edited.json()["name"]) == ("Edited", "One")
    sandbox_contract.expect("response status 422", operation="PATCH /repos/{owner}/{repo}/releases/{release_id}")
    renamed = shop.writer.patch(f"/repos/acme/shop/releases/{first['id']}", json={"tag_name": "v2.0.0"})
    assert renamed.status_code == 422
    assert shop.reader.delete(f"/repos/acme/shop/releases/{first['id']}").status_code == 403
    assert shop.writer.delete(f"/repos/acme/shop/releases/{first['id']}").status_code == 204
    assert shop.reader.get("/repos/acme/shop/releases/tags/v1.0.0").status_code == 404
    assert tag_target(shop, "v1.0.0") == main  # deleting a release keeps its tag


def test_drafts_prereleases_and_latest(sandbox: Sandbox, shop: Shop) -> None:
    draft = release(shop, "v3.0.0", draft=True)
    assert draft["published_at"] is None
    assert tag_target(shop, "v3.0.0") is None  # no tag until it is published
    assert shop.reader.get("/repos/acme/shop/releases").json() == []  # drafts: push access only
    assert [r["id"] for r in shop.writer.get("/repos/acme/shop/releases").json()] == [draft["id"]]
    assert shop.reader.get("/repos/acme/shop/releases/latest").status_code == 404
    stable = release(shop, "v2.9.0")
    pre = release(shop, "v3.0.0-rc.1", prerelease=True)
    assert shop.reader.get("/repos/acme/shop/releases/latest").json()["id"] == stable["id"]  # never a prerelease
    published = shop.writer.patch(f"/repos/acme/shop/releases/{draft['id']}", json={"draft": False})
    assert published.json()["draft"] is False
    assert published.json()["published_at"] is not None
    assert tag_target(shop, "v3.0.0") is not None
    assert shop.reader.get("/repos/acme/shop/releases/latest").json()["id"] == draft["id"]
    release(shop, "v2.9.1", make_latest="false")  # a backport release that must not become latest
    assert shop.reader.get("/repos/acme/shop/releases/latest").json()["id"] == draft["id"]
    assert pre["prerelease"] is True


def test_generated_release_notes_list_merged_pull_requests(sandbox: Sandbox, shop: Shop) -> None:
    release(shop, "v1.0.0")
    titles = []
    for index in range(2):
        branch = f"feature/{index}"
        sandbox.commit("acme", "shop", branch, {f"f{index}.py": "x\n"}, f"Feature {index}", author="bob")
        number = open_pull(shop, branch, "main", f"Add feature {index}")
        merge_pull(shop, number)
        titles.append((f"Add feature {index}", number))
    sandbox.commit("acme", "shop", "feature/open", {"o.py": "o\n"}, "Unmerged", author="bob")
    open_pull(shop, "feature/open", "main", "Still open")
    notes = shop.writer.post("/repos/acme/shop/releases/generate-notes", json={"tag_name": "v1.1.0"})
    assert notes.status_code == 200
    body = notes.json()["body"]
    assert notes.json()["name"] == "v1.1.0"
    assert body.startswith("## What's Changed\n")
    for title, number in titles:
        assert f"* {title} by @bob in {sandbox.url}/acme/shop/pull/{number}" in body
    assert "Still open" not in body
    assert body.endswith(f"**Full Changelog**: {sandbox.url}/acme/shop/compare/v1.0.0...v1.1.0")
    generated = release(shop, "v1.1.0", generate_release_notes=True, body="Highlights first.")
    assert generated["name"] == "v1.1.0"
    assert generated["body"].startswith("Highlights first.\n\n## What's Changed")
    nothing_new = shop.writer.post("/repos/acme/shop/releases/generate-notes", json={"tag_name": "v1.2.0"}).json()
    assert nothing_new["body"] == f"**Full Changelog**: {sandbox.url}/acme/shop/compare/v1.1.0...v1.2.0"
    from_start = shop.writer.post("/repos/acme/shop/releases/generate-notes", json={
        "tag_name": "v1.1.0", "previous_tag_name": "v1.0.0"}).json()
    assert from_start["body"] == body


def test_annotated_tags_are_real_git_tags(sandbox: Sandbox, shop: Shop) -> None:
    main = sandbox.app.git_repo(sandbox.repo("acme", "shop")).resolve("main")
    created = shop.writer.post("/repos/acme/shop/git/tags", json={
        "tag": "v4.0.0", "message": "Release 4.0.0", "object": main, "type": "commit",
        "tagger": {"name": "Release Bot", "email": "release@example.invalid", "date": "2027-01-05T10:00:00Z"}})
    assert created.status_code == 201
    tag = created.json()
    assert tag["message"] == "Release 4.0.0\n"
    assert tag["tagger"] == {"name": "Release Bot", "email": "release@example.invalid", "date": "2027-01-05T10:00:00Z"}
    assert tag["object"]["sha"] == main
    git = sandbox.app.git_repo(sandbox.repo("acme", "shop"))
    assert git.object_type(tag["sha"]) == "tag"
    assert f"object {main}\ntype commit\ntag v4.0.0\n" in git.run("cat-file", "-p", tag["sha"])
    ref = shop.writer.post("/repos/acme/shop/git/refs", json={"ref": "refs/tags/v4.0.0", "sha": tag["sha"]})
    assert ref.status_code == 201
    assert ref.json()["object"]["type"] == "tag"
    assert git.resolve("v4.0.0") == main  # the tag peels to the commit
    fetched = shop.reader.get(f"/repos/acme/shop/git/tags/{tag['sha']}").json()
    assert (fetched["tag"], fetched["message"], fetched["tagger"]["name"]) == ("v4.0.0", "Release 4.0.0\n",
                                                                                "Release Bot")
    default_tagger = shop.writer.post("/repos/acme/shop/git/tags", json={
        "tag": "v4.0.1", "message": "m", "object": main, "type": "commit"}).json()
    assert default_tagger["tagger"]["email"] == "bob@example.invalid"  # the caller, at the sandbox's time
    bad = shop.writer.post("/repos/acme/shop/git/tags", json={"tag": "v5", "message": "m", "object": "0" * 40,
                                                               "type": "commit"})
    assert bad.status_code == 422
    assert shop.reader.get(f"/repos/acme/shop/git/tags/{main}").status_code == 404  # a commit is not a tag
    assert shop.reader.post("/repos/acme/shop/git/tags", json={
        "tag": "v6", "message": "m", "object": main, "type": "commit"}).status_code == 403
    assert shop.reader.get("/repos/acme/shop/releases/tags/v4.0.0").status_code == 404  # a tag is not a release
