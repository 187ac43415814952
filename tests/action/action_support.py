"""Run `opsgh action` in-process on a real webhook delivery against the sandbox, as the runner would."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ship_support import ReleaseRepo

from opsgh.action import main
from opsgh.cli import run

# What the Action tests' repository configures: the gate judges checks and mergeability only.
CONFIG = """\
branches: {staging: main, production: prod}
release: {title: "Release {date}", tag: "v{date}"}
gate: {approvals: {min: 0}, checklist: "off"}
"""

APP_PERMISSIONS = {"checks": "write", "issues": "write", "pull_requests": "write", "statuses": "write",
                   "contents": "write", "deployments": "write", "metadata": "read"}


@dataclass
class ActionRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str


def read_outputs(path: Path) -> dict[str, str]:
    """The runner's GITHUB_OUTPUT file format: `name<<DELIM` / value / `DELIM`."""
    found: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n") if path.exists() else []
    index = 0
    while index < len(lines):
        match = re.fullmatch(r"([^<=]+)<<(ghadelimiter_[0-9a-f-]+)", lines[index])
        if match:
            end = lines.index(match.group(2), index + 1)
            found[match.group(1)] = "\n".join(lines[index + 1:end])
            index = end + 1
        else:
            index += 1
    return found


class ActionHarness:
    """The runner's side: an event file, GITHUB_* variables, output and summary files, an App token."""

    def __init__(self, repo: ReleaseRepo, workdir: Path) -> None:
        self.repo, self.workdir = repo, workdir
        app = repo.sandbox.add_app("opsgh-action", "acme", permissions=APP_PERMISSIONS)
        self.token = repo.sandbox.installation_token(app)
        self.runs = 0

    def environ(self, event_name: str, payload: dict[str, Any] | None, **extra: str) -> dict[str, str]:
        self.runs += 1
        run_dir = self.workdir / f"run{self.runs}"
        run_dir.mkdir()
        env = {
            "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name, "GITHUB_REPOSITORY": self.repo.full_name,
            "GITHUB_API_URL": self.repo.sandbox.url, "GITHUB_GRAPHQL_URL": self.repo.sandbox.graphql_url,
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": str(1000 + self.runs),
            "GITHUB_TOKEN": self.token, "GITHUB_OUTPUT": str(run_dir / "output"),
            "GITHUB_STEP_SUMMARY": str(run_dir / "summary"), "GITHUB_ACTOR": "alice",
        }
        if payload is not None:
            event_path = run_dir / "event.json"
            event_path.write_text(json.dumps(payload), encoding="utf-8")
            env["GITHUB_EVENT_PATH"] = str(event_path)
        env.update(extra)
        return env

    def run(self, event_name: str, payload: dict[str, Any] | None, **extra: str) -> ActionRun:
        env = self.environ(event_name, payload, **extra)
        stream = io.StringIO()
        code = main(env, stream, run_cli=run)
        summary_path = Path(env["GITHUB_STEP_SUMMARY"])
        return ActionRun(code, stream.getvalue(), read_outputs(Path(env["GITHUB_OUTPUT"])),
                         summary_path.read_text(encoding="utf-8") if summary_path.exists() else "")
