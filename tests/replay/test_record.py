"""`opsgh --record FILE`: a cassette of a real run, with every token scrubbed, that the suite can replay.

End to end through `opsgh.cli.run` against a small fake GitHub on 127.0.0.1 (a random port): the
fake checks the credentials it receives, so a token missing from the cassette was really sent and
really scrubbed, not merely absent.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from local_http import QuietHandler, base_url, serving

from opsgh.cli import run
from opsgh.errors import ExitCode

# Realistic shapes (prefix + 36 base62 characters), so the scrubber cannot pass by missing the format.
PAT = "ghp_" + "R3c0rdT0k3nTh4tMustN3v3rL34kXy9Zq2Wv"
INSTALLATION_TOKEN = "ghs_" + "1nst4ll4t10nT0k3nAlsoN3v3rL34ks0Kp7M"
INSTALLATION_ID = 4242
REPO = "o/r"


@dataclass
class Seen:
    """What the fake GitHub received: (method, path, Authorization)."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def credentials(self) -> set[str]:
        return {auth for _, _, auth in self.requests}


class FakeGitHub(QuietHandler):
    """The requests of `opsgh --repo o/r doctor`, answered like GitHub (PAT or GitHub App)."""

    seen = Seen()

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, body, {"X-GitHub-Request-Id": "0000:1111:2222:3333:4444", **(headers or {})})

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"message": message, "documentation_url": "https://docs.github.com/rest",
                            "status": str(status)})

    def _handle(self, method: str) -> None:
        auth = self.headers.get("Authorization", "")
        path = self.path.split("?", 1)[0]
        self.seen.requests.append((method, self.path, auth))
        if path in (f"/repos/{REPO}/installation", f"/app/installations/{INSTALLATION_ID}/access_tokens"):
            self._app(method, path, auth)
            return
        if auth not in (f"Bearer {PAT}", f"Bearer {INSTALLATION_TOKEN}"):
            self._error(401, "Bad credentials")
            return
        installation = auth == f"Bearer {INSTALLATION_TOKEN}"
        limits = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4990", "X-RateLimit-Reset": "1900000000"}
        if method != "GET":
            self._error(404, "Not Found")
        elif path == "/rate_limit":
            core = {"limit": 5000, "remaining": 4990, "reset": 1900000000, "used": 10}
            self._send(200, {"resources": {"core": core}, "rate": core}, limits)
        elif path == "/user":
            if installation:
                self._error(403, "Resource not accessible by integration")
            else:
                self._send(200, {"login": "octocat", "id": 1, "type": "User"},
                           {**limits, "X-OAuth-Scopes": "repo, workflow"})
        elif path == f"/repos/{REPO}":
            repo = {"id": 1, "name": "r", "full_name": REPO, "default_branch": "main", "private": True,
                    "archived": False, "fork": False, "allow_merge_commit": True, "allow_squash_merge": True,
                    "allow_rebase_merge": False}
            if not installation:  # installation tokens get no `permissions` object
                repo["permissions"] = {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True}
            self._send(200, repo, limits)
        elif path in (f"/repos/{REPO}/branches/main", f"/repos/{REPO}/branches/prod"):
            name = path.rsplit("/", 1)[1]
            self._send(200, {"name": name, "commit": {"sha": ("a" if name == "main" else "b") * 40, "url": ""},
                             "protected": name == "prod"})
        elif path == f"/repos/{REPO}/actions/permissions/workflow":
            self._send(200, {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": True})
        else:  # .github/opsgh.yml and anything else
            self._error(404, "Not Found")

    def _app(self, method: str, path: str, auth: str) -> None:
        if not auth.startswith("Bearer eyJ"):  # the App's JWT
            self._error(401, "A JSON web token could not be decoded")
        elif method == "GET" and path.endswith("/installation"):
            self._send(200, {"id": INSTALLATION_ID, "app_id": 12345, "target_type": "Organization",
                             "account": {"login": "o", "id": 2}})
        elif method == "POST":
            self._send(201, {"token": INSTALLATION_TOKEN, "expires_at": "2099-01-01T00:00:00Z",
                             "permissions": {"contents": "write", "pull_requests": "write"},
                             "repository_selection": "selected"})
        else:
            self._error(404, "Not Found")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


@dataclass
class Server:
    url: str
    seen: Seen
    stop: Callable[[], None]


@pytest.fixture
def fake_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.chdir(tmp_path)  # no local .github/opsgh.yml
    FakeGitHub.seen = Seen()
    with ExitStack() as stack:
        httpd = stack.enter_context(serving(FakeGitHub))
        yield Server(base_url(httpd), FakeGitHub.seen, stack.close)


def _cassette_bytes(path: Path) -> bytes:
    """Everything the cassette holds: the file as written, and each URI, header and body decoded (a body
    stored as base64 `!!binary` would hide a token from a plain text search)."""
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    raw = path.read_bytes()
    parts = [raw]
    requests, responses = deserialize(raw.decode("utf-8"), yamlserializer)
    for request, response in zip(requests, responses, strict=True):
        parts.append(request.uri.encode())
        parts.extend(f"{k}: {v}".encode() for k, v in request.headers.items())
        body = request.body or b""
        parts.append(body if isinstance(body, bytes) else body.encode())
        parts.extend(f"{k}: {v}".encode() for k, v in response["headers"].items())
        answer = response["body"]["string"]
        parts.append(answer if isinstance(answer, bytes) else answer.encode())
    return b"\n".join(parts)


def _recorded(path: Path) -> list[tuple[Any, dict[str, Any]]]:
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    requests, responses = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    return list(zip(requests, responses, strict=True))


def _assert_no_secret(path: Path, *secrets: str) -> None:
    everything = _cassette_bytes(path)
    for secret in secrets:
        token_body = secret.split("_", 1)[-1]
        for form in (secret, token_body, base64.b64encode(secret.encode()).decode()):
            assert form.encode() not in everything, f"the cassette contains a secret ({secret[:4]}...)"


def _answers(gateway: Any) -> dict[str, Any]:
    """What doctor reads, through the gateway's public methods."""
    return {
        "token": gateway.token_report(),
        "repo": gateway.get_repository(REPO),
        "config": gateway.get_file_text(REPO, ".github/opsgh.yml", "main"),
        "main": gateway.get_branch(REPO, "main"),
        "prod": gateway.get_branch(REPO, "prod"),
        "workflow": gateway.get_workflow_permissions(REPO),
    }


def test_record_writes_a_scrubbed_cassette_that_replays(fake_github: Server, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import vcr

    from opsgh.clock import FakeClock
    from opsgh.github.gateway import GitHubGateway

    cassette = tmp_path / "bug-report.yaml"
    code = run(["--repo", REPO, "--record", str(cassette), "doctor"],
               environ={"GITHUB_TOKEN": PAT, "GITHUB_API_URL": fake_github.url})
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, out + err
    assert f"recorded the HTTP exchanges (tokens scrubbed) to {cassette}" in err

    # The token really went to GitHub...
    assert fake_github.seen.credentials() == {f"Bearer {PAT}"}
    # ...every request is in the cassette, in order...
    exchanges = _recorded(cassette)
    assert [(rq.method, rq.uri.removeprefix(fake_github.url)) for rq, _ in exchanges] == [
        (method, path) for method, path, _ in fake_github.seen.requests]
    recorded_paths = {rq.path for rq, _ in exchanges}
    assert {"/rate_limit", "/user", f"/repos/{REPO}", f"/repos/{REPO}/branches/main", f"/repos/{REPO}/branches/prod",
            f"/repos/{REPO}/actions/permissions/workflow"} <= recorded_paths
    assert all(rq.headers.get("Authorization") == "REDACTED" for rq, _ in exchanges)
    # ...and the token is nowhere in it.
    _assert_no_secret(cassette, PAT)

    live_gateway = GitHubGateway.connect(token=PAT, api_url=fake_github.url, clock=FakeClock(), jitter=None)
    live = _answers(live_gateway)
    live_gateway.close()
    fake_github.stop()  # from here on, only the cassette can answer

    recorder = vcr.VCR(record_mode="none", match_on=("method", "path", "query"))
    with recorder.use_cassette(str(cassette), allow_playback_repeats=False) as played:
        replay_gateway = GitHubGateway.connect(token=PAT, api_url=fake_github.url, clock=FakeClock(), jitter=None)
        replayed = _answers(replay_gateway)
        replay_gateway.close()
    assert replayed == live
    assert (live["token"].login, live["token"].scopes) == ("octocat", ("repo", "workflow"))
    assert (live["main"].sha, live["prod"].protected) == ("a" * 40, True)
    assert played.play_count == len(replay_gateway.ledger) == 7


def test_record_scrubs_a_github_app_installation_token_and_the_jwt(fake_github: Server, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    cassette = tmp_path / "app.yaml"
    code = run(["--repo", REPO, "--record", str(cassette), "doctor"],
               environ={"OPSGH_APP_ID": "12345", "OPSGH_APP_PRIVATE_KEY": pem, "GITHUB_API_URL": fake_github.url})
    assert code == ExitCode.OK

    credentials = fake_github.seen.credentials()
    jwts = {auth.removeprefix("Bearer ") for auth in credentials if auth.startswith("Bearer eyJ")}
    # Both were really used.
    assert jwts
    assert f"Bearer {INSTALLATION_TOKEN}" in credentials
    exchanges = _recorded(cassette)
    minted = [response for request, response in exchanges
              if request.path == f"/app/installations/{INSTALLATION_ID}/access_tokens"]
    assert len(minted) == 1
    # The answer is kept (a bug report needs its shape), the token in it is not.
    assert json.loads(minted[0]["body"]["string"])["token"] == "REDACTED"
    _assert_no_secret(cassette, INSTALLATION_TOKEN, *jwts)
    assert b"PRIVATE KEY" not in _cassette_bytes(cassette)


def test_record_without_vcrpy_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "vcr", None)  # `import vcr` now raises ImportError
    cassette = tmp_path / "run.yaml"
    code = run(["--repo", REPO, "--record", str(cassette), "doctor"],
               environ={"GITHUB_TOKEN": PAT, "GITHUB_API_URL": "http://127.0.0.1:9"})
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert "--record needs the vcrpy package" in err
    assert "pip install 'opsgh[record]'" in err
    assert "Traceback" not in out + err
    assert not cassette.exists()
