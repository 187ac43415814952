"""`seed_demo` (opsgh sandbox seed / opsgh demo) and `serve` (opsgh sandbox serve)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from sandbox.support import client

from opsgh.sandbox import Sandbox, SeedInfo, seed_demo, serve


def test_seed_demo(sandbox: Sandbox) -> None:
    info = seed_demo(sandbox)
    assert info.full_name == "acme/webshop"
    alice = client(sandbox, info.tokens["alice"])
    comparison = alice.get("/repos/acme/webshop/compare/prod...main").json()
    assert (comparison["status"], comparison["ahead_by"]) == ("ahead", 3)
    assert comparison["commits"][0]["author"]["login"] in ("alice", "bob")
    branches = {b["name"]: b["protected"] for b in alice.get("/repos/acme/webshop/branches").json()}
    assert branches == {"main": True, "prod": True}
    assert alice.get("/repos/acme/webshop/branches/prod").json()["commit"]["sha"] == info.release_sha
    assert client(sandbox, info.actions_token).get("/repos/acme/webshop").status_code == 200
    permission = alice.get("/repos/acme/webshop/collaborators/carol/permission").json()
    assert permission["role_name"] == "read"
    pulls = alice.get("/repos/acme/webshop/pulls", params={"state": "all"}).json()
    assert sorted((p["number"], p["merged_at"] is not None, p["base"]["ref"]) for p in pulls) == [
        (1, True, "main"), (2, True, "main"), (3, True, "main"), (4, True, "main")]
    assert [n for n, _ in info.merged_pulls] == [1, 2, 3, 4]
    runs = alice.get(f"/repos/acme/webshop/commits/{pulls[0]['head']['sha']}/check-runs").json()
    assert [(r["name"], r["conclusion"]) for r in runs["check_runs"]] == [("ci", "success")]


def test_serve_blocks_until_stopped_and_keeps_state(tmp_path: Path) -> None:
    seen: list[SeedInfo] = []

    def ready(running: Sandbox) -> None:
        seen.append(seed_demo(running))
        assert httpx.get(f"{running.url}/repos/acme/webshop").status_code == 200
        threading.Timer(0.05, running.stop).start()

    serve(0, tmp_path, on_ready=ready)  # returns once stopped
    assert seen
    with Sandbox(state_dir=tmp_path) as again:
        token = seen[0].tokens["bob"]
        assert client(again, token).get("/repos/acme/webshop/branches/main").json()["commit"]["sha"] == \
            seen[0].staging_sha


def test_a_label_without_description_is_null_in_the_pull_list_as_on_github(sandbox: Sandbox) -> None:
    info = seed_demo(sandbox)
    alice = client(sandbox, info.tokens["alice"])
    r = alice.post("/repos/acme/webshop/issues/1/labels", json={"labels": ["no-description-label"]})
    assert r.status_code == 200
    pulls = alice.get("/repos/acme/webshop/pulls", params={"state": "all"}).json()
    assert any(label["description"] is None for p in pulls for label in p["labels"])
