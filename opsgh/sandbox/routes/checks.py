"""Check runs: create and update (GitHub App and Actions tokens only), get, annotations, list for a ref.

Collection `check_runs` (per repository, `CheckRun` by id), read by routes/pulls.py for mergeability
and `statusCheckRollup`. Each item:

- `id`, `head_sha` (full sha), `name`
- `status`: queued | in_progress | completed; `conclusion`: None until completed, then action_required,
  cancelled, failure, neutral, success, skipped, stale or timed_out
- `app_id`, `app_slug`: the App that created it (GitHub Actions: 15368, "github-actions")
- `started_at`, `completed_at`: epoch seconds or None
- `output`: `CheckRunOutput(title, summary, text)`; `annotations`: list of annotation dicts
- `details_url`, `external_id` (None when not given), `check_suite_id`, `created_at`

`latest_check_runs(repo, sha)` gives the newest run per name for a commit, as GitHub's `filter=latest`.

GitHub's limits, enforced: only an App installation or Actions token may write ("You must
authenticate via a GitHub App." for PATs and OAuth tokens), and only the App that created a run may
update it; `output.summary` and `output.text` at most 65535 characters (and bytes); at most 50
annotations per request (appended on each update).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsgh.sandbox import render_checks
from opsgh.sandbox.render_issues import acting_app_id, app_slug
from opsgh.sandbox.routes.issues import pull_views
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, not_found, paginate, validation_failed
from opsgh.sandbox.state import Collection, RepoState

routes = RouteTable()

APP_ONLY = "You must authenticate via a GitHub App."
CHECKS_DOCS = "https://docs.github.com/rest/checks/runs"
OUTPUT_LIMIT = 65535
ANNOTATIONS_PER_REQUEST = 50
STATUSES = ("queued", "in_progress", "completed")
ACTIONS_ONLY_STATUSES = ("waiting", "requested", "pending")
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
ANNOTATION_LEVELS = ("notice", "warning", "failure")
ANNOTATION_FIELDS = ("path", "start_line", "end_line", "annotation_level", "message")


@dataclass
class CheckRunOutput:
    title: str | None = None
    summary: str | None = None
    text: str | None = None


@dataclass
class CheckRun:
    id: int
    head_sha: str
    name: str
    status: str = "queued"
    conclusion: str | None = None
    app_id: int | None = None
    app_slug: str | None = None
    started_at: float | None = None
    completed_at: float | None = None
    output: CheckRunOutput = field(default_factory=CheckRunOutput)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    details_url: str | None = None
    external_id: str | None = None
    check_suite_id: int = 0
    created_at: float = 0.0


CHECK_RUNS: Collection[int, CheckRun] = Collection("check_runs", CheckRun, key=int)


def latest_check_runs(repo: RepoState, sha: str) -> list[CheckRun]:
    """The newest check run of each name (per App) on commit `sha`, newest first."""
    newest: dict[tuple[int | None, str], CheckRun] = {}
    for run in repo.items(CHECK_RUNS).values():
        if run.head_sha != sha:
            continue
        key = (run.app_id, run.name)
        if key not in newest or run.id > newest[key].id:
            newest[key] = run
    return sorted(newest.values(), key=lambda run: run.id, reverse=True)


# ---------------------------------------------------------------------------------------------------
# Input


def _invalid(detail: str) -> ApiError:
    return ApiError(422, f"Invalid request.\n\n{detail}", documentation_url=CHECKS_DOCS)


def _not_supplied(names: list[str]) -> str:
    quoted = ", ".join(f'"{name}"' for name in names)
    return f"{quoted} {'wasn' if len(names) == 1 else 'weren'}'t supplied."


def _time(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise _invalid(f"For 'properties/{name}', {value!r} is not a date-time.")


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"For 'properties/{name}', {value!r} is not a string.")
    if len(value) > OUTPUT_LIMIT:
        raise _invalid(f"Only {OUTPUT_LIMIT} characters are allowed; {len(value)} were supplied.")
    if len(value.encode("utf-8")) > OUTPUT_LIMIT:
        raise validation_failed("CheckRun", name, "custom", f"{name} exceeds a maximum bytesize of {OUTPUT_LIMIT}")
    return value


def _annotations(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _invalid(f"For 'properties/annotations', {raw!r} is not an array.")
    if len(raw) > ANNOTATIONS_PER_REQUEST:
        raise _invalid(f"No more than {ANNOTATIONS_PER_REQUEST} items are allowed; {len(raw)} were supplied.")
    problems = []
    for item in raw:
        if not isinstance(item, dict):
            raise _invalid(f"For 'items', {item!r} is not an object.")
        missing = [name for name in ANNOTATION_FIELDS if name not in item]
        if missing:
            problems.append(_not_supplied(sorted(missing)))
        elif item["annotation_level"] not in ANNOTATION_LEVELS:
            problems.append(f"For 'properties/annotation_level', {item['annotation_level']!r} is not a member of "
                            f"{list(ANNOTATION_LEVELS)}.")
    if problems:
        raise _invalid("\n".join(problems))
    return [dict(item) for item in raw]


def _apply_output(run: CheckRun, raw: Any) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise _invalid(f"For 'properties/output', {raw!r} is not an object.")
    missing = [name for name in ("title", "summary") if raw.get(name) is None]
    if missing:
        raise _invalid(_not_supplied(missing))
    title = raw["title"]
    if not isinstance(title, str):
        raise _invalid(f"For 'properties/title', {title!r} is not a string.")
    summary = _text(raw["summary"], "summary")
    text = _text(raw.get("text"), "text")
    annotations = _annotations(raw.get("annotations"))
    run.output = CheckRunOutput(title, summary, text if "text" in raw else run.output.text)
    run.annotations.extend(annotations)


def _apply_status(request: Request, run: CheckRun, body: dict[str, Any], *, creating: bool) -> None:
    status = body.get("status")
    conclusion = body.get("conclusion")
    from_actions = request.auth.token is not None and request.auth.token.kind == "actions"
    allowed = STATUSES + (ACTIONS_ONLY_STATUSES if from_actions else ())
    if status is not None and status not in allowed:
        raise _invalid(f"For 'properties/status', {status!r} is not a member of {list(allowed)}.")
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise _invalid(f"For 'properties/conclusion', {conclusion!r} is not a member of {list(CONCLUSIONS)}.")
    now = request.app.now()
    started_at, completed_at = _time(body, "started_at"), _time(body, "completed_at")
    if conclusion is not None:
        status = "completed"  # a conclusion completes the run, whatever `status` says
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise _invalid(_not_supplied(["conclusion"]))
    if status is not None:
        run.status = status
    if conclusion is not None:
        run.conclusion = conclusion
    if started_at is not None:
        run.started_at = started_at
    elif creating:
        run.started_at = now
    if run.status == "completed":
        run.completed_at = completed_at if completed_at is not None else (run.completed_at or now)
    else:
        run.conclusion, run.completed_at = None, None
    for name in ("details_url", "external_id"):
        if name in body:
            value = body[name]
            if value is not None and not isinstance(value, str):
                raise _invalid(f"For 'properties/{name}', {value!r} is not a string.")
            setattr(run, name, value)


def _require_app(request: Request) -> RepoState:
    """Write access for Apps only: PATs and OAuth tokens get GitHub's 403 "You must authenticate via a
    GitHub App."; an App without `checks: write` gets "Resource not accessible by integration"."""
    repo = request.repo("read", permission="checks")
    token = request.auth.token
    if token is None:
        raise ApiError(401, "Requires authentication")
    if not token.is_integration:
        raise ApiError(403, APP_ONLY, documentation_url=CHECKS_DOCS)
    request.require(repo, "write", permission="checks")
    return repo


def _suite_id(request: Request, repo: RepoState, app_id: int | None, sha: str) -> int:
    for run in repo.items(CHECK_RUNS).values():
        if run.app_id == app_id and run.head_sha == sha:
            return run.check_suite_id
    return request.app.state.next_id("check_suite")


def _render(request: Request, repo: RepoState, run: CheckRun) -> dict[str, Any]:
    """A check run with the open pull requests whose head is its commit."""
    git = request.app.git_repo(repo)
    pulls = []
    for pull in pull_views(repo).values():
        if pull.state == "open" and pull.head_sha == run.head_sha:
            base_sha = pull.base_sha or (git.resolve(pull.base_ref) if pull.base_ref else None) or ""
            pulls.append(render_checks.pull_request_minimal(request, repo, pull, base_sha))
    return render_checks.check_run(request, repo, run, pulls)


def _run_or_404(request: Request, repo: RepoState) -> CheckRun:
    try:
        run = repo.items(CHECK_RUNS).get(int(request.params["check_run_id"]))
    except ValueError:
        run = None
    if run is None:
        raise not_found()
    return run


# ---------------------------------------------------------------------------------------------------
# Routes


@routes.post("/repos/{owner}/{repo}/check-runs")
def create_check_run(request: Request) -> Response:
    repo = _require_app(request)
    body = request.json_object()
    missing = [name for name in ("name", "head_sha") if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        raise _invalid(_not_supplied(missing))
    head_sha = body["head_sha"]
    sha = request.app.git_repo(repo).resolve(head_sha) if len(head_sha) >= 4 else None
    if sha is None or not sha.startswith(head_sha.lower()):
        raise ApiError(422, f"No commit found for SHA: {head_sha}", documentation_url=CHECKS_DOCS)
    app_id = acting_app_id(request)
    run = CheckRun(0, sha, body["name"], app_id=app_id,
                   app_slug=app_slug(request, app_id) if app_id is not None else None,
                   created_at=request.app.now())
    _apply_status(request, run, body, creating=True)
    _apply_output(run, body.get("output"))
    run.id = request.app.state.next_id("check_run")
    run.check_suite_id = _suite_id(request, repo, app_id, sha)
    repo.items(CHECK_RUNS)[run.id] = run
    return Response(201, _render(request, repo, run))


@routes.get("/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(request: Request) -> Response:
    repo = request.repo("read", permission="checks")
    return Response(200, _render(request, repo, _run_or_404(request, repo)))


@routes.patch("/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(request: Request) -> Response:
    repo = _require_app(request)
    run = _run_or_404(request, repo)
    app_id = acting_app_id(request)
    if run.app_id != app_id:
        raise ApiError(403, f"Invalid app_id `{app_id}` - check run can only be modified by the GitHub App "
                            "that created it.", documentation_url=CHECKS_DOCS)
    body = request.json_object()
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"]:
            raise _invalid("For 'properties/name', the name must be a non-empty string.")
        run.name = body["name"]
    _apply_status(request, run, body, creating=False)
    _apply_output(run, body.get("output"))
    return Response(200, _render(request, repo, run))


@routes.get("/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
def list_annotations(request: Request) -> Response:
    repo = request.repo("read", permission="checks")
    run = _run_or_404(request, repo)
    page = paginate(request, run.annotations)
    return page.response(lambda item: render_checks.annotation(request, repo, run, item))


@routes.get("/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
def list_check_runs_for_ref(request: Request) -> Response:
    repo = request.repo("read", permission="checks")
    ref = request.params["ref"]
    sha = request.app.git_repo(repo).resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    name, status = request.arg("check_name"), request.arg("status")
    app_id = request.int_arg("app_id", 0)
    if request.arg("filter", "latest") == "all":
        runs = sorted((r for r in repo.items(CHECK_RUNS).values() if r.head_sha == sha),
                      key=lambda r: r.id, reverse=True)
    else:
        runs = latest_check_runs(repo, sha)
    runs = [r for r in runs if (not name or r.name == name) and (not status or r.status == status)
            and (not app_id or r.app_id == app_id)]
    page = paginate(request, runs)
    body = {"total_count": len(runs), "check_runs": [_render(request, repo, run) for run in page.items]}
    return Response(200, body, page.headers)


# ---------------------------------------------------------------------------------------------------
# Check suites: one per App and commit, derived from the runs


_FAILING = ("action_required", "timed_out", "cancelled", "failure", "stale")


def suite_conclusion(runs: list[CheckRun]) -> tuple[str, str | None]:
    """(status, conclusion) of a check suite from its newest runs."""
    if any(run.status != "completed" for run in runs):
        return ("in_progress" if any(run.status == "in_progress" for run in runs) else "queued"), None
    conclusions = [run.conclusion or "neutral" for run in runs]
    for failing in _FAILING:
        if failing in conclusions:
            return "completed", failing
    if conclusions and all(c == "skipped" for c in conclusions):
        return "completed", "skipped"
    if conclusions and all(c in ("neutral", "skipped") for c in conclusions):
        return "completed", "neutral"
    return "completed", "success"


@routes.get("/repos/{owner}/{repo}/commits/{ref:path}/check-suites")
def list_check_suites_for_ref(request: Request) -> Response:
    repo = request.repo("read", permission="checks")
    ref = request.params["ref"]
    git = request.app.git_repo(repo)
    sha = git.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    app_id = request.int_arg("app_id", 0)
    name = request.arg("check_name")
    suites: dict[int, list[CheckRun]] = {}
    for run in latest_check_runs(repo, sha):
        if (not app_id or run.app_id == app_id) and (not name or run.name == name):
            suites.setdefault(run.check_suite_id, []).append(run)
    page = paginate(request, sorted(suites.items()))
    info = git.commit_info(sha)
    branch = next((b for b, tip in git.branches().items() if tip == sha), None)
    body = {"total_count": len(suites),
            "check_suites": [render_checks.check_suite(request, repo, suite_id, runs, info, branch,
                                                       suite_conclusion(runs)) for suite_id, runs in page.items]}
    return Response(200, body, page.headers)
