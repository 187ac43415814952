"""The request log: one JSON object per request, in memory and optionally appended to a file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LogEntry:
    time: float  # sandbox clock, epoch seconds
    method: str
    path: str
    query: str
    status: int | None  # None: the connection was dropped without an answer
    duration_ms: float
    user: str | None
    token_kind: str  # classic-pat, fine-grained, actions, app-installation, app-jwt, anonymous, git
    fault: str | None  # what an injected fault did ("502", "landed+502", "delay 2s+drop"...)
    request_id: str
    operation: str | None  # "GET /repos/{owner}/{repo}" (the sandbox route), None when unrouted
    kind: str = "rest"  # rest, git

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe; `path` given: every entry is also appended to it as a JSON line."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry.as_json(), sort_keys=True) + "\n")

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def find(self, method: str | None = None, path: str | None = None, status: int | None = None,
             operation: str | None = None) -> list[LogEntry]:
        """Entries matching every given filter (`path` exact, without the query)."""
        return [e for e in self.entries
                if (method is None or e.method == method.upper()) and (path is None or e.path == path)
                and (status is None or e.status == status) and (operation is None or e.operation == operation)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
