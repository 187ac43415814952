"""`CommandRunner` over subprocess: the gate's command probes.

Commands come only from the trusted config read from the default branch, never from a pull
request's head, so a PR cannot choose what runs here. A text command runs through `/bin/sh -c`
(the runbooks' checks use pipes: `curl … | jq …`); a list runs as argv. Each command gets its own
process group, killed as a whole on timeout so a shell's children do not outlive it. The
environment is inherited unless the caller passes one (the CLI decides what to hand down).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence

from opsgh.gate.probe_port import CommandOutcome

MAX_OUTPUT_CHARS = 65_536


class SubprocessCommandRunner:
    def __init__(self, env: Mapping[str, str] | None = None, cwd: str | None = None) -> None:
        self._env = dict(env) if env is not None else None
        self._cwd = cwd

    def run(self, command: str | Sequence[str], timeout_s: float) -> CommandOutcome:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        started = time.perf_counter()
        try:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self._env, cwd=self._cwd, start_new_session=True)
        except OSError as exc:
            return CommandOutcome(127, f"cannot start {argv[0]}: {exc}", 0.0)
        try:
            raw, _ = process.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            # The whole group: `sh -c 'sleep 100'` would otherwise leave the sleep behind, holding the pipe.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            raw, _ = process.communicate()
            timed_out = True
        output = raw.decode("utf-8", errors="replace")[-MAX_OUTPUT_CHARS:]
        elapsed = (time.perf_counter() - started) * 1000.0
        return CommandOutcome(None if timed_out else process.returncode, output, elapsed, timed_out)
