"""GitHub's answer -> a typed error, without I/O (like gidgethub's sansio).

`error_for_response` is the one place that decides what a status code and its headers mean, so
the transport, the retry policy and the GraphQL client all agree on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from opsgh.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GitHubBroken,
    GitHubError,
    NotAllowed,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)

# GitHub words its secondary limits in several ways over the years; all mean "slow down".
_SECONDARY_MARKERS = ("secondary rate limit", "abuse detection", "please wait a few minutes")
_MAX_TEXT = 300


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def parse_body(body: bytes) -> Any:
    """The JSON in `body`, or None when it is empty or not JSON (an HTML 502 page, say)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _first_error_text(errors: object) -> str:
    if not isinstance(errors, list) or not errors:
        return ""
    first = errors[0]
    if isinstance(first, str):
        return first
    if isinstance(first, dict):
        if first.get("message"):
            return str(first["message"])
        parts = [str(first[k]) for k in ("resource", "field") if first.get(k)]
        code = str(first.get("code", ""))
        return ".".join(parts) + (f" {code}" if code else "")
    return str(first)


def github_message(body: bytes) -> str:
    """GitHub's own one-line explanation, from the JSON `message` or a short plain-text body."""
    data = parse_body(body)
    if isinstance(data, dict):
        message = str(data.get("message") or "")
        detail = _first_error_text(data.get("errors"))
        if detail and detail not in message:
            message = f"{message}: {detail}" if message else detail
        return _one_line(message)
    if data is None and body:
        text = body.decode("utf-8", errors="replace").strip()
        if text and not text.lstrip().startswith("<"):  # never paste an HTML error page
            return _one_line(text)
    return ""


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_TEXT else line[: _MAX_TEXT - 1] + "…"


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def rate_limit_kind(status: int, headers: Mapping[str, str], message: str) -> str | None:
    """'primary', 'secondary' or None when a 403/429 is not about rate limits."""
    if status not in (403, 429):
        return None
    lowered = message.lower()
    if any(marker in lowered for marker in _SECONDARY_MARKERS):
        return "secondary"
    if headers.get("x-ratelimit-remaining") == "0":
        return "primary"
    if "retry-after" in headers or status == 429:
        return "secondary"
    if "rate limit" in lowered:
        return "primary"
    return None


def format_reset(reset_at: float) -> str:
    return datetime.fromtimestamp(reset_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def error_for_response(
    status: int, headers: Mapping[str, str], body: bytes, method: str, path: str
) -> GitHubError | None:
    """The typed error for GitHub's answer, or None when the status is a success.

    `headers` must have lower-case names; `path` is what the message shows (no secrets in it).
    """
    if status < 400:
        return None
    detail = github_message(body)
    data = parse_body(body)
    documentation_url = data.get("documentation_url") if isinstance(data, dict) else None
    message = f"GitHub: {status} {reason_phrase(status)} ({method} {path})"
    if detail:
        message += f": {detail}"
    common: dict[str, Any] = {
        "status": status,
        "method": method,
        "path": path,
        "request_id": headers.get("x-github-request-id"),
        "documentation_url": documentation_url if isinstance(documentation_url, str) else None,
    }

    kind = rate_limit_kind(status, headers, detail)
    if kind is not None:
        reset_at = _number(headers, "x-ratelimit-reset")
        retry_after = _number(headers, "retry-after")
        if kind == "primary" and reset_at is not None:
            message += f"; the limit resets at {format_reset(reset_at)}"
        elif retry_after is not None:
            message += f"; GitHub asks to retry after {retry_after:g} s"
        return RateLimited(message, kind=kind, reset_at=reset_at, retry_after=retry_after, **common)
    if status == 401:
        return Unauthorized(message, **common)
    if status == 403:
        # GitHub names the permission an App or fine-grained token lacks: the fix, so say it.
        accepted = headers.get("x-accepted-github-permissions", "").strip()
        if accepted:
            return Forbidden(message, f"the token lacks a permission: GitHub accepts {accepted} for this; grant it "
                                      "to the GitHub App (or the fine-grained token), then re-run", **common)
        return Forbidden(message, **common)
    if status == 404:
        return NotFound(message, **common)
    if status == 405:
        return NotAllowed(message, **common)
    if status == 409:
        return Conflict(message, **common)
    if status == 422:
        errors = data.get("errors") if isinstance(data, dict) else None
        return ValidationFailed(message, errors=errors if isinstance(errors, list) else (), **common)
    if status < 500:
        return BadRequest(message, **common)
    return GitHubBroken(message, **common)
