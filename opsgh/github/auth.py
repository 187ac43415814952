"""Credentials: a token given by the caller (PAT, GITHUB_TOKEN) or a GitHub App installation token.

Both are token providers: callables the transport asks for the current token just before each
attempt. Neither shows the token in its repr.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from opsgh.clock import Clock
from opsgh.errors import GitHubError, NotFound, Unauthorized, UsageError

if TYPE_CHECKING:
    from opsgh.github.transport import Transport

# https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
_PREFIXES = (
    ("github_pat_", "fine-grained-pat"),
    ("ghp_", "classic-pat"),
    ("ghs_", "installation"),
    ("gho_", "oauth"),
    ("ghu_", "user-to-server"),
)
REFRESH_MARGIN = 300.0  # renew an installation token 5 minutes before it expires
JWT_BACKDATE = 60  # GitHub's advice: iat 60 s in the past, against clock drift
JWT_LIFETIME = 540  # GitHub allows at most 10 minutes; stay under it despite drift


def token_kind(token: str | None, *, in_actions: bool = False) -> str:
    """What kind of token this is, from its prefix (for `doctor`).

    `ghs_` is both an App installation token and the Actions GITHUB_TOKEN; inside Actions the
    latter is by far the likelier, so it is reported as "actions" there.
    """
    if not token:
        return "none"
    for prefix, kind in _PREFIXES:
        if token.startswith(prefix):
            return "actions" if kind == "installation" and in_actions else kind
    return "unknown"


class StaticToken:
    """A token handed in by the caller (PAT, GITHUB_TOKEN, GH_TOKEN)."""

    def __init__(self, token: str | None) -> None:
        self._token = token.strip() if token else None

    def __call__(self) -> str | None:
        return self._token

    @property
    def kind(self) -> str:
        return token_kind(self._token)

    def __repr__(self) -> str:
        return f"StaticToken(kind={self.kind!r})"


class AppInstallationTokens:
    """GitHub App auth: RS256 JWT -> the installation for the repository -> an installation token,
    cached until 5 minutes before it expires. `attach(transport)` before the first call."""

    kind = "app"

    def __init__(self, app_id: str | int, private_key: str, *, clock: Clock, repo: str | None = None,
                 installation_id: int | None = None) -> None:
        self.app_id = str(app_id).strip()
        if not self.app_id.isdigit():
            raise UsageError(f"the GitHub App id must be numeric, not {self.app_id!r}",
                             "find it in the App's settings page (App ID)")
        self._private_key = private_key
        self.clock = clock
        self.repo = repo
        self.installation_id = installation_id
        self._transport: Transport | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self.app_jwt()  # fail now, not at the first request, on a key that cannot sign

    def __repr__(self) -> str:
        return f"AppInstallationTokens(app_id={self.app_id!r}, installation_id={self.installation_id!r})"

    def attach(self, transport: Transport) -> None:
        self._transport = transport

    def app_jwt(self) -> str:
        import jwt  # PyJWT + cryptography: only App authentication pays for their import

        now = int(self.clock.now())
        claims = {"iat": now - JWT_BACKDATE, "exp": now + JWT_LIFETIME, "iss": self.app_id}
        try:
            return jwt.encode(claims, self._private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as err:
            raise UsageError(f"the GitHub App private key cannot sign a JWT ({type(err).__name__})",
                             "set OPSGH_APP_PRIVATE_KEY[_FILE] to the App's .pem private key "
                             "(-----BEGIN RSA PRIVATE KEY-----...)") from None

    def __call__(self) -> str:
        if self._token is not None and self.clock.now() < self._expires_at - REFRESH_MARGIN:
            return self._token
        transport = self._require_transport()
        app_jwt = self.app_jwt()
        try:
            if self.installation_id is None:
                self.installation_id = self._find_installation(transport, app_jwt)
            data = transport.request("POST", f"/app/installations/{self.installation_id}/access_tokens",
                                     bearer=app_jwt, idempotent=True).json()
        except Unauthorized as err:
            raise Unauthorized(err.message, "GitHub rejected the App's JWT: check OPSGH_APP_ID, the private "
                               "key and this machine's clock", status=err.status, method=err.method,
                               path=err.path, request_id=err.request_id) from None
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise GitHubError("GitHub: the installation token answer has no token")
        self._token = data["token"]
        self._expires_at = _timestamp(data.get("expires_at"), default=self.clock.now() + 3600)
        return self._token

    def _require_transport(self) -> Transport:
        if self._transport is None:
            raise RuntimeError("AppInstallationTokens.attach(transport) was not called")
        return self._transport

    def _find_installation(self, transport: Transport, app_jwt: str) -> int:
        if self.repo is not None:
            try:
                data: Any = transport.get_json(f"/repos/{self.repo}/installation", bearer=app_jwt)
            except NotFound as err:
                raise NotFound(f"the GitHub App {self.app_id} is not installed on {self.repo}",
                               "install the App on the repository (App settings > Install App)",
                               status=err.status, method=err.method, path=err.path,
                               request_id=err.request_id) from None
            return int(data["id"])
        installations = list(transport.paginate("/app/installations", bearer=app_jwt))
        if len(installations) != 1:
            raise UsageError(f"the GitHub App {self.app_id} has {len(installations)} installations and no "
                             "repository was given to pick one", "pass --repo OWNER/NAME")
        return int(installations[0]["id"])


def _timestamp(value: object, *, default: float) -> float:
    if not isinstance(value, str):
        return default
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return default
