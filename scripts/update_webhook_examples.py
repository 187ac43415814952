#!/usr/bin/env python3
"""Regenerate the real webhook deliveries the Action tests replay, and the schemas they are checked against.

Sources (npm, pinned below; `npm pack` fetches only the tarballs):
  - @octokit/webhooks-examples  api.github.com/index.json  (real deliveries, 58 events)
  - @octokit/webhooks-schemas   schema.json                (a JSON Schema definition per event and action)

Output (committed): tests/action/data/webhooks.json with
  - "examples": {"<event>.<action>": payload} for the deliveries opsgh routes, the first of each that
    matches today's schema (older deliveries lack fields GitHub now sends);
    `pull_request.closed` is a *merged* one when the examples have it, else derived from the unmerged one
    (the set has no merged example) by setting merged, merged_at, merged_by and merge_commit_sha;
    `issue_comment.created.pull_request` is the comment moved onto a pull request (the set has none);
  - "schemas": the JSON Schema definitions those payloads must satisfy (`issue_comment$created`,
    `push$event`...) and every definition they reference, so tests validate without the network;
  - "versions": the package versions and tarball sha256s.

Usage: python scripts/update_webhook_examples.py [--version V]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

VERSION = "7.6.1"
ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "action" / "data" / "webhooks.json"

# (event, action) -> the schema definition that describes it.
WANTED = {
    ("push", None): "push$event",
    ("pull_request", "opened"): "pull_request$opened",
    ("pull_request", "synchronize"): "pull_request$synchronize",
    ("pull_request", "closed"): "pull_request$closed",
    ("pull_request_review", "submitted"): "pull_request_review$submitted",
    ("issue_comment", "created"): "issue_comment$created",
    ("issue_comment", "edited"): "issue_comment$edited",
    ("check_suite", "completed"): "check_suite$completed",
    ("status", None): "status$event",
    ("workflow_dispatch", None): "workflow_dispatch$event",
}


def pack(package: str, version: str, workdir: Path) -> tuple[Path, str]:
    subprocess.run(["npm", "pack", f"{package}@{version}", "--silent"], cwd=workdir, check=True,
                   capture_output=True)
    tarball = next(workdir.glob(package.replace("@", "").replace("/", "-") + f"-{version}.tgz"))
    return tarball, hashlib.sha256(tarball.read_bytes()).hexdigest()


def read_member(tarball: Path, name: str) -> Any:
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(f"package/{name}")
        assert member is not None, name
        return json.loads(member.read())


def referenced(definitions: dict[str, Any], roots: list[str]) -> dict[str, Any]:
    """The root definitions and every definition reachable through `$ref`."""
    keep: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = definitions[name]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/definitions/"):
                    todo.append(ref.rsplit("/", 1)[-1])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(definitions[name])
    return dict(sorted(keep.items()))


def merged(closed: dict[str, Any]) -> dict[str, Any]:
    """A merged `pull_request.closed` from an unmerged one: GitHub sets these four fields on a merge."""
    payload = copy.deepcopy(closed)
    pull = payload["pull_request"]
    pull["merged"] = True
    pull["merged_at"] = pull.get("closed_at") or pull["updated_at"]
    pull["merged_by"] = copy.deepcopy(payload["sender"])
    pull["merge_commit_sha"] = pull.get("merge_commit_sha") or "0" * 40
    return payload


def on_a_pull_request(created: dict[str, Any]) -> dict[str, Any]:
    """The set's comments are all on issues; a comment on a pull request differs only in `issue.pull_request`,
    which GitHub adds with these five fields (an issue and a PR share their number space)."""
    payload = copy.deepcopy(created)
    issue = payload["issue"]
    base = issue["repository_url"].replace("https://api.github.com/repos/", "https://github.com/")
    issue["pull_request"] = {"url": issue["repository_url"] + f"/pulls/{issue['number']}",
                             "html_url": f"{base}/pull/{issue['number']}",
                             "diff_url": f"{base}/pull/{issue['number']}.diff",
                             "patch_url": f"{base}/pull/{issue['number']}.patch", "merged_at": None}
    return payload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=VERSION)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        examples_tgz, examples_sha = pack("@octokit/webhooks-examples", args.version, workdir)
        schemas_tgz, schemas_sha = pack("@octokit/webhooks-schemas", args.version, workdir)
        events = {entry["name"]: entry["examples"] for entry in read_member(examples_tgz, "api.github.com/index.json")}
        schema = read_member(schemas_tgz, "schema.json")
    import jsonschema  # the test dependency that validates them in tests/action too

    chosen: dict[str, Any] = {}
    for (event, action), definition in WANTED.items():
        # The set's oldest deliveries predate fields GitHub now always sends: take the first that still
        # matches today's definition (each event has one).
        validator = jsonschema.Draft7Validator({**schema, "$ref": f"#/definitions/{definition}"})
        candidates = [e for e in events[event] if e.get("action") == action and validator.is_valid(e)]
        if not candidates:
            raise SystemExit(f"no {event}.{action} delivery matches {definition}: check the pinned versions")
        if event == "pull_request" and action == "closed":
            with_merge = [e for e in candidates if e["pull_request"].get("merged")]
            chosen[f"{event}.{action}"] = with_merge[0] if with_merge else merged(candidates[0])
        else:
            chosen[event if action is None else f"{event}.{action}"] = candidates[0]
    chosen["issue_comment.created.pull_request"] = on_a_pull_request(chosen["issue_comment.created"])
    data = {
        "versions": {"@octokit/webhooks-examples": args.version, "examples_sha256": examples_sha,
                     "@octokit/webhooks-schemas": args.version, "schemas_sha256": schemas_sha},
        "definitions": {**{(event if action is None else f"{event}.{action}"): definition
                           for (event, action), definition in WANTED.items()},
                        "issue_comment.created.pull_request": "issue_comment$created"},
        "examples": chosen,
        "schemas": {"$schema": schema["$schema"],
                    "definitions": referenced(schema["definitions"], list(WANTED.values()))},
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size:,} bytes, {len(chosen)} examples)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
