#!/usr/bin/env python3
"""Turn recordings of the real GitHub API (npm @octokit/fixtures) into vcrpy cassettes.

@octokit/fixtures holds nock recordings of scripted scenarios against api.github.com
(scenarios/api.github.com/<name>/normalized-fixture.json: ids, dates and shas normalized, bodies
decoded). Each selected scenario becomes tests/replay/cassettes/<name>.yaml, written with vcrpy's own
serializer (vcrpy's `yaml` format, version 1), with:
  - `https://api.github.com` rewritten to http://127.0.0.1:9 everywhere (URIs, headers, bodies), so a
    replay never points a client at the internet; port 9 (discard) is never listened on;
  - query parameters sorted (in request URIs and in `Link` header URLs);
  - `content-length` recomputed for the rewritten bodies, `host` set to the local base.

Usage:  python scripts/import_octokit_fixtures.py [--version V]
Needs `npm` (only `npm pack`: the tarball is downloaded, nothing is installed).
"""

from __future__ import annotations

import argparse
import http
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

FIXTURES_PACKAGE = "@octokit/fixtures"
FIXTURES_VERSION = "23.1.2"
GITHUB_API = "https://api.github.com"
LOCAL_BASE = "http://127.0.0.1:9"

# The scenarios opsgh cares about (what it calls, or the error shapes it must handle).
SELECTED_SCENARIOS = (
    "add-and-remove-repository-collaborator",  # collaborators list/put/delete
    "add-labels-to-issue",  # create issue, add labels
    "branch-protection",  # 404 "Branch not protected", put, delete
    "create-status",  # commit statuses, combined status
    "errors",  # 422 validation failed with an errors array
    "get-content",  # contents: directory listing and a raw file
    "get-repository",
    "git-refs",  # list, create, update, delete refs
    "labels",  # label CRUD
    "paginate-issues",  # real Link headers to /repositories/{id}/issues
    "rename-repository",  # 301 and 307 redirects to /repositories/{id}
    "search-issues",
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CASSETTES_DIR = REPO_ROOT / "tests" / "replay" / "cassettes"
_LINK_URL = re.compile(r"<([^>]+)>")


def sort_query(url: str) -> str:
    """Sort query parameters, keeping each one's original percent-encoding."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = sorted(parts.query.split("&"), key=lambda pair: (pair.partition("=")[0], pair))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(pairs), parts.fragment))


def localize(text: str) -> str:
    return text.replace(GITHUB_API, LOCAL_BASE)


def _body_bytes(body: Any) -> bytes | None:
    if body is None or body == "":
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def convert_interaction(nock: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """One nock recording -> (vcr.request.Request, vcrpy response dict)."""
    from vcr.request import Request

    if nock.get("responseIsBinary"):
        raise ValueError(f"binary response in {nock['path']}: not supported")
    scope = nock["scope"].removesuffix(":443")
    if scope != GITHUB_API:
        raise ValueError(f"unexpected scope {scope!r}")
    uri = sort_query(LOCAL_BASE + nock["path"])
    request_body = _body_bytes(nock.get("body"))
    request_headers = {str(k): str(v) for k, v in nock.get("reqheaders", {}).items()}
    request_headers["host"] = urlsplit(LOCAL_BASE).netloc
    if request_body is not None and "content-length" in request_headers:
        request_headers["content-length"] = str(len(request_body))
    request = Request(nock["method"].upper(), uri, request_body, request_headers)

    raw_response = _body_bytes(nock.get("response"))
    response_body = localize(raw_response.decode("utf-8")).encode("utf-8") if raw_response else b""
    headers: dict[str, list[str]] = {}
    for name, value in nock.get("headers", {}).items():
        lower = str(name).lower()
        if lower in ("content-encoding", "transfer-encoding"):
            continue  # the normalized body is decoded and whole
        text = localize(str(value))
        if lower == "link":
            text = _LINK_URL.sub(lambda m: f"<{sort_query(m.group(1))}>", text)
        headers[lower] = [text]
    headers["content-length"] = [str(len(response_body))]
    status = int(nock["status"])
    response = {
        "status": {"code": status, "message": http.HTTPStatus(status).phrase},
        "headers": headers,
        "body": {"string": response_body},
    }
    return request, response


def write_cassette(scenario: str, recordings: list[dict[str, Any]], directory: Path) -> Path:
    from vcr.serialize import serialize
    from vcr.serializers import yamlserializer

    pairs = [convert_interaction(nock) for nock in recordings]
    text = serialize({"requests": [p[0] for p in pairs], "responses": [p[1] for p in pairs]}, yamlserializer)
    path = directory / f"{scenario}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default=FIXTURES_VERSION)
    args = parser.parse_args(argv)

    CASSETTES_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="opsgh-fixtures-") as tmp:
        result = subprocess.run(
            ["npm", "pack", f"{FIXTURES_PACKAGE}@{args.version}", "--pack-destination", tmp, "--json"],
            check=True,
            capture_output=True,
            text=True,
        )
        tarball = Path(tmp) / json.loads(result.stdout)[0]["filename"].replace("@", "").replace("/", "-")
        with tarfile.open(tarball, "r:gz") as archive:
            for scenario in SELECTED_SCENARIOS:
                member = f"package/scenarios/api.github.com/{scenario}/normalized-fixture.json"
                try:
                    extracted = archive.extractfile(member)
                except KeyError:
                    print(
                        f"error: {FIXTURES_PACKAGE}@{args.version} has no scenario {scenario}",
                        file=sys.stderr,
                    )
                    return 1
                assert extracted is not None
                recordings = json.load(extracted)
                path = write_cassette(scenario, recordings, CASSETTES_DIR)
                print(
                    f"{path.relative_to(REPO_ROOT)}: {len(recordings)} interactions, "
                    f"{path.stat().st_size} bytes"
                )
    (CASSETTES_DIR / "SOURCE").write_text(
        f"{FIXTURES_PACKAGE}@{args.version}\n" + "".join(f"{s}\n" for s in SELECTED_SCENARIOS),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
