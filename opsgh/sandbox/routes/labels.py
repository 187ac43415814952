"""Repository labels: list, create, get, update, delete (the `labels` collection of routes/issues.py)."""

from __future__ import annotations

import re
from typing import Any

from opsgh.sandbox import render_issues
from opsgh.sandbox.routes.issues import ISSUES, Label, labels_of
from opsgh.sandbox.routing import Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import RepoState

routes = RouteTable()

_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")
NAME_LIMIT = 50
DESCRIPTION_LIMIT = 100


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value.removeprefix("#")):
        raise validation_failed("Label", "color", "invalid")
    return value.removeprefix("#").lower()


def _description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_failed("Label", "description", "invalid")
    if len(value) > DESCRIPTION_LIMIT:
        raise validation_failed("Label", "description", "custom",
                                f"description is too long (maximum is {DESCRIPTION_LIMIT} characters)")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise validation_failed("Label", "name", "missing_field")
    if len(value) > NAME_LIMIT:
        raise validation_failed("Label", "name", "custom", f"name is too long (maximum is {NAME_LIMIT} characters)")
    return value.strip()


def _label_or_404(request: Request, repo: RepoState) -> Label:
    label = labels_of(request, repo).get(request.params["name"].lower())
    if label is None:
        raise not_found()
    return label


@routes.get("/repos/{owner}/{repo}/labels")
def list_labels(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    labels = sorted(labels_of(request, repo).values(), key=lambda label: label.name.lower())
    return paginate(request, labels).response(lambda label: render_issues.label(request, repo, label))


@routes.post("/repos/{owner}/{repo}/labels")
def create_label(request: Request) -> Response:
    repo = request.repo("write", permission="issues")
    body = request.json_object()
    name = _name(body.get("name"))
    color = _color(body["color"]) if body.get("color") is not None else "ededed"
    description = _description(body.get("description"))
    labels = labels_of(request, repo)
    if name.lower() in labels:
        raise validation_failed("Label", "name", "already_exists")
    label = Label(request.app.state.next_id("label"), name, color, description)
    labels[name.lower()] = label
    data = render_issues.label(request, repo, label)
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/labels/{name:path}")
def get_label(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    return Response(200, render_issues.label(request, repo, _label_or_404(request, repo)))


@routes.patch("/repos/{owner}/{repo}/labels/{name:path}")
def update_label(request: Request) -> Response:
    repo = request.repo("write", permission="issues")
    label = _label_or_404(request, repo)
    body = request.json_object()
    labels = labels_of(request, repo)
    if body.get("new_name") is not None:
        new_name = _name(body["new_name"])
        if new_name.lower() != label.name.lower() and new_name.lower() in labels:
            raise validation_failed("Label", "name", "already_exists")
        del labels[label.name.lower()]
        label.name = new_name
        labels[new_name.lower()] = label
    if body.get("color") is not None:
        label.color = _color(body["color"])
    if "description" in body:
        label.description = _description(body["description"])
    return Response(200, render_issues.label(request, repo, label))


@routes.delete("/repos/{owner}/{repo}/labels/{name:path}")
def delete_label(request: Request) -> Response:
    repo = request.repo("write", permission="issues")
    label = _label_or_404(request, repo)
    del labels_of(request, repo)[label.name.lower()]
    for issue in repo.items(ISSUES).values():
        if label.id in issue.label_ids:
            issue.label_ids.remove(label.id)
    return Response(204)
