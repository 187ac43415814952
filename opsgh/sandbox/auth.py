"""Who is calling: tokens (PATs, the Actions GITHUB_TOKEN, installation tokens) and GitHub App JWTs."""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import threading
from collections.abc import Mapping
from typing import Any

from opsgh.clock import Clock
from opsgh.sandbox.routing import ApiError, Auth
from opsgh.sandbox.state import App, SandboxState

TOKEN_PREFIXES = {
    "classic-pat": "ghp_",
    "fine-grained": "github_pat_",
    "actions": "ghs_",
    "app-installation": "ghs_",
}
_ALPHABET = string.ascii_letters + string.digits
# GitHub: an App JWT may live at most 10 minutes; iat may be a minute ahead (clock drift).
JWT_MAX_LIFETIME = 600
JWT_DRIFT = 60


def new_token_value(kind: str) -> str:
    """A random token in GitHub's format for `kind` (ghp_ + 36, github_pat_ + 22 _ 59, ghs_ + 36)."""
    prefix = TOKEN_PREFIXES[kind]
    if kind == "fine-grained":
        return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(22)) + "_" + "".join(
            secrets.choice(_ALPHABET) for _ in range(59))
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(36))


def credential_from(headers: Mapping[str, str]) -> str | None:
    """The token or JWT in `Authorization` (token X, Bearer X, or Basic with the token as password)."""
    header = headers.get("authorization", "").strip()
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("token", "bearer"):
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        user, _, password = decoded.partition(":")
        return password or user  # "x-access-token:<token>" or "<token>:" (or "<token>:x-oauth-basic")
    return ""


def _looks_like_jwt(value: str) -> bool:
    return value.startswith("eyJ") and value.count(".") == 2


def authenticate(state: SandboxState, clock: Clock, headers: Mapping[str, str]) -> Auth:
    """Resolve the caller; 401 "Bad credentials" for an unknown or expired token, like GitHub."""
    credential = credential_from(headers)
    if credential is None:
        return Auth()
    if _looks_like_jwt(credential):
        return Auth(app=verify_app_jwt(state, clock, credential))
    token = state.tokens.get(credential)
    if token is None or (token.expires_at is not None and token.expires_at <= clock.now()):
        raise ApiError(401, "Bad credentials")
    user = state.user(token.login)
    return Auth(token=token, user=user)


def verify_app_jwt(state: SandboxState, clock: Clock, value: str) -> App:
    """Check an App JWT: RS256 signed by a registered App's key, `iss` its id, times against the
    sandbox clock (PyJWT's own checks use the real time, so they are done here instead)."""
    import jwt

    undecodable = ApiError(401, "A JSON web token could not be decoded")
    try:
        header = jwt.get_unverified_header(value)
        claims: dict[str, Any] = jwt.decode(value, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise undecodable from None
    if header.get("alg") != "RS256":
        raise undecodable
    try:
        app = state.apps.get(int(str(claims.get("iss"))))
    except ValueError:
        app = None
    if app is None:
        raise ApiError(401, "'Issuer' claim ('iss') must be an Integer")
    try:
        jwt.decode(value, app.public_key_pem, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False,
                            "verify_aud": False})
    except jwt.PyJWTError:
        raise undecodable from None
    now = clock.now()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(iat, int) or iat > now + JWT_DRIFT:
        raise ApiError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the "
                            "assertion was issued.")
    if not isinstance(exp, int) or exp <= now:
        raise ApiError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future "
                            "time at which the assertion expires.")
    if exp - iat > JWT_MAX_LIFETIME + JWT_DRIFT or exp > now + JWT_MAX_LIFETIME + JWT_DRIFT:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future.")
    return app


_KEY_POOL: list[tuple[str, str]] = []
_KEY_POOL_LOCK = threading.Lock()


def generate_app_key(index: int | None = None) -> tuple[str, str]:
    """An RSA key pair for a sandbox App: (private key PEM, public key PEM).

    With `index`, the index-th key of a per-process pool: generating a 2048-bit key costs ~0.1 s, and
    sandboxes started one after the other (tests) can share keys, since each lives on its own server.
    """
    if index is None:
        return _new_key()
    with _KEY_POOL_LOCK:
        while len(_KEY_POOL) <= index:
            _KEY_POOL.append(_new_key())
        return _KEY_POOL[index]


def _new_key() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public
