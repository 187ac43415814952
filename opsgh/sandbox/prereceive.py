"""The pre-receive hook of every sandbox repository: protected branches refuse pushes like GitHub.

The server computes, per push, the policy of each protected branch for the pusher's role and passes
it in OPSGH_PUSH_POLICY; this hook applies it to the ref updates git reads from stdin and explains a
refusal the way GitHub does ("GH006: Protected branch update failed for refs/heads/prod.").
Run as `python -m opsgh.sandbox.prereceive` (standard library and opsgh.sandbox.state only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from opsgh.sandbox.state import PushPolicy

ZERO_SHA = "0" * 40
POLICY_ENV = "OPSGH_PUSH_POLICY"


def hook_script(python: str) -> str:
    return f'#!/bin/sh\nexec "{python}" -m opsgh.sandbox.prereceive\n'


def install(repo_path: Path) -> None:
    """Write the hook into a bare repository (again on every start: the Python may have moved)."""
    hooks = repo_path / "hooks"
    hooks.mkdir(exist_ok=True)
    target = hooks / "pre-receive"
    script = hook_script(sys.executable)
    if not target.is_file() or target.read_text() != script:
        target.write_text(script)
        target.chmod(0o755)


def _fast_forward(old: str, new: str) -> bool:
    return subprocess.run(["git", "merge-base", "--is-ancestor", old, new], check=False,
                          capture_output=True).returncode == 0


def check(lines: list[str], policies: dict[str, dict[str, object]]) -> list[tuple[str, str]]:
    """[(ref, reason)] for every update the policies refuse."""
    refused = []
    for line in lines:
        fields = line.split()
        if len(fields) != 3:
            continue
        old, new, ref = fields
        raw = policies.get(ref)
        if raw is None:
            continue
        policy = PushPolicy(**raw)  # type: ignore[arg-type]
        old_sha = None if old == ZERO_SHA else old
        new_sha = None if new == ZERO_SHA else new
        fast_forward = old_sha is None or new_sha is None or _fast_forward(old_sha, new_sha)
        reason = policy.reject_reason(old_sha, new_sha, fast_forward)
        if reason is not None:
            refused.append((ref, reason))
    return refused


def main() -> int:
    policies = json.loads(os.environ.get(POLICY_ENV) or "{}")
    refused = check(sys.stdin.read().splitlines(), policies)
    for ref, reason in refused:
        sys.stderr.write(f"error: GH006: Protected branch update failed for {ref}.\nerror: {reason}\n")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
