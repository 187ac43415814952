"""The pre-receive hook of every sandbox repository: protected branches refuse pushes like GitHub.

The server computes, per push, the policy of each protected branch for the pusher's role and passes
it in OPSGH_PUSH_POLICY (`RepoState.push_policies`: classic protection and rulesets); this hook applies
it to the ref updates git reads from stdin (`opsgh.sandbox.rules`) and explains a refusal the way GitHub
does ("GH006: Protected branch update failed for refs/heads/prod.", "GH013: Repository rule violations
found for refs/heads/main."). Run as `python -m opsgh.sandbox.prereceive` (standard library and
opsgh.sandbox.state/rules only).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from opsgh.sandbox.rules import GitHistory, refusal_message, refusals

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


def check(lines: list[str], policies: dict[str, dict[str, object]]) -> list[tuple[str, str]]:
    """[(ref, message)] for every update the policies refuse (message: GitHub's GH006/GH013 text)."""
    refused = []
    history = GitHistory()  # the hook runs inside the repository
    for line in lines:
        fields = line.split()
        if len(fields) != 3:
            continue
        old, new, ref = fields
        old_sha = None if old == ZERO_SHA else old
        new_sha = None if new == ZERO_SHA else new
        refused += [(ref, refusal_message(ref, found)) for found in refusals(policies, ref, old_sha, new_sha, history)]
    return refused


def main() -> int:
    policies = json.loads(os.environ.get(POLICY_ENV) or "{}")
    refused = check(sys.stdin.read().splitlines(), policies)
    for _ref, message in refused:
        sys.stderr.write(message)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
