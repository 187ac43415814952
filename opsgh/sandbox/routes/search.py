"""GET /search/issues: issues and pull requests across the repositories the caller can read.

Supported qualifiers (combined with AND, like GitHub): `repo:o/r`, `org:`/`user:`, `is:issue`/`is:pr`
(`type:`), `is:open`/`is:closed`/`state:`, `is:merged`/`is:unmerged`, `is:draft`, `label:x`
(several: all of them; `label:a,b`: either), `-label:x`, `no:label`, `author:`, `assignee:`,
`head:`/`base:` (pull requests), `in:title`/`in:body`, and free text (every word, case-insensitive,
in the title and, unless `in:title`, the body). `sort` = created | updated | comments, `order` =
desc | asc; without `sort`, best match (here: newest first). Only the first 1000 results can be paged.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from opsgh.sandbox.routes.issues import IssueView, all_issue_views, comment_count, label_by_id, render_view
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, paginate
from opsgh.sandbox.state import RepoState

routes = RouteTable()

MAX_RESULTS = 1000
_QUALIFIER = re.compile(r"^(-?)([a-z_]+):(.*)$", re.IGNORECASE)


@dataclass
class Query:
    repos: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    kind: str | None = None  # issue | pr
    state: str | None = None  # open | closed
    merged: bool | None = None
    draft: bool | None = None
    labels: list[list[str]] = field(default_factory=list)  # every group must match one of its names
    without_labels: list[str] = field(default_factory=list)
    no_label: bool = False
    authors: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)  # in:title / in:body
    words: list[str] = field(default_factory=list)


def _invalid_query(message: str) -> ApiError:
    return ApiError(422, "Validation Failed", [{"message": message, "resource": "Search", "field": "q",
                                                "code": "invalid"}])


def _terms(text: str) -> list[str]:
    """Split on spaces, keeping `label:"needs review"` and `"two words"` together."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: GitHub searches the words as they are
        return text.split()


def parse(text: str) -> Query:
    query = Query()
    for term in _terms(text):
        found = _QUALIFIER.match(term)
        if found is None:
            query.words.append(term.lower())
            continue
        negated, name, value = found.group(1) == "-", found.group(2).lower(), found.group(3)
        lowered = value.lower()
        if name == "repo":
            query.repos.append(lowered)
        elif name in ("org", "user"):
            query.owners.append(lowered)
        elif name in ("is", "type") and lowered in ("issue", "pr", "pull-request"):
            query.kind = "issue" if lowered == "issue" else "pr"
        elif (name == "is" or name == "state") and lowered in ("open", "closed"):
            query.state = lowered
        elif name == "is" and lowered in ("merged", "unmerged"):
            query.merged = lowered == "merged"
            query.kind = "pr"
        elif name == "is" and lowered == "draft":
            query.draft = not negated
        elif name == "label":
            names = [n.strip().lower() for n in value.split(",") if n.strip()]
            if negated:
                query.without_labels += names
            else:
                query.labels.append(names)
        elif name == "no" and lowered == "label":
            query.no_label = True
        elif name == "author":
            query.authors.append(lowered)
        elif name == "assignee":
            query.assignees.append(lowered)
        elif name == "head":
            query.heads.append(lowered)
        elif name == "base":
            query.bases.append(lowered)
        elif name == "in":
            query.fields.update(f for f in lowered.split(",") if f in ("title", "body", "comments"))
        else:
            query.words.append(term.lower())
    return query


def _matches(query: Query, view: IssueView, label_names: set[str]) -> bool:
    pull = view.pull
    if query.kind is not None and (pull is not None) != (query.kind == "pr"):
        return False
    if query.state is not None and view.state != query.state:
        return False
    if query.merged is not None and (pull is None or (pull.merged_at is not None) != query.merged):
        return False
    if query.draft is not None and (pull is None or pull.draft != query.draft):
        return False
    if any(not label_names.intersection(group) for group in query.labels):
        return False
    if label_names.intersection(query.without_labels) or (query.no_label and label_names):
        return False
    if query.authors and (view.user or "").lower() not in query.authors:
        return False
    if query.assignees and not {a.lower() for a in view.record.assignees}.intersection(query.assignees):
        return False
    if query.heads and (pull is None or (pull.head_ref or "").lower() not in query.heads):
        return False
    if query.bases and (pull is None or (pull.base_ref or "").lower() not in query.bases):
        return False
    if query.words:
        searched = {"title", "body"} if not query.fields or query.fields == {"comments"} else query.fields
        haystack = " ".join([view.title if "title" in searched else "",
                             (view.body or "") if "body" in searched else ""]).lower()
        if not all(word in haystack for word in query.words):
            return False
    return True


def _repositories(request: Request, query: Query) -> list[RepoState]:
    state = request.app.state
    readable = [repo for repo in state.repos.values() if request.can_read(repo)]
    if query.repos:
        wanted = set(query.repos)
        chosen = [repo for repo in readable if repo.key in wanted]
        if len(chosen) != len(wanted):
            raise _invalid_query("The listed users and repositories cannot be searched either because the "
                                 "resources do not exist or you do not have permission to view them.")
        readable = chosen
    if query.owners:
        known = {login.lower() for login in state.users} | {repo.owner.lower() for repo in state.repos.values()}
        if not set(query.owners) <= known:
            raise _invalid_query("The listed users cannot be searched either because the users do not exist or "
                                 "you do not have permission to view the users.")
        readable = [repo for repo in readable if repo.owner.lower() in query.owners]
    return sorted(readable, key=lambda repo: repo.id)


@routes.get("/search/issues", resource="search")
def search_issues(request: Request) -> Response:
    text = request.arg("q")
    if not text or not text.strip():
        raise ApiError(422, "Validation Failed", [{"resource": "Search", "field": "q", "code": "missing"}])
    if len(text) > 256:
        raise _invalid_query("The search is longer than 256 characters.")
    query = parse(text)
    sort = request.arg("sort")
    ascending = request.arg("order", "desc") == "asc"
    found: list[tuple[RepoState, IssueView]] = []
    for repo in _repositories(request, query):
        if not repo.settings.has_issues and query.kind != "pr":
            continue
        by_id = label_by_id(request, repo)
        for view in all_issue_views(request, repo):
            names = {by_id[i].name.lower() for i in view.record.label_ids if i in by_id}
            if _matches(query, view, names):
                found.append((repo, view))

    def key(item: tuple[RepoState, IssueView]) -> tuple[float, int, int]:
        repo, view = item
        if sort == "updated":
            value = view.updated_at
        elif sort == "comments":
            value = float(comment_count(repo, view.number))
        else:
            value = view.created_at
        return value, repo.id, view.number

    found.sort(key=key, reverse=not ascending or sort is None)
    page = paginate(request, found[:MAX_RESULTS], max_per_page=100)
    items = [render_view(request, repo, view, search_score=1.0) for repo, view in page.items]
    return Response(200, {"total_count": len(found), "incomplete_results": False, "search_type": "lexical",
                          "items": items}, page.headers)
