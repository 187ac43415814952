"""Request accounting: every attempt sent to GitHub, for `--verbose`, benchmarks and tests.

An entry never holds headers or a request body, and its path has secret-looking query values
masked, so the ledger can be printed or attached to a bug report as it is.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

# Query parameters whose values are masked (GitHub's own parameters such as state, ref, page are kept).
_SECRET_PARAMS = re.compile(r"token|secret|password|passwd|signature|jwt|auth|^code$|^key$|^sig$", re.I)
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_NUMBER = re.compile(r"^\d+$")

# After these segments the rest of the path (which may contain "/") is one parameter.
_REST_OF_PATH = {"contents": "{path}", "compare": "{basehead}"}
_GIT_REFS = {"ref", "refs", "matching-refs"}
# Branch names may contain "/": they run until one of these sub-resources (or the end).
_BRANCH_SUFFIXES = {"protection", "rename", "sync", "merge-upstream"}
# Segments followed by named parameters.
_NAMED = {"repos": ("{owner}", "{repo}"), "orgs": ("{org}",), "users": ("{user}",), "labels": ("{name}",),
          "environments": ("{environment}",), "collaborators": ("{username}",), "teams": ("{team_slug}",)}


def safe_path(path_and_query: str) -> str:
    """The path with the query kept but secret-looking values masked."""
    parts = urlsplit(path_and_query)
    if not parts.query:
        return parts.path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, "***" if _SECRET_PARAMS.search(k) else v) for k, v in pairs]
    return f"{parts.path}?{urlencode(query, safe='*,/:')}"


def route_of(path: str) -> str:
    """Best-effort route template: `/repos/acme/shop/pulls/7` -> `/repos/{owner}/{repo}/pulls/{n}`."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    out: list[str] = []
    i = 0
    while i < len(segments):
        seg = segments[i]
        out.append(_generic(seg))
        i += 1
        rest = segments[i:]
        if not rest:
            break
        if seg in _REST_OF_PATH or (seg in _GIT_REFS and len(out) > 1 and out[-2] == "git"):
            out.append(_REST_OF_PATH.get(seg, "{ref}"))
            break
        if seg == "branches":
            length = next((n for n, s in enumerate(rest) if s in _BRANCH_SUFFIXES), len(rest))
            out.append("{branch}")
            i += max(length, 1)
        elif seg in ("commits", "statuses") and out[0] == "repos":
            out.append("{sha}" if _SHA.match(rest[0]) else "{ref}")
            i += 1
        elif seg in _NAMED:
            for name in _NAMED[seg][: len(rest)]:
                out.append("{n}" if _NUMBER.match(segments[i]) else name)
                i += 1
    return "/" + "/".join(out)


def _generic(segment: str) -> str:
    if _NUMBER.match(segment):
        return "{n}"
    if _SHA.match(segment):
        return "{sha}"
    return segment


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    method: str
    path: str  # relative to the API base, secret query values masked; never headers
    status: int | None  # None: no HTTP answer (timeout, connection error)
    duration_ms: float
    attempt: int  # 1 for the first try, 2 for the first retry...
    route: str
    operation: str | None = None  # GraphQL operation name, if any

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Ledger:
    """Every attempt, in order."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []

    def record(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        return tuple(self._entries)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(tuple(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def count(self, method: str | None = None, route: str | None = None) -> int:
        """Attempts sent, optionally only those with this method and/or route."""
        return sum(1 for e in self._entries
                   if (method is None or e.method == method.upper()) and (route is None or e.route == route))

    def retries(self) -> int:
        return sum(1 for e in self._entries if e.attempt > 1)

    def clear(self) -> None:
        self._entries.clear()

    def summary(self) -> str:
        """A table: one row per method and route, with counts, statuses and time."""
        if not self._entries:
            return "GitHub requests: none"
        rows: dict[tuple[str, str], list[LedgerEntry]] = defaultdict(list)
        for entry in self._entries:
            label = entry.route + (f" ({entry.operation})" if entry.operation else "")
            rows[(entry.method, label)].append(entry)
        table = [("METHOD", "ROUTE", "N", "STATUS", "MS")]
        for (method, label), entries in rows.items():
            statuses = Counter("-" if e.status is None else str(e.status) for e in entries)
            status_text = ",".join(f"{s}x{n}" if n > 1 else s for s, n in sorted(statuses.items()))
            total = sum(e.duration_ms for e in entries)
            table.append((method, label, str(len(entries)), status_text, f"{total:.0f}"))
        widths = [max(len(row[c]) for row in table) for c in range(5)]
        lines = ["  ".join(cell.ljust(widths[c]) if c < 4 else cell.rjust(widths[c])
                           for c, cell in enumerate(row)).rstrip() for row in table]
        total_ms = sum(e.duration_ms for e in self._entries)
        lines.append(f"GitHub requests: {len(self._entries)} ({self.retries()} retries), {total_ms:.0f} ms")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps([e.as_dict() for e in self._entries], indent=2)

    def extend(self, entries: Iterable[LedgerEntry]) -> None:
        self._entries.extend(entries)
