"""Token kinds, and GitHub App authentication against a fake GitHub with a freshly generated key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from opsgh.clock import FakeClock
from opsgh.errors import NotFound, Unauthorized, UsageError
from opsgh.github.auth import StaticToken, token_kind
from opsgh.github.gateway import GitHubGateway


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("ghp_" + "a" * 36, "classic-pat"),
        ("github_pat_11ABCDEFG_" + "b" * 59, "fine-grained-pat"),
        ("ghs_" + "c" * 36, "installation"),
        ("gho_" + "d" * 36, "oauth"),
        ("ghu_" + "e" * 36, "user-to-server"),
        ("0123456789abcdef0123456789abcdef01234567", "unknown"),  # a pre-2021 40-hex token
        ("", "none"),
        (None, "none"),
    ],
)
def test_token_kind_from_the_prefix(token: str | None, kind: str) -> None:
    assert token_kind(token) == kind


def test_in_actions_a_ghs_token_is_most_likely_the_github_token() -> None:
    assert token_kind("ghs_" + "c" * 36, in_actions=True) == "actions"
    assert token_kind("ghp_" + "a" * 36, in_actions=True) == "classic-pat"


def test_a_static_token_hides_itself() -> None:
    provider = StaticToken("  ghp_topsecret  ")
    assert provider() == "ghp_topsecret"
    assert "topsecret" not in repr(provider)
    assert provider.kind == "classic-pat"


# ----------------------------------------------------------------------------- GitHub App


@pytest.fixture(scope="module")
def rsa_key() -> tuple[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


class FakeAppGitHub:
    """Checks the JWT like GitHub does and hands out numbered installation tokens."""

    def __init__(
        self, public_key: Any, clock: FakeClock, *, installed: bool = True, installations: int = 1
    ) -> None:
        self.public_key = public_key
        self.clock = clock
        self.installed = installed
        self.installations = installations
        self.requests: list[tuple[str, str, str]] = []
        self.claims: list[dict[str, Any]] = []
        self.minted = 0

    def _jwt_ok(self, request: httpx.Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(
                value,
                self.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return False
        self.claims.append(claims)
        return scheme == "Bearer"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        self.requests.append((request.method, request.url.path, auth))
        path = request.url.path
        if (path.startswith("/app/") or path.endswith("/installation")) and not self._jwt_ok(request):
            return httpx.Response(401, json={"message": "A JSON web token could not be decoded"})
        if path == "/repos/acme/shop/installation":
            if not self.installed:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"id": 99, "app_id": 1234})
        if path == "/app/installations":
            return httpx.Response(200, json=[{"id": 100 + i} for i in range(self.installations)])
        if path.startswith("/app/installations/") and path.endswith("/access_tokens"):
            self.minted += 1
            expires = datetime.fromtimestamp(self.clock.now() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return httpx.Response(
                201, json={"token": f"ghs_installation{self.minted}", "expires_at": expires}
            )
        if path == "/repos/acme/shop":
            if not auth.startswith("Bearer ghs_installation"):
                return httpx.Response(401, json={"message": "Bad credentials"})
            return httpx.Response(200, json={"full_name": "acme/shop", "default_branch": "main"})
        return httpx.Response(404, json={"message": "Not Found"})


def app_gateway(
    pem: str, server: FakeAppGitHub, clock: FakeClock, repo: str | None = "acme/shop"
) -> GitHubGateway:
    return GitHubGateway.connect(
        app_id="1234",
        private_key=pem,
        repo=repo,
        clock=clock,
        jitter=None,
        http_transport=httpx.MockTransport(server),
    )


def test_app_auth_finds_the_installation_and_uses_its_token(rsa_key: tuple[str, Any]) -> None:
    pem, public = rsa_key
    clock = FakeClock()
    server = FakeAppGitHub(public, clock)
    gateway = app_gateway(pem, server, clock)
    assert gateway.get_repository("acme/shop").default_branch == "main"
    assert [(m, p) for m, p, _ in server.requests] == [
        ("GET", "/repos/acme/shop/installation"),
        ("POST", "/app/installations/99/access_tokens"),
        ("GET", "/repos/acme/shop"),
    ]
    assert server.requests[2][2] == "Bearer ghs_installation1"
    now = int(clock.now())
    for claims in server.claims:
        assert claims["iss"] == "1234"
        assert claims["iat"] == now - 60
        assert claims["exp"] - now <= 600
    assert gateway.token_report().kind == "app"


def test_the_installation_token_is_cached_until_5_minutes_before_expiry(rsa_key: tuple[str, Any]) -> None:
    pem, public = rsa_key
    clock = FakeClock()
    server = FakeAppGitHub(public, clock)
    gateway = app_gateway(pem, server, clock)
    gateway.get_repository("acme/shop")
    clock.advance(3600 - 301)  # 5 min + 1 s before expiry: still good
    gateway.get_repository("acme/shop")
    assert server.minted == 1
    clock.advance(2)  # now inside the last 5 minutes: renew
    gateway.get_repository("acme/shop")
    assert server.minted == 2
    assert server.requests[-1][2] == "Bearer ghs_installation2"
    # The installation was looked up once.
    assert sum(1 for _, p, _ in server.requests if p.endswith("/installation")) == 1


def test_app_not_installed_on_the_repo(rsa_key: tuple[str, Any]) -> None:
    pem, public = rsa_key
    clock = FakeClock()
    gateway = app_gateway(pem, FakeAppGitHub(public, clock, installed=False), clock)
    with pytest.raises(NotFound, match="App 1234 is not installed on acme/shop") as caught:
        gateway.get_repository("acme/shop")
    assert "install the App" in caught.value.hint


def test_without_a_repo_a_single_installation_is_used(rsa_key: tuple[str, Any]) -> None:
    pem, public = rsa_key
    clock = FakeClock()
    server = FakeAppGitHub(public, clock)
    app_gateway(pem, server, clock, repo=None).get_repository("acme/shop")
    assert ("POST", "/app/installations/100/access_tokens") in [(m, p) for m, p, _ in server.requests]


def test_without_a_repo_several_installations_are_ambiguous(rsa_key: tuple[str, Any]) -> None:
    pem, public = rsa_key
    clock = FakeClock()
    gateway = app_gateway(pem, FakeAppGitHub(public, clock, installations=2), clock, repo=None)
    with pytest.raises(UsageError, match="2 installations"):
        gateway.get_repository("acme/shop")


def test_a_rejected_jwt_says_what_to_check(rsa_key: tuple[str, Any]) -> None:
    pem, _ = rsa_key
    other_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    clock = FakeClock()
    gateway = app_gateway(pem, FakeAppGitHub(other_public, clock), clock)
    with pytest.raises(Unauthorized) as caught:
        gateway.get_repository("acme/shop")
    assert "clock" in caught.value.hint


def test_a_bad_private_key_fails_at_connect() -> None:
    with pytest.raises(UsageError, match="private key cannot sign"):
        GitHubGateway.connect(
            app_id="1234", private_key="-----BEGIN RSA PRIVATE KEY-----\nnope\n", repo="a/b"
        )


def test_a_non_numeric_app_id_fails_at_connect(rsa_key: tuple[str, Any]) -> None:
    with pytest.raises(UsageError, match="numeric"):
        GitHubGateway.connect(app_id="my-app", private_key=rsa_key[0], repo="a/b")


def test_secrets_stay_out_of_reprs(rsa_key: tuple[str, Any]) -> None:
    pem, public = rsa_key
    clock = FakeClock()
    server = FakeAppGitHub(public, clock)
    gateway = app_gateway(pem, server, clock)
    gateway.get_repository("acme/shop")
    provider = gateway.transport._token_provider
    for text in (repr(gateway), repr(gateway.transport), repr(provider), gateway.ledger.as_json()):
        assert "ghs_installation" not in text
        assert "PRIVATE KEY" not in text
        assert "eyJ" not in text  # a JWT
