"""Issues: create, get, update, list, and the labels of one issue (add, set, remove).

Collections declared here (per repository):

- `issues` (`Issue` by number): real issues, and the *issue side* of pull requests (labels, assignees,
  lock, state_reason), kept in a shadow record with `is_pull=True` created when first needed.
- `labels` (`Label` by lower-case name): the repository's labels; a repository starts with GitHub's
  nine default labels (seeded the first time its labels are read).
- `issue_comments` and `issue_comment_reactions`: see routes/comments.py.

Pull requests are issues too (one number sequence, `repo.next_number()`). Their pull-request side
lives in the `pulls` collection owned by routes/pulls.py; everything this package reads or writes
there goes through `pull_views()` and `update_pull()` below (the only coupling, read defensively: the
collection may not exist, its items are read by attribute name). For routes/pulls.py and GraphQL:
`issue_labels(repo, number)` is the label list of an issue or pull request, `issue_assignees(...)`
its assignees, `comment_count(...)` its number of comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsgh.sandbox import render_issues
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import INTEGRATION_KINDS, Collection, RepoState, role_at_least

routes = RouteTable()

BODY_LIMIT = 65536  # characters, issues and comments alike
TITLE_LIMIT = 256
MAX_ASSIGNEES = 10
DEFAULT_LABELS: tuple[tuple[str, str, str], ...] = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)
STATE_REASONS = ("completed", "not_planned", "duplicate", "reopened")


# ---------------------------------------------------------------------------------------------------
# State


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Issue:
    """An issue, or the issue side of pull request `number` (`is_pull`: title, body, state and author
    then come from the `pulls` collection, see `pull_views`)."""

    number: int
    id: int
    title: str = ""
    user: str | None = None
    body: str | None = None
    state: str = "open"
    state_reason: str | None = None
    label_ids: list[int] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    locked: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    closed_at: float | None = None
    closed_by: str | None = None
    is_pull: bool = False
    app_id: int | None = None  # performed_via_github_app


ISSUES: Collection[int, Issue] = Collection("issues", Issue, key=int)
LABELS: Collection[str, Label] = Collection("labels", Label, key=str)


def labels_of(request: Request, repo: RepoState) -> dict[str, Label]:
    """The repository's labels by lower-case name (GitHub's defaults the first time)."""
    fresh = LABELS.name not in repo.collections
    labels = repo.items(LABELS)
    if fresh and not labels:
        for name, color, description in DEFAULT_LABELS:
            labels[name] = Label(request.app.state.next_id("label"), name, color, description, True)
    return labels


def label_by_id(request: Request, repo: RepoState) -> dict[int, Label]:
    return {label.id: label for label in labels_of(request, repo).values()}


# ---------------------------------------------------------------------------------------------------
# Pull requests: the one place that reads (and writes) the `pulls` collection of routes/pulls.py


PULLS_COLLECTION = "pulls"


@dataclass(frozen=True)
class PullView:
    """What issues, search, check runs and release notes need of a pull request."""

    number: int
    id: int
    title: str
    body: str | None
    state: str  # open | closed
    user: str | None
    draft: bool
    created_at: float
    updated_at: float
    closed_at: float | None
    merged_at: float | None
    head_ref: str | None
    head_sha: str | None
    base_ref: str | None
    base_sha: str | None
    merge_commit_sha: str | None


def _get(item: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value is not None:
            return value
    return default


def _login(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    login = _get(value, "login")
    return login if isinstance(login, str) else None


def _side(item: Any, side: str) -> tuple[str | None, str | None]:
    """(ref, sha) of the head or base: `head_ref`/`head_sha` fields, or a `head` string or object."""
    value = _get(item, side)
    ref = _get(item, f"{side}_ref", f"{side}_branch")
    sha = _get(item, f"{side}_sha")
    if isinstance(value, str):
        ref = ref or value
    elif value is not None:
        ref = ref or _get(value, "ref", "branch", "name")
        sha = sha or _get(value, "sha")
    return (ref if isinstance(ref, str) else None), (sha if isinstance(sha, str) else None)


def pull_views(repo: RepoState) -> dict[int, PullView]:
    """The pull requests of `repo` as the issue side sees them ({} when there is no `pulls` collection).

    Reads, by attribute (or key) name: number, id, title, body, state (open|closed), user/author
    (a login or an object with `login`), draft, created_at, updated_at, closed_at, merged_at (epoch
    seconds), head_ref/head_sha (or `head` as a ref string or an object with ref and sha), the same
    for base, merge_commit_sha. A merged pull request is closed whatever `state` says.
    """
    collection = Collection.registry.get(PULLS_COLLECTION)
    if collection is None:
        return {}
    views: dict[int, PullView] = {}
    for key, item in repo.items(collection).items():
        number = int(_get(item, "number", default=key))
        merged_at = _get(item, "merged_at")
        merged = merged_at is not None or _get(item, "merged") is True
        state = "open" if _get(item, "state", default="open") == "open" and not merged else "closed"
        head_ref, head_sha = _side(item, "head")
        base_ref, base_sha = _side(item, "base")
        created = float(_get(item, "created_at", default=0.0))
        views[number] = PullView(
            number=number, id=int(_get(item, "id", default=number)), title=str(_get(item, "title", default="")),
            body=_get(item, "body"), state=state, user=_login(_get(item, "user", "author", "creator")),
            draft=bool(_get(item, "draft", default=False)), created_at=created,
            updated_at=float(_get(item, "updated_at", default=created)), closed_at=_get(item, "closed_at"),
            merged_at=merged_at, head_ref=head_ref, head_sha=head_sha, base_ref=base_ref, base_sha=base_sha,
            merge_commit_sha=_get(item, "merge_commit_sha"))
    return views


def update_pull(repo: RepoState, number: int, **changes: Any) -> None:
    """PATCH /issues/{n} on a pull request: write title, body, state, closed_at, updated_at through to
    the `pulls` item (only the attributes it has)."""
    collection = Collection.registry.get(PULLS_COLLECTION)
    if collection is None:
        return
    items = repo.items(collection)
    item = items.get(number)
    if item is None:
        item = next((i for i in items.values() if _get(i, "number") == number), None)
    if item is None:
        return
    for name, value in changes.items():
        if isinstance(item, dict):
            if name in item:
                item[name] = value
        elif hasattr(item, name):
            setattr(item, name, value)


# ---------------------------------------------------------------------------------------------------
# The issue side of every number


@dataclass(frozen=True)
class IssueView:
    """An issue or a pull request as GET /issues shows it."""

    record: Issue
    pull: PullView | None

    @property
    def number(self) -> int:
        return self.record.number

    @property
    def title(self) -> str:
        return self.pull.title if self.pull is not None else self.record.title

    @property
    def body(self) -> str | None:
        return self.pull.body if self.pull is not None else self.record.body

    @property
    def state(self) -> str:
        return self.pull.state if self.pull is not None else self.record.state

    @property
    def user(self) -> str | None:
        return self.pull.user if self.pull is not None else self.record.user

    @property
    def created_at(self) -> float:
        return self.pull.created_at if self.pull is not None else self.record.created_at

    @property
    def updated_at(self) -> float:
        if self.pull is not None:
            return max(self.pull.updated_at, self.record.updated_at)
        return self.record.updated_at

    @property
    def closed_at(self) -> float | None:
        if self.pull is not None:
            return self.pull.closed_at if self.pull.state == "closed" else None
        return self.record.closed_at


def _shadow(request: Request, repo: RepoState, pull: PullView) -> Issue:
    issues = repo.items(ISSUES)
    record = issues.get(pull.number)
    if record is None or not record.is_pull:
        record = Issue(pull.number, request.app.state.next_id("issue"), is_pull=True,
                       created_at=pull.created_at, updated_at=pull.created_at)
        issues[pull.number] = record
    return record


def all_issue_views(request: Request, repo: RepoState) -> list[IssueView]:
    """Every issue and pull request of `repo`, by number."""
    pulls = pull_views(repo)
    issues = repo.items(ISSUES)
    views = [IssueView(record, None) for record in issues.values() if not record.is_pull]
    views += [IssueView(_shadow(request, repo, pull), pull) for pull in pulls.values()]
    return sorted(views, key=lambda view: view.number)


def find_issue(request: Request, repo: RepoState, number: int) -> IssueView | None:
    pull = pull_views(repo).get(number)
    if pull is not None:
        return IssueView(_shadow(request, repo, pull), pull)
    record = repo.items(ISSUES).get(number)
    if record is None or record.is_pull:
        return None
    return IssueView(record, None)


def issue_number(request: Request) -> int:
    try:
        return int(request.params["issue_number"])
    except ValueError:
        raise not_found() from None


def get_issue_or_404(request: Request, repo: RepoState) -> IssueView:
    view = find_issue(request, repo, issue_number(request))
    if view is None:
        raise not_found()
    return view


def _issue_record(request: Request, repo: RepoState, number: int) -> Issue | None:
    """The issue-side record of `number`, read directly. A pull request without one has no labels or
    assignees yet. (Going through `find_issue` rebuilt every pull request's view, which made each
    page of a pull request list quadratic in the number of pull requests.)"""
    del request
    return repo.items(ISSUES).get(number)


def issue_labels(request: Request, repo: RepoState, number: int) -> list[Label]:
    """The labels on issue or pull request `number` (for routes/pulls.py and GraphQL too)."""
    record = _issue_record(request, repo, number)
    if record is None:
        return []
    by_id = label_by_id(request, repo)
    return [by_id[i] for i in record.label_ids if i in by_id]


def issue_assignees(request: Request, repo: RepoState, number: int) -> list[str]:
    record = _issue_record(request, repo, number)
    return list(record.assignees) if record is not None else []


def comment_count(repo: RepoState, number: int) -> int:
    from opsgh.sandbox.routes.comments import COMMENTS

    return sum(1 for comment in repo.items(COMMENTS).values() if comment.issue_number == number)


def render_view(request: Request, repo: RepoState, view: IssueView, *, search_score: float | None = None
                ) -> dict[str, Any]:
    by_id = label_by_id(request, repo)
    labels = [by_id[i] for i in view.record.label_ids if i in by_id]
    return render_issues.issue(request, repo, view, labels, comment_count(repo, view.number),
                               search_score=search_score)


# ---------------------------------------------------------------------------------------------------
# Permissions and input


def require_participant(request: Request, repo: RepoState, permission: str = "issues") -> None:
    """Opening an issue or commenting: any signed-in reader (integrations need `permission` write)."""
    token = request.auth.token
    if token is None:
        if not request.can_read(repo):
            raise not_found()
        raise ApiError(401, "Requires authentication")
    if token.kind in INTEGRATION_KINDS or token.kind == "fine-grained":
        request.require(repo, "write", permission=permission)
    else:
        request.require(repo, "read", permission=permission)
        if repo.archived:
            raise ApiError(403, "Repository was archived so is read-only.")


def can_triage(request: Request, repo: RepoState) -> bool:
    """Whether the caller may set labels, assignees and milestones (silently dropped otherwise)."""
    return role_at_least(request.role(repo), "triage")


def issue_permission(view: IssueView | None) -> str:
    return "pull_requests" if view is not None and view.pull is not None else "issues"


def _check_issues_enabled(repo: RepoState) -> None:
    if not repo.settings.has_issues:
        raise ApiError(410, "Issues are disabled for this repo")


def check_body(body: Any, resource: str) -> str | None:
    """Validate an issue or comment body: a string of at most 65536 characters (GitHub's 422 otherwise)."""
    if body is None:
        return None
    if not isinstance(body, str):
        raise validation_failed(resource, "body", "invalid")
    if len(body) > BODY_LIMIT:
        if resource == "IssueComment":
            raise validation_failed("IssueComment", "data", "unprocessable",
                                    f"Body is too long (maximum is {BODY_LIMIT} characters)")
        raise validation_failed(resource, "body", "custom", f"body is too long (maximum is {BODY_LIMIT} characters)")
    return body


def _check_title(title: Any) -> str:
    if isinstance(title, int) and not isinstance(title, bool):
        title = str(title)
    if not isinstance(title, str) or not title.strip():
        raise validation_failed("Issue", "title", "missing_field")
    if len(title) > TITLE_LIMIT:
        raise validation_failed("Issue", "title", "custom", f"title is too long (maximum is {TITLE_LIMIT} "
                                                            "characters)")
    return title


def label_names(raw: Any, *, allow_objects: bool = True) -> list[str]:
    """Label names from a request: ["a", "b"], [{"name": "a"}], or a single string."""
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise validation_failed("Label", "labels", "invalid")
    names: list[str] = []
    for item in raw:
        if isinstance(item, dict) and allow_objects and isinstance(item.get("name"), str):
            item = item["name"]
        if not isinstance(item, str) or not item.strip():
            raise validation_failed("Label", "name", "invalid")
        if item.strip().lower() not in (n.lower() for n in names):
            names.append(item.strip())
    return names


def resolve_labels(request: Request, repo: RepoState, names: list[str], *, create: bool) -> list[Label]:
    """The labels named; missing ones are created (POST/PUT issue labels) or refused (issues)."""
    labels = labels_of(request, repo)
    found: list[Label] = []
    for name in names:
        label = labels.get(name.lower())
        if label is None:
            if not create:
                raise validation_failed("Label", "name", "invalid", f"Label {name} does not exist")
            label = Label(request.app.state.next_id("label"), name)
            labels[name.lower()] = label
        found.append(label)
    return found


def _check_assignees(request: Request, repo: RepoState, raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
        raise validation_failed("Issue", "assignees", "invalid")
    logins: list[str] = []
    for login in raw:
        user = request.app.state.user(login)
        if user is None or repo.role_of(login) is None:
            # Only collaborators can be assigned: GitHub refuses the request, naming the login.
            raise ApiError(422, "Validation Failed", [{"resource": "Issue", "field": "assignees", "code": "invalid",
                                                       "value": login}])
        if user.login not in logins:
            logins.append(user.login)
    if len(logins) > MAX_ASSIGNEES:
        raise validation_failed("Issue", "assignees", "custom", f"You can only assign up to {MAX_ASSIGNEES} users")
    return logins


# ---------------------------------------------------------------------------------------------------
# Routes: issues


def _timestamp(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise validation_failed("Issue", "since", "invalid") from None


@routes.get("/repos/{owner}/{repo}/issues")
def list_issues(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    _check_issues_enabled(repo)
    state = request.arg("state", "open")
    labels_filter = [n.strip().lower() for n in (request.arg("labels") or "").split(",") if n.strip()]
    since = _timestamp(request.arg("since"))
    creator = (request.arg("creator") or "").lower()
    assignee = request.arg("assignee")
    sort = request.arg("sort", "created")
    direction = request.arg("direction", "desc")
    by_id = label_by_id(request, repo)
    chosen: list[IssueView] = []
    for view in all_issue_views(request, repo):
        if state in ("open", "closed") and view.state != state:
            continue
        names = {by_id[i].name.lower() for i in view.record.label_ids if i in by_id}
        if not all(n in names for n in labels_filter):
            continue
        if since is not None and view.updated_at < since:
            continue
        if creator and (view.user or "").lower() != creator:
            continue
        if assignee == "none" and view.record.assignees:
            continue
        if assignee == "*" and not view.record.assignees:
            continue
        if assignee not in (None, "", "none", "*") and assignee.lower() not in (
                a.lower() for a in view.record.assignees):
            continue
        chosen.append(view)

    def key(view: IssueView) -> tuple[float, int]:
        if sort == "updated":
            return view.updated_at, view.number
        if sort == "comments":
            return float(comment_count(repo, view.number)), view.number
        return view.created_at, view.number

    chosen.sort(key=key, reverse=direction != "asc")
    return paginate(request, chosen).response(lambda view: render_view(request, repo, view))


@routes.post("/repos/{owner}/{repo}/issues")
def create_issue(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    require_participant(request, repo)
    _check_issues_enabled(repo)
    body = request.json_object()
    title = _check_title(body.get("title"))
    text = check_body(body.get("body"), "Issue")
    label_ids: list[int] = []
    assignees: list[str] = []
    if can_triage(request, repo):
        if body.get("labels") is not None:
            label_ids = [label.id for label in resolve_labels(request, repo, label_names(body["labels"]),
                                                              create=True)]
        raw_assignees = body.get("assignees")
        if raw_assignees is None and isinstance(body.get("assignee"), str):
            raw_assignees = [body["assignee"]]
        assignees = _check_assignees(request, repo, raw_assignees)
    now = request.app.now()
    record = Issue(repo.next_number(), request.app.state.next_id("issue"), title, request.auth.login, text,
                   label_ids=label_ids, assignees=assignees, created_at=now, updated_at=now,
                   app_id=render_issues.acting_app_id(request))
    repo.items(ISSUES)[record.number] = record
    data = render_view(request, repo, IssueView(record, None))
    return Response(201, data, {"location": str(data["url"])})


@routes.get("/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    if view.pull is None:
        _check_issues_enabled(repo)
    return Response(200, render_view(request, repo, view))


@routes.patch("/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    permission = issue_permission(view)
    author = request.auth.login is not None and (view.user or "").lower() == request.auth.login.lower()
    if author:
        require_participant(request, repo, permission)
    else:
        request.require(repo, "triage", permission=permission)
    body = request.json_object()
    record = view.record
    now = request.app.now()
    pull_changes: dict[str, Any] = {}
    if "title" in body:
        title = _check_title(body["title"])
        if view.pull is None:
            record.title = title
        pull_changes["title"] = title
    if "body" in body:
        text = check_body(body["body"], "Issue")
        if view.pull is None:
            record.body = text
        pull_changes["body"] = text
    reason = body.get("state_reason")
    if reason is not None and reason not in STATE_REASONS:
        raise validation_failed("Issue", "state_reason", "invalid")
    if "state" in body:
        state = body["state"]
        if state not in ("open", "closed"):
            raise validation_failed("Issue", "state", "invalid")
        if view.pull is not None and view.pull.merged_at is not None and state == "open":
            raise validation_failed("Issue", "state", "custom", "state cannot be changed. The pull request "
                                                                "has been merged.")
        if state != view.state:
            if state == "closed":
                record.closed_at, record.closed_by = now, request.auth.login
                record.state_reason = reason if reason in ("completed", "not_planned", "duplicate") else "completed"
            else:
                record.closed_at, record.closed_by = None, None
                record.state_reason = "reopened"
            record.state = state
            pull_changes.update(state=state, closed_at=record.closed_at)
    elif reason is not None and view.state == "closed" and reason != "reopened":
        record.state_reason = reason
    if can_triage(request, repo):
        if "labels" in body:
            names = label_names(body["labels"]) if body["labels"] is not None else []
            record.label_ids = [label.id for label in resolve_labels(request, repo, names, create=True)]
        if "assignees" in body or "assignee" in body:
            raw = body.get("assignees")
            if "assignees" not in body:
                raw = [body["assignee"]] if isinstance(body.get("assignee"), str) else []
            record.assignees = _check_assignees(request, repo, raw)
    record.updated_at = now
    if view.pull is not None and pull_changes:
        update_pull(repo, record.number, updated_at=now, **pull_changes)
    fresh = find_issue(request, repo, record.number)
    assert fresh is not None
    return Response(200, render_view(request, repo, fresh))


# ---------------------------------------------------------------------------------------------------
# Routes: the labels of one issue


def _labels_answer(request: Request, repo: RepoState, view: IssueView) -> Response:
    by_id = label_by_id(request, repo)
    labels = [by_id[i] for i in view.record.label_ids if i in by_id]
    return Response(200, [render_issues.label(request, repo, label) for label in labels])


def _labels_body(request: Request) -> Any:
    data = request.json()
    if isinstance(data, dict):
        return data.get("labels", [])
    return data if data is not None else []


def _touch(request: Request, repo: RepoState, view: IssueView) -> None:
    view.record.updated_at = request.app.now()
    if view.pull is not None:
        update_pull(repo, view.number, updated_at=view.record.updated_at)


@routes.get("/repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_issue_labels(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    by_id = label_by_id(request, repo)
    labels = [by_id[i] for i in view.record.label_ids if i in by_id]
    return paginate(request, labels).response(lambda label: render_issues.label(request, repo, label))


@routes.post("/repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_issue_labels(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    request.require(repo, "triage", permission=issue_permission(view))
    names = label_names(_labels_body(request))
    if not names:
        raise validation_failed("Label", "labels", "missing_field")
    for label in resolve_labels(request, repo, names, create=True):
        if label.id not in view.record.label_ids:
            view.record.label_ids.append(label.id)
    _touch(request, repo, view)
    return _labels_answer(request, repo, view)


@routes.put("/repos/{owner}/{repo}/issues/{issue_number}/labels")
def set_issue_labels(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    request.require(repo, "triage", permission=issue_permission(view))
    names = label_names(_labels_body(request))
    view.record.label_ids = [label.id for label in resolve_labels(request, repo, names, create=True)]
    _touch(request, repo, view)
    return _labels_answer(request, repo, view)


@routes.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels")
def clear_issue_labels(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    request.require(repo, "triage", permission=issue_permission(view))
    view.record.label_ids = []
    _touch(request, repo, view)
    return Response(204)


@routes.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name:path}")
def remove_issue_label(request: Request) -> Response:
    repo = request.repo("read", permission="issues")
    view = get_issue_or_404(request, repo)
    request.require(repo, "triage", permission=issue_permission(view))
    label = labels_of(request, repo).get(request.params["name"].lower())
    if label is None or label.id not in view.record.label_ids:
        raise ApiError(404, "Label does not exist")
    view.record.label_ids.remove(label.id)
    _touch(request, repo, view)
    return _labels_answer(request, repo, view)
