"""GraphQL over the same transport: documents are .graphql files in `opsgh/github/graphql/`, loaded by name.

Queries are idempotent (retried like GETs); mutations are not (a 5xx is an `AmbiguousWrite`).
GitHub reports many failures as `errors` in a 200 answer; they become the same typed errors as REST.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import Any

from opsgh.errors import Forbidden, GitHubError, NotFound, RateLimited, ValidationFailed
from opsgh.github.status import format_reset
from opsgh.github.transport import Response, Transport

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_OPERATION = re.compile(r"^\s*(query|mutation)\b\s*([A-Za-z_]\w*)?", re.M)
_COMMENT = re.compile(r"#[^\n]*")
_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_]\w*)")  # `...Name`; `... on Type` yields "on"


@cache
def load_document(name: str) -> str:
    """The text of `opsgh/github/graphql/<name>.graphql`, followed by the fragments it spreads
    (`...Name`: `opsgh/github/graphql/fragments/Name.graphql`, and theirs in turn)."""
    if not _NAME.match(name):
        raise ValueError(f"not a GraphQL document name: {name!r}")
    resource = files("opsgh.github").joinpath("graphql", f"{name}.graphql")
    if not resource.is_file():
        raise ValueError(f"no GraphQL document named {name!r} in opsgh/github/graphql/")
    parts = [resource.read_text(encoding="utf-8")]
    appended: set[str] = set()
    while True:
        spread = {found for part in parts for found in _SPREAD.findall(_COMMENT.sub("", part))} - {"on"}
        missing = sorted(spread - appended)
        if not missing:
            return "\n".join(parts)
        for fragment in missing:
            source = files("opsgh.github").joinpath("graphql", "fragments", f"{fragment}.graphql")
            if not source.is_file():
                raise ValueError(f"{name}.graphql spreads ...{fragment}, and there is no fragments/{fragment}.graphql")
            parts.append(source.read_text(encoding="utf-8"))
            appended.add(fragment)


def operation_of(document: str) -> tuple[str, str | None]:
    """('query' | 'mutation', operation name or None) of the document's first operation."""
    match = _OPERATION.search(_COMMENT.sub("", document))
    if match is None:  # the `{ ... }` shorthand is a query
        return "query", None
    return match.group(1), match.group(2)


def error_for_graphql(response: Response, operation: str | None) -> GitHubError | None:
    """The typed error for `errors` in a GraphQL answer (None when there are none)."""
    data = response.json() if response.body else None
    if not isinstance(data, dict):
        return GitHubError(f"GitHub GraphQL ({operation}): the answer is not a JSON object")
    errors = data.get("errors")
    if not errors:
        if data.get("data") is None:
            return GitHubError(f"GitHub GraphQL ({operation}): no data and no errors in the answer")
        return None
    first = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {}
    kind = str(first.get("type") or (first.get("extensions") or {}).get("code") or "")
    text = " ".join(str(first.get("message") or "unknown error").split())
    more = f" (and {len(errors) - 1} more)" if isinstance(errors, list) and len(errors) > 1 else ""
    message = f"GitHub GraphQL: {kind or 'error'} ({operation or 'anonymous'}): {text}{more}"
    common: dict[str, Any] = {"method": "POST", "path": "/graphql", "status": response.status,
                              "request_id": response.headers.get("x-github-request-id")}
    if kind == "NOT_FOUND":
        return NotFound(message, **common)
    if kind in ("FORBIDDEN", "INSUFFICIENT_SCOPES"):
        return Forbidden(message, **common)
    if kind == "RATE_LIMITED":
        reset = response.headers.get("x-ratelimit-reset")
        reset_at = float(reset) if reset and reset.replace(".", "", 1).isdigit() else None
        if reset_at is not None:
            message += f"; the limit resets at {format_reset(reset_at)}"
        return RateLimited(message, kind="primary", reset_at=reset_at, **common)
    if kind == "UNPROCESSABLE":
        return ValidationFailed(message, errors=errors, **common)
    return GitHubError(message, **common)


class GraphQLClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def __repr__(self) -> str:
        return f"GraphQLClient({self.transport.urls.graphql!r})"

    def execute(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the named document; return its `data`."""
        return self.execute_document(load_document(name), variables)

    def execute_document(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        kind, operation = operation_of(document)
        body: dict[str, Any] = {"query": document, "variables": variables or {}}
        if operation:
            body["operationName"] = operation
        response = self.transport.request(
            "POST", self.transport.urls.graphql, json=body, idempotent=kind == "query", operation=operation,
            check=lambda r: error_for_graphql(r, operation),
        )
        data = response.json()["data"]
        return data if isinstance(data, dict) else {}
