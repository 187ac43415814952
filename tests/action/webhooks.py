"""Real webhook deliveries (npm @octokit/webhooks-examples, trimmed by scripts/update_webhook_examples.py),
re-addressed to a test repository: the payload's shape stays GitHub's, only names and numbers change."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "webhooks.json"


@cache
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


def example(name: str) -> dict[str, Any]:
    """A fresh copy of the delivery `name` (e.g. `issue_comment.created.pull_request`)."""
    found: dict[str, Any] = copy.deepcopy(_data()["examples"][name])
    return found


def definition(name: str) -> str:
    return str(_data()["definitions"][name])


def schemas() -> dict[str, Any]:
    return dict(_data()["schemas"])


def names() -> list[str]:
    return sorted(_data()["examples"])


def readdress(payload: dict[str, Any], full_name: str) -> dict[str, Any]:
    """Point the delivery's repository at `full_name`."""
    owner, name = full_name.split("/")
    repository = payload.get("repository")
    if isinstance(repository, dict):
        repository.update(full_name=full_name, name=name)
        repository["owner"]["login"] = owner
    return payload


def pull_request_event(name: str, full_name: str, *, number: int, base: str, head: str,
                       merged: bool | None = None) -> dict[str, Any]:
    payload = readdress(example(name), full_name)
    pull = payload["pull_request"]
    payload["number"] = pull["number"] = number
    pull["base"]["ref"], pull["head"]["ref"] = base, head
    pull["head"]["repo"]["full_name"] = full_name
    if merged is not None:
        pull["merged"] = merged
    return payload


def comment_event(full_name: str, *, number: int, body: str, login: str, comment_id: int, created_at: str,
                  action: str = "created", user_type: str = "User", on_pull_request: bool = True) -> dict[str, Any]:
    payload = readdress(example("issue_comment.created.pull_request" if on_pull_request
                                else "issue_comment.created"), full_name)
    payload["action"] = action
    payload["issue"]["number"] = number
    comment = payload["comment"]
    comment.update(id=comment_id, body=body, created_at=created_at, updated_at=created_at)
    comment["user"].update(login=login, type=user_type)
    return payload
