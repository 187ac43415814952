"""Fault injection, rate limits (on a FakeClock: no waiting), latency and the request log."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from sandbox.support import client

from opsgh.clock import FakeClock
from opsgh.sandbox import Sandbox


@pytest.fixture
def token(sandbox: Sandbox) -> str:
    value = sandbox.add_user("alice")
    sandbox.create_repo("acme", "shop", collaborators={"alice": "admin"})
    return value


def main_sha(sandbox: Sandbox) -> str:
    return sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/main") or ""


def test_error_fault_with_times_and_skip(sandbox: Sandbox, token: str) -> None:
    api = client(sandbox, token)
    sandbox.faults.error("GET", "/repos/*/*/branches", 503, times=2, skip=1)
    statuses = [api.get("/repos/acme/shop/branches").status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    answer = api.get("/repos/acme/shop")  # other routes are untouched
    assert answer.status_code == 200
    sandbox.faults.error("*", "re:^/repos/acme/shop$", 500, message="Boom", retry_after=7)
    failed = api.get("/repos/acme/shop")
    assert failed.status_code == 500
    assert failed.json()["message"] == "Boom"
    assert failed.headers["retry-after"] == "7"
    assert failed.headers["x-ratelimit-remaining"]  # GitHub's headers still there
    entry = sandbox.log.find(path="/repos/acme/shop", status=500)[0]
    assert entry.fault == "500"


def test_landed_then_502_applies_the_write(sandbox: Sandbox, token: str) -> None:
    api = client(sandbox, token)
    sandbox.faults.landed_then("POST", "/repos/acme/shop/git/refs", 502)
    answer = api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/x", "sha": main_sha(sandbox)})
    assert answer.status_code == 502
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/x") == main_sha(sandbox)
    again = api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/x", "sha": main_sha(sandbox)})
    assert again.json()["message"] == "Reference already exists"  # a blind retry finds the first write
    assert sandbox.log.entries[-2].fault == "landed+502"


def test_dropped_connection(sandbox: Sandbox, token: str) -> None:
    sandbox.faults.drop("GET", "/repos/acme/shop")
    with pytest.raises(httpx.RemoteProtocolError):
        client(sandbox, token).get("/repos/acme/shop")
    assert client(sandbox, token).get("/repos/acme/shop").status_code == 200
    dropped = sandbox.log.find(path="/repos/acme/shop")[0]
    assert (dropped.status, dropped.fault) == (None, "drop")


def test_landed_then_dropped(sandbox: Sandbox, token: str) -> None:
    sandbox.faults.drop("POST", "/repos/acme/shop/git/refs", landed=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client(sandbox, token).post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/y", "sha": main_sha(sandbox)})
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/y") is not None


def test_timeout_longer_than_the_client_waits(sandbox: Sandbox, token: str) -> None:
    sandbox.faults.timeout("GET", "/repos/acme/shop", seconds=5)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client(sandbox, token, timeout=0.3).get("/repos/acme/shop")
    assert time.monotonic() - started < 2
    # stopping the sandbox wakes the sleeping request (the fixture's teardown does not wait 5 s)


def test_a_landed_timeout_applies_the_write_before_the_silence(sandbox: Sandbox, token: str) -> None:
    sandbox.faults.timeout("POST", "/repos/acme/shop/git/refs", seconds=5, landed=True)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client(sandbox, token, timeout=0.3).post("/repos/acme/shop/git/refs",
                                                 json={"ref": "refs/heads/late", "sha": main_sha(sandbox)})
    assert time.monotonic() - started < 2
    # Already there when the client gives up: a read-back finds it.
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/late") is not None


def test_delay_then_answer(sandbox: Sandbox, token: str) -> None:
    sandbox.faults.delay("GET", "/repos/acme/shop", 0.2, times=1)
    started = time.monotonic()
    assert client(sandbox, token).get("/repos/acme/shop").status_code == 200
    assert time.monotonic() - started >= 0.2
    assert sandbox.log.find(path="/repos/acme/shop")[0].fault == "delay 0.2s"


def test_injected_rate_limit_answers(sandbox: Sandbox, sandbox_clock: FakeClock, token: str) -> None:
    api = client(sandbox, token)
    sandbox.faults.rate_limited("GET", "/repos/acme/shop", "primary", reset_in=120)
    primary = api.get("/repos/acme/shop")
    assert primary.status_code == 403
    assert primary.headers["x-ratelimit-remaining"] == "0"
    assert primary.headers["x-ratelimit-reset"] == str(int(sandbox_clock.now()) + 120)
    assert primary.json()["message"].startswith("API rate limit exceeded")
    sandbox.faults.rate_limited("POST", "/repos/acme/shop/git/refs", "secondary", status=429, retry_after=30)
    secondary = api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/z", "sha": main_sha(sandbox)})
    assert secondary.status_code == 429
    assert secondary.headers["retry-after"] == "30"
    assert "secondary rate limit" in secondary.json()["message"]
    assert secondary.headers["x-github-request-id"] in secondary.json()["message"]
    sandbox.faults.rate_limited("POST", "/repos/acme/shop/git/refs", "secondary-no-retry-after")
    unsaid = api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/z", "sha": main_sha(sandbox)})
    assert unsaid.status_code == 403
    assert "retry-after" not in unsaid.headers
    assert "secondary rate limit" in unsaid.json()["message"]
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/z") is None  # refused, not done


def test_primary_rate_limit_per_token_resets_on_the_sandbox_clock(sandbox: Sandbox, sandbox_clock: FakeClock,
                                                                  token: str) -> None:
    sandbox.rate_limits.configure(limits={"classic-pat": 3})
    other = sandbox.add_user("bob")
    api = client(sandbox, token)
    answers = [api.get("/repos/acme/shop") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 403]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    over = answers[-1]
    assert over.json()["message"] == f"API rate limit exceeded for user ID {sandbox.state.user('alice').id}."
    assert over.headers["x-ratelimit-reset"] == str(int(sandbox_clock.now()) + 3600)
    assert client(sandbox, other).get("/repos/acme/shop").status_code == 200  # another token, another bucket
    assert api.get("/rate_limit").json()["resources"]["core"]["remaining"] == 0  # free, and tells the truth
    sandbox_clock.advance(3600)
    assert api.get("/repos/acme/shop").status_code == 200


def test_rate_limit_scale_and_anonymous_limit(sandbox: Sandbox, token: str) -> None:
    sandbox.rate_limits.configure(scale=0.001)  # 5000 -> 5, 60 -> 1 (never below 1)
    anonymous = client(sandbox)
    assert anonymous.get("/repos/acme/shop").headers["x-ratelimit-limit"] == "1"
    refused = anonymous.get("/repos/acme/shop")
    assert refused.status_code == 403
    assert "Authenticated requests get a higher rate limit" in refused.json()["message"]
    assert client(sandbox, token).get("/repos/acme/shop").headers["x-ratelimit-limit"] == "5"
    sandbox.rate_limits.configure(enabled=False)
    assert anonymous.get("/repos/acme/shop").status_code == 200


def test_secondary_rate_limit_on_content_creation(sandbox: Sandbox, sandbox_clock: FakeClock, token: str) -> None:
    sandbox.rate_limits.enable_secondary(per_minute=2, retry_after=60)
    api = client(sandbox, token)
    sha = main_sha(sandbox)
    created = [api.post("/repos/acme/shop/git/refs", json={"ref": f"refs/heads/b{n}", "sha": sha}) for n in range(3)]
    assert [c.status_code for c in created] == [201, 201, 403]
    assert created[2].headers["retry-after"] == "60"
    assert created[2].json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert sandbox.app.git_repo(sandbox.repo("acme", "shop")).ref("refs/heads/b2") is None  # not applied
    assert api.get("/repos/acme/shop").status_code == 200  # reads are not content creation
    sandbox_clock.advance(61)
    assert api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/b2", "sha": sha}).status_code == 201


def test_secondary_rate_limit_on_rest_points(sandbox: Sandbox, sandbox_clock: FakeClock, token: str) -> None:
    # GitHub: 900 points a minute; a GET costs 1, a write 5 (scaled down here to 12).
    sandbox.rate_limits.enable_secondary(per_minute=80, points_per_minute=12)
    api = client(sandbox, token)
    sha = main_sha(sandbox)
    assert api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/p1", "sha": sha}).status_code == 201
    reads = [api.get("/repos/acme/shop").status_code for _ in range(8)]
    assert reads == [200] * 7 + [403]  # 5 + 7 = 12 points
    refused = api.post("/repos/acme/shop/git/refs", json={"ref": "refs/heads/p2", "sha": sha})
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("You have exceeded a secondary rate limit.")
    assert client(sandbox).get("/rate_limit").status_code == 200  # free, as on GitHub
    sandbox_clock.advance(61)
    assert api.get("/repos/acme/shop").status_code == 200


def test_latency_is_added_to_every_request() -> None:
    with Sandbox(latency_ms=150, clock=FakeClock()) as sandbox:
        started = time.monotonic()
        assert httpx.get(sandbox.url + "/rate_limit").status_code == 200
        assert time.monotonic() - started >= 0.15
        assert sandbox.log.entries[0].duration_ms >= 150


def test_request_log_in_memory_and_as_json_lines(tmp_path: Path) -> None:
    log_file = tmp_path / "requests.jsonl"
    with Sandbox(clock=FakeClock(), log_path=log_file) as sandbox:
        token = sandbox.add_user("alice")
        sandbox.create_repo("acme", "shop", private=True, collaborators={"alice": "admin"})
        client(sandbox, token).get("/repos/acme/shop/branches", params={"per_page": 1})
        client(sandbox).get("/repos/acme/shop")
        entries = sandbox.log.entries
    assert [(e.method, e.path, e.query, e.status, e.user, e.token_kind) for e in entries] == [
        ("GET", "/repos/acme/shop/branches", "per_page=1", 200, "alice", "classic-pat"),
        ("GET", "/repos/acme/shop", "", 404, None, "anonymous"),
    ]
    assert entries[0].operation == "GET /repos/{owner}/{repo}/branches"
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [line["path"] for line in lines] == ["/repos/acme/shop/branches", "/repos/acme/shop"]
    assert set(lines[0]) >= {"time", "method", "path", "query", "status", "duration_ms", "user", "token_kind",
                             "fault", "request_id"}
    assert re.fullmatch(r"[0-9A-F]{4}:[0-9A-F]{4}:[0-9A-F]{6}:[0-9A-F]{6}:[0-9A-F]{8}", lines[0]["request_id"])
