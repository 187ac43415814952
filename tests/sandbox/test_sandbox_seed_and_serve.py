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
