"""`opsgh --record FILE`: a cassette of a real run for bug reports, with every token scrubbed.

The cassette is vcrpy's format, so the test suite can replay it (tests/replay/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opsgh.errors import UsageError

REDACTED = "REDACTED"
# GitHub's token formats: ghp_ (classic PAT), gho_, ghu_, ghs_, ghr_, github_pat_ (fine-grained),
# and JWTs (App authentication).
TOKEN_RE = re.compile(
    rb"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)"
)
SECRET_HEADERS = ("authorization", "cookie", "set-cookie", "x-github-sso")


def scrub_bytes(data: bytes) -> bytes:
    return TOKEN_RE.sub(REDACTED.encode(), data)


def _scrub_body(body: Any) -> Any:
    if isinstance(body, bytes):
        return scrub_bytes(body)
    if isinstance(body, str):
        return scrub_bytes(body.encode()).decode()
    return body


def _scrub_request(request: Any) -> Any:
    request.body = _scrub_body(request.body)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body") or {}
    if "string" in body:
        body["string"] = _scrub_body(body["string"])
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [REDACTED]
    return response


@contextmanager
def record_cassette(path: str) -> Iterator[None]:
    try:
        import vcr
    except ImportError:
        raise UsageError("--record needs the vcrpy package", "pip install 'opsgh[record]'") from None
    recorder = vcr.VCR(
        record_mode="all",
        filter_headers=[(name, REDACTED) for name in SECRET_HEADERS],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    with recorder.use_cassette(path):
        yield
