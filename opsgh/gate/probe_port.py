"""What the network and shell criteria need from the outside world, as two small ports.

`opsgh/gate/` never opens a socket or starts a process itself (layering, DESIGN.md): the HTTP
side is `opsgh.github.probes.HttpxProbeClient`, the shell side `opsgh.shell.SubprocessCommandRunner`;
tests pass fakes. Both ports report failures in the value they return (`error`, `timed_out`)
instead of raising, so one bad probe never hides the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProbeResponse:
    """One HTTP request's outcome. `status` is None when no answer came (`error` says why)."""

    status: int | None
    body: bytes = b""
    elapsed_ms: float = 0.0
    tls_days_left: float | None = None  # None for plain http, or when no certificate could be read
    error: str | None = None  # "timed out after 2 s", "connection refused", ...
    timed_out: bool = False


class ProbeClient(Protocol):
    def fetch(self, url: str, timeout_s: float) -> ProbeResponse:
        """GET `url` once, within `timeout_s`; never raises for network failures. Must be thread-safe."""


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """A finished (or killed) command. `exit_code` is None when it was killed on timeout."""

    exit_code: int | None
    output: str  # stdout and stderr, interleaved
    elapsed_ms: float = 0.0
    timed_out: bool = False


class CommandRunner(Protocol):
    def run(self, command: str | Sequence[str], timeout_s: float) -> CommandOutcome:
        """Run an argv list, or a shell text through `/bin/sh -c`; kill it after `timeout_s`."""
