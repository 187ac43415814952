"""GitHub's answers -> typed errors (sans I/O), and the API base URLs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opsgh.errors import (
    BadRequest,
    Conflict,
    ExitCode,
    Forbidden,
    GitHubBroken,
    GitHubError,
    NotAllowed,
    NotFound,
    RateLimited,
    Unauthorized,
    UsageError,
    ValidationFailed,
)
from opsgh.github.status import error_for_response
from opsgh.github.urls import ApiUrls


def body(message: str | None = None, **extra: Any) -> bytes:
    data: dict[str, Any] = dict(extra)
    if message is not None:
        data["message"] = message
    return json.dumps(data).encode()


def test_success_is_no_error() -> None:
    assert error_for_response(200, {}, b"{}", "GET", "/x") is None
    assert error_for_response(304, {}, b"", "GET", "/x") is None


def test_the_message_is_one_line_naming_status_request_and_githubs_words() -> None:
    error = error_for_response(
        404,
        {"x-github-request-id": "C0DE:1234"},
        body("Branch not protected", documentation_url="https://docs.github.com/x"),
        "GET",
        "/repos/o/r/branches/prod/protection",
    )
    assert isinstance(error, NotFound)
    assert (
        str(error) == "GitHub: 404 Not Found (GET /repos/o/r/branches/prod/protection): Branch not protected"
    )
    assert error.request_id == "C0DE:1234"
    assert error.documentation_url == "https://docs.github.com/x"
    assert (error.status, error.method, error.path) == (404, "GET", "/repos/o/r/branches/prod/protection")
    assert error.exit_code == ExitCode.GITHUB


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (405, NotAllowed),
        (409, Conflict),
        (422, ValidationFailed),
        (400, BadRequest),
        (410, BadRequest),
        (451, BadRequest),
        (500, GitHubBroken),
        (502, GitHubBroken),
        (503, GitHubBroken),
    ],
)
def test_status_codes_map_to_the_hierarchy(status: int, expected: type[GitHubError]) -> None:
    error = error_for_response(status, {}, body("nope"), "GET", "/x")
    assert type(error) is expected


def test_422_keeps_githubs_errors_and_names_the_first() -> None:
    errors = [{"resource": "Issue", "field": "title", "code": "missing_field"}, {"message": "second"}]
    error = error_for_response(422, {}, body("Validation Failed", errors=errors), "POST", "/repos/o/r/issues")
    assert isinstance(error, ValidationFailed)
    assert error.errors == tuple(errors)
    assert error.message.endswith("Validation Failed: Issue.title missing_field")


def test_422_with_string_errors() -> None:
    error = error_for_response(
        422, {}, body("Validation Failed", errors=["Reference already exists"]), "POST", "/x"
    )
    assert error is not None
    assert error.message.endswith("Validation Failed: Reference already exists")


def test_primary_limit_is_told_by_remaining_zero() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800003600"}
    error = error_for_response(403, headers, body("API rate limit exceeded for 1.2.3.4."), "GET", "/x")
    assert isinstance(error, RateLimited)
    assert error.kind == "primary"
    assert error.reset_at == 1800003600
    assert "resets at 2027-01-15 09:00:00 UTC" in error.message


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (403, {"retry-after": "60"}, "anything"),
        (
            403,
            {},
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        ),
        (403, {}, "You have triggered an abuse detection mechanism."),
        (429, {}, ""),
        (429, {"retry-after": "3"}, "Too many requests"),
        # GitHub says "secondary" even when the primary bucket also happens to be empty.
        (403, {"x-ratelimit-remaining": "0"}, "You have exceeded a secondary rate limit"),
    ],
)
def test_secondary_limits(status: int, headers: dict[str, str], message: str) -> None:
    error = error_for_response(status, headers, body(message) if message else b"", "POST", "/x")
    assert isinstance(error, RateLimited)
    assert error.kind == "secondary"
    assert error.retry_after == (float(headers["retry-after"]) if "retry-after" in headers else None)


def test_a_403_without_limit_signals_is_forbidden() -> None:
    error = error_for_response(
        403,
        {"x-ratelimit-remaining": "4999"},
        body("Resource not accessible by integration"),
        "PUT",
        "/repos/o/r/branches/main/protection",
    )
    assert isinstance(error, Forbidden)
    assert not isinstance(error, RateLimited)
    assert error.message.endswith("Resource not accessible by integration")


def test_a_403_names_the_permission_github_accepts() -> None:
    error = error_for_response(
        403, {"x-accepted-github-permissions": "deployments=write"}, body("Resource not accessible by integration"),
        "POST", "/repos/o/r/deployments")
    assert isinstance(error, Forbidden)
    assert error.message.endswith("(POST /repos/o/r/deployments): Resource not accessible by integration")
    assert error.hint == ("the token lacks a permission: GitHub accepts deployments=write for this; grant it to the "
                          "GitHub App (or the fine-grained token), then re-run")
    # An empty header (GitHub sends one with every 403 to an App) says nothing: the usual hint.
    plain = error_for_response(403, {"x-accepted-github-permissions": ""}, body("Forbidden"), "GET", "/x")
    assert plain is not None
    assert plain.hint == Forbidden.default_hint


def test_an_html_error_page_is_not_pasted_into_the_message() -> None:
    error = error_for_response(
        502, {}, b"<html><body><h1>502 Bad Gateway</h1>" + b"x" * 5000 + b"</body></html>", "GET", "/x"
    )
    assert error is not None
    assert error.message == "GitHub: 502 Bad Gateway (GET /x)"


def test_a_short_plain_text_body_is_kept_on_one_line() -> None:
    error = error_for_response(500, {}, b"upstream\nconnect error", "GET", "/x")
    assert error is not None
    assert error.message == "GitHub: 500 Internal Server Error (GET /x): upstream connect error"


def test_a_huge_message_is_shortened() -> None:
    error = error_for_response(400, {}, body("y" * 5000), "GET", "/x")
    assert error is not None
    assert len(error.message) < 400


# ----------------------------------------------------------------------------- ApiUrls


@pytest.mark.parametrize(
    ("api", "graphql", "expected"),
    [
        (None, None, ("https://api.github.com", "https://api.github.com/graphql")),
        ("", "", ("https://api.github.com", "https://api.github.com/graphql")),
        ("https://api.github.com/", None, ("https://api.github.com", "https://api.github.com/graphql")),
        (
            "https://ghe.example/api/v3",
            None,
            ("https://ghe.example/api/v3", "https://ghe.example/api/graphql"),
        ),
        (
            "https://ghe.example/api/v3/",
            None,
            ("https://ghe.example/api/v3", "https://ghe.example/api/graphql"),
        ),
        ("http://127.0.0.1:8123", None, ("http://127.0.0.1:8123", "http://127.0.0.1:8123/graphql")),
        (
            "http://127.0.0.1:8123/api/v3",
            None,
            ("http://127.0.0.1:8123/api/v3", "http://127.0.0.1:8123/api/graphql"),
        ),
        (
            "https://ghe.example/api/v3",
            "https://ghe.example/api/graphql/",
            ("https://ghe.example/api/v3", "https://ghe.example/api/graphql"),
        ),
        ("http://127.0.0.1:1", "http://127.0.0.1:2/gql", ("http://127.0.0.1:1", "http://127.0.0.1:2/gql")),
    ],
)
def test_api_urls(api: str | None, graphql: str | None, expected: tuple[str, str]) -> None:
    urls = ApiUrls.from_values(api, graphql)
    assert (urls.rest, urls.graphql) == expected


@pytest.mark.parametrize("bad", ["api.github.com", "ftp://x", "https://", "https://x/api?token=1"])
def test_api_urls_reject_what_is_not_a_base_url(bad: str) -> None:
    with pytest.raises(UsageError, match="GITHUB_API_URL"):
        ApiUrls.from_values(bad)


def test_api_urls_know_where_the_token_may_go() -> None:
    urls = ApiUrls.from_values("https://GHE.example/api/v3")
    assert urls.origins() == {"https://ghe.example"}
    assert urls.rest_path == "/api/v3"
