"""State that survives a restart (`--state DIR`), collections, and the fixture's start-up time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sandbox.support import client

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox
from opsgh.sandbox.state import BranchProtection, Collection, RepoState, SandboxState


@dataclass
class Note:
    id: int
    text: str
    tags: list[str] = field(default_factory=list)
    reviewed_by: str | None = None


NOTES = Collection("test-notes", Note, key=int)
SITE_NOTES = Collection("test-site-notes", Note, key=str)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with Sandbox(state_dir=tmp_path, clock=FakeClock()) as first:
        token = first.add_user("alice", scopes=("repo", "workflow"))
        repo = first.create_repo("acme", "shop", private=True, collaborators={"alice": "admin"})
        sha = first.commit("acme", "shop", "main", {"a.txt": "a\n"}, "A", author="alice")
        first.protect("acme", "shop", "main", required_pull_request_reviews={"required_approving_review_count": 1})
        number = repo.next_number()
        repo.items(NOTES)[7] = Note(7, "seven", ["x"], "alice")
        first.state.items(SITE_NOTES)["k"] = Note(1, "site")
        app_credentials = first.add_app("release-bot", "acme")
        first.app.persist()
    assert (tmp_path / "state.json").is_file()
    assert (tmp_path / "git" / "acme" / "shop.git" / "HEAD").is_file()

    with Sandbox(state_dir=tmp_path, clock=FakeClock()) as second:
        api = client(second, token)
        assert api.get("/repos/acme/shop").json()["private"] is True  # same token, same permissions
        assert api.get("/repos/acme/shop/branches/main").json()["commit"]["sha"] == sha
        assert api.get("/user").headers["x-oauth-scopes"] == "repo, workflow"
        again = second.repo("acme", "shop")
        assert again.protection["main"] == BranchProtection(
            "main", required_pull_request_reviews={"required_approving_review_count": 1})
        assert again.next_number() == number + 1  # issue/PR numbers continue
        assert again.items(NOTES) == {7: Note(7, "seven", ["x"], "alice")}
        assert second.state.items(SITE_NOTES) == {"k": Note(1, "site")}
        assert second.state.apps[app_credentials.app_id].slug == "release-bot"
        assert second.add_user("bob") != token
        assert second.state.user("bob").id > second.state.user("alice").id  # ids do not restart


def test_collections_decode_lazily_and_round_trip() -> None:
    state = SandboxState()
    state.repos["a/b"] = repo = RepoState(1, "a", "b")
    repo.items(NOTES)[1] = Note(1, "one")
    data = state.to_json()
    assert data["repos"]["a/b"]["collections"] == {"test-notes": {"1": {"id": 1, "text": "one", "tags": [],
                                                                        "reviewed_by": None}}}
    loaded = SandboxState.from_json(data)
    raw = loaded.repos["a/b"].collections["test-notes"]
    assert raw == {"1": {"id": 1, "text": "one", "tags": [], "reviewed_by": None}}  # not decoded yet
    assert loaded.repos["a/b"].items(NOTES) == {1: Note(1, "one")}
    assert SandboxState.from_json(loaded.to_json()).repos["a/b"].items(NOTES) == {1: Note(1, "one")}
    with pytest.raises(ValueError, match="already holds"):
        Collection("test-notes", BranchProtection, key=int)
    with pytest.raises(ValueError, match="format"):
        SandboxState.from_json({"format": 99})


def test_fixture_start_up_is_well_under_a_second() -> None:
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        sandbox = Sandbox(clock=FakeClock())
        sandbox.start()
        token = sandbox.add_user("alice")
        sandbox.create_repo("acme", "shop", collaborators={"alice": "admin"})
        assert httpx.get(sandbox.url + "/repos/acme/shop", headers={"authorization": f"token {token}"}
                         ).status_code == 200
        sandbox.stop()
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.5, timings
