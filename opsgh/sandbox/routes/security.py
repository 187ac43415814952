"""Security alerts: Dependabot alerts and code scanning alerts of a repository (read-only lists).

Seed them from Python (there is no REST way to create alerts)::

    from opsgh.sandbox.routes.security import add_code_scanning_alert, add_dependabot_alert, set_security_features

    add_dependabot_alert(sandbox, "acme", "shop", severity="critical", package="lodash", ecosystem="npm")
    add_code_scanning_alert(sandbox, "acme", "shop", severity="high", rule_id="js/sql-injection")
    set_security_features(sandbox, "acme", "shop", dependabot_alerts=False)   # then 403 like GitHub

What GitHub does and the sandbox mirrors:
- Dependabot alerts: 403 "Dependabot alerts are disabled for this repository." when the feature is
  off (on by default in the sandbox). Filters `state`, `severity`, `ecosystem`, `package`,
  `manifest`, `scope` (comma lists where GitHub takes them), `sort` (created, updated,
  epss_percentage) and `direction`. Pagination is by cursor only: `per_page` (max 100), `after` /
  `before` from the `Link` header (rel next/prev); `page` answers 400 "Pagination using the `page`
  parameter is not supported.".
- Code scanning alerts: 404 "no analysis found" until the repository has an analysis (any seeded
  alert, or `set_security_features(code_scanning=True)`). Filters `state`, `severity` (the rule's
  security severity or its severity), `tool_name`, `tool_guid`, `ref` (default: the default branch),
  `sort` (created, updated, number), `direction`; page-based pagination.
- Reading alerts needs write access (404 for no read access, 403 otherwise); classic PATs need the
  `repo` or `security_events` scope (`public_repo` for public repositories); Apps and fine-grained
  tokens `vulnerability_alerts` (Dependabot) or `security_events` (code scanning) read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from opsgh.sandbox import render
from opsgh.sandbox.routing import ApiError, Request, Response, RouteTable, link_path, not_found, paginate
from opsgh.sandbox.state import INTEGRATION_KINDS, Collection, RepoState, role_at_least

if TYPE_CHECKING:
    from opsgh.sandbox.api import Sandbox

routes = RouteTable()

DEPENDABOT_DOCS = "https://docs.github.com/rest/dependabot/alerts#list-dependabot-alerts-for-a-repository"
CODE_SCANNING_DOCS = "https://docs.github.com/rest/code-scanning/code-scanning#list-code-scanning-alerts-for-a-repository"
SEVERITIES = ("low", "medium", "high", "critical")
CVSS_FOR_SEVERITY = {"low": 3.1, "medium": 5.3, "high": 7.5, "critical": 9.8}
RULE_SEVERITY_FOR = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}
MAX_PER_PAGE = 100


# ---------------------------------------------------------------------------------------------------
# State


@dataclass
class SecurityFeatures:
    dependabot_alerts: bool = True
    code_scanning: bool | None = None  # None: set up once an analysis (a seeded alert) exists


@dataclass
class DependabotAlert:
    number: int
    severity: str
    package: str
    ecosystem: str
    manifest_path: str
    state: str = "open"  # auto_dismissed | dismissed | fixed | open
    scope: str | None = "runtime"  # development | runtime
    relationship: str | None = "direct"
    vulnerable_version_range: str = "< 1.0.0"
    first_patched_version: str | None = "1.0.0"
    ghsa_id: str = ""
    cve_id: str | None = None
    summary: str = ""
    epss_percentage: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    dismissed_at: float | None = None
    dismissed_reason: str | None = None
    dismissed_comment: str | None = None
    fixed_at: float | None = None
    auto_dismissed_at: float | None = None


@dataclass
class CodeScanningAlert:
    number: int
    security_severity: str | None  # low | medium | high | critical, None for non-security rules
    rule_severity: str  # none | note | warning | error
    rule_id: str
    rule_description: str
    tool: str = "CodeQL"
    tool_guid: str | None = None
    tool_version: str | None = "2.20.0"
    state: str = "open"  # open | dismissed | fixed
    ref: str = ""  # full ref; "" = the default branch
    path: str = "src/app.py"
    start_line: int = 1
    commit_sha: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    fixed_at: float | None = None
    dismissed_at: float | None = None
    dismissed_reason: str | None = None
    tags: list[str] = field(default_factory=lambda: ["security"])


FEATURES: Collection[str, SecurityFeatures] = Collection("security_features", SecurityFeatures, key=str)
DEPENDABOT_ALERTS: Collection[int, DependabotAlert] = Collection("dependabot_alerts", DependabotAlert, key=int)
CODE_SCANNING_ALERTS: Collection[int, CodeScanningAlert] = Collection("code_scanning_alerts", CodeScanningAlert,
                                                                        key=int)


def features(repo: RepoState) -> SecurityFeatures:
    return repo.items(FEATURES).setdefault("repo", SecurityFeatures())


# ---------------------------------------------------------------------------------------------------
# Seeding (Python API)


def set_security_features(sandbox: Sandbox, owner: str, name: str, *, dependabot_alerts: bool | None = None,
                          code_scanning: bool | None = None) -> None:
    """Turn Dependabot alerts / code scanning on or off for owner/name."""
    with sandbox.app.lock:
        settings = features(sandbox.repo(owner, name))
        if dependabot_alerts is not None:
            settings.dependabot_alerts = dependabot_alerts
        if code_scanning is not None:
            settings.code_scanning = code_scanning
        sandbox.app.persist()


def add_dependabot_alert(sandbox: Sandbox, owner: str, name: str, *, severity: str = "high",
                         package: str = "lodash", ecosystem: str = "npm", manifest_path: str = "package-lock.json",
                         state: str = "open", scope: str | None = "runtime", summary: str | None = None,
                         vulnerable_version_range: str = "< 4.17.21", first_patched_version: str | None = "4.17.21",
                         cve_id: str | None = None, epss_percentage: float | None = None,
                         created_at: float | None = None) -> int:
    """A Dependabot alert on owner/name (created now unless `created_at`); returns its number."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
    if state not in ("auto_dismissed", "dismissed", "fixed", "open"):
        raise ValueError(f"unknown Dependabot alert state {state!r}")
    with sandbox.app.lock:
        repo = sandbox.repo(owner, name)
        alerts = repo.items(DEPENDABOT_ALERTS)
        number = max(alerts, default=0) + 1
        when = created_at if created_at is not None else sandbox.app.now()
        alert = DependabotAlert(
            number, severity, package, ecosystem, manifest_path, state=state, scope=scope,
            vulnerable_version_range=vulnerable_version_range, first_patched_version=first_patched_version,
            ghsa_id=_ghsa(repo.id, number), cve_id=cve_id,
            summary=summary or f"{severity.title()} severity vulnerability in {package}",
            epss_percentage=epss_percentage, created_at=when, updated_at=when,
            dismissed_at=when if state == "dismissed" else None,
            dismissed_reason="tolerable_risk" if state == "dismissed" else None,
            fixed_at=when if state == "fixed" else None,
            auto_dismissed_at=when if state == "auto_dismissed" else None)
        alerts[number] = alert
        sandbox.app.persist()
        return number


def add_code_scanning_alert(sandbox: Sandbox, owner: str, name: str, *, severity: str | None = "high",
                            rule_severity: str | None = None, rule_id: str = "py/sql-injection",
                            description: str | None = None, tool: str = "CodeQL", state: str = "open",
                            ref: str | None = None, path: str = "src/app.py", line: int = 1,
                            created_at: float | None = None) -> int:
    """A code scanning alert on owner/name (`severity`: the security severity, None for a quality rule;
    `ref`: default branch unless given); also marks code scanning as set up. Returns its number."""
    if severity is not None and severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES} or None, not {severity!r}")
    if state not in ("open", "dismissed", "fixed"):
        raise ValueError(f"unknown code scanning alert state {state!r}")
    with sandbox.app.lock:
        repo = sandbox.repo(owner, name)
        alerts = repo.items(CODE_SCANNING_ALERTS)
        number = max(alerts, default=0) + 1
        when = created_at if created_at is not None else sandbox.app.now()
        full_ref = _full_ref(ref) if ref else f"refs/heads/{repo.default_branch}"
        sha = sandbox.app.git_repo(repo).resolve(full_ref) or ""
        alerts[number] = CodeScanningAlert(
            number, severity, rule_severity or (RULE_SEVERITY_FOR[severity] if severity else "warning"), rule_id,
            description or f"Finding of {rule_id}", tool=tool, state=state, ref=full_ref, path=path,
            start_line=line, commit_sha=sha, created_at=when, updated_at=when,
            fixed_at=when if state == "fixed" else None, dismissed_at=when if state == "dismissed" else None,
            dismissed_reason="won't fix" if state == "dismissed" else None,
            tags=["security"] if severity else ["maintainability"])
        settings = features(repo)
        if settings.code_scanning is None:
            settings.code_scanning = True
        sandbox.app.persist()
        return number


def _ghsa(repo_id: int, number: int) -> str:
    alphabet = "23456789cfghjmpqrvwx"
    seed = repo_id * 7919 + number * 104729
    parts = []
    for _ in range(3):
        chunk = ""
        for _ in range(4):
            chunk += alphabet[seed % len(alphabet)]
            seed = seed // len(alphabet) + 31 * (len(chunk) + 1)
        parts.append(chunk)
    return "GHSA-" + "-".join(parts)


def _full_ref(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


# ---------------------------------------------------------------------------------------------------
# Access


def _require_alert_access(request: Request, permission: str, feature: str) -> RepoState:
    """The repository, if the caller may read its alerts (write access; `permission` for integrations)."""
    repo = request.app.state.repo(request.params.get("owner", ""), request.params.get("repo", ""))
    if repo is None or not request.can_read(repo):
        raise not_found()
    token = request.auth.token
    if token is None:
        raise ApiError(401, "Requires authentication")
    role = request.role(repo)
    if role is None:
        raise not_found()
    if token.kind in INTEGRATION_KINDS or token.kind == "fine-grained":
        if token.permissions.get(permission) not in ("read", "write"):
            message = ("Resource not accessible by integration" if token.is_integration
                       else "Resource not accessible by personal access token")
            raise ApiError(403, message, headers={"x-accepted-github-permissions": f"{permission}=read"})
        if token.is_integration:
            return repo
    elif token.kind == "classic-pat":
        scopes = {"repo", "security_events"} | (set() if repo.private else {"public_repo"})
        if not scopes & set(token.scopes):
            raise ApiError(404, "Not Found", headers={"x-accepted-oauth-scopes": "repo, security_events"})
    if not role_at_least(role, "write"):
        raise ApiError(403, f"You are not authorized to read {feature} alerts.")
    return repo


def _choice(request: Request, name: str) -> set[str] | None:
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


# ---------------------------------------------------------------------------------------------------
# Dependabot


def _dependabot_json(request: Request, repo: RepoState, alert: DependabotAlert) -> dict[str, Any]:
    package = {"ecosystem": alert.ecosystem, "name": alert.package}
    vulnerability = {
        "package": package,
        "severity": alert.severity,
        "vulnerable_version_range": alert.vulnerable_version_range,
        "first_patched_version": ({"identifier": alert.first_patched_version}
                                  if alert.first_patched_version is not None else None),
    }
    score = CVSS_FOR_SEVERITY[alert.severity]
    identifiers = [{"type": "GHSA", "value": alert.ghsa_id}]
    if alert.cve_id:
        identifiers.append({"type": "CVE", "value": alert.cve_id})
    base = request.api_url(f"/repos/{repo.full_name}/dependabot/alerts/{alert.number}")
    return {
        "number": alert.number,
        "state": alert.state,
        "dependency": {"package": package, "manifest_path": alert.manifest_path, "scope": alert.scope,
                       "relationship": alert.relationship},
        "security_advisory": {
            "ghsa_id": alert.ghsa_id,
            "cve_id": alert.cve_id,
            "summary": alert.summary,
            "description": f"{alert.summary}.\n\nUpgrade {alert.package} to {alert.first_patched_version}."
                           if alert.first_patched_version else alert.summary,
            "vulnerabilities": [vulnerability],
            "severity": alert.severity,
            "cvss": {"vector_string": None, "score": score},
            "cvss_severities": {"cvss_v3": {"vector_string": None, "score": score}, "cvss_v4": None},
            "epss": ({"percentage": alert.epss_percentage, "percentile": alert.epss_percentage}
                     if alert.epss_percentage is not None else None),
            "cwes": [],
            "identifiers": identifiers,
            "references": [{"url": f"https://github.com/advisories/{alert.ghsa_id}"}],
            "published_at": render.iso(alert.created_at),
            "updated_at": render.iso(alert.updated_at),
            "withdrawn_at": None,
            "classification": "general",
        },
        "security_vulnerability": vulnerability,
        "url": base,
        "html_url": request.html_url(f"/{repo.full_name}/security/dependabot/{alert.number}"),
        "created_at": render.iso(alert.created_at),
        "updated_at": render.iso(alert.updated_at),
        "dismissed_at": render.iso(alert.dismissed_at) if alert.dismissed_at is not None else None,
        "dismissed_by": None,
        "dismissed_reason": alert.dismissed_reason,
        "dismissed_comment": alert.dismissed_comment,
        "fixed_at": render.iso(alert.fixed_at) if alert.fixed_at is not None else None,
        "auto_dismissed_at": render.iso(alert.auto_dismissed_at) if alert.auto_dismissed_at is not None else None,
        "assignees": [],
    }


def _cursor(key: tuple[float, int]) -> str:
    return base64.b64encode(b"cursor:v2:" + json.dumps(list(key)).encode()).decode()


def _uncursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True)
        value, number = json.loads(raw.removeprefix(b"cursor:v2:"))
        return float(value), int(number)
    except (ValueError, TypeError):
        raise ApiError(400, "The cursor provided is invalid.", documentation_url=DEPENDABOT_DOCS) from None


def cursor_page(request: Request, items: Sequence[Any], key: Callable[[Any], tuple[float, int]], *,
                descending: bool) -> Response:
    """One page of `items` (already sorted) by GitHub's cursors: `after`/`before`, Link rel next/prev."""
    per_page = request.int_arg("per_page", 30, minimum=1, maximum=MAX_PER_PAGE)
    after, before = request.arg("after"), request.arg("before")

    def later(a: tuple[float, int], b: tuple[float, int]) -> bool:  # a comes after b in the order
        return a < b if descending else a > b

    if after:
        mark = _uncursor(after)
        chosen = [i for i in items if later(key(i), mark)][:per_page]
    elif before:
        mark = _uncursor(before)
        chosen = [i for i in items if later(mark, key(i))][-per_page:]
    else:
        chosen = list(items[:per_page])
    links = []
    base = request.api_url(link_path(request))
    others = [(k, v) for k, values in request.query.items() if k not in ("after", "before") for v in values]
    if chosen and key(items[-1]) != key(chosen[-1]):
        links.append(f'<{base}?{urlencode([*others, ("after", _cursor(key(chosen[-1])))])}>; rel="next"')
    if chosen and key(items[0]) != key(chosen[0]):
        links.append(f'<{base}?{urlencode([*others, ("before", _cursor(key(chosen[0])))])}>; rel="prev"')
    return Response(200, chosen, {"link": ", ".join(links)} if links else {})


@routes.get("/repos/{owner}/{repo}/dependabot/alerts")
def list_dependabot_alerts(request: Request) -> Response:
    repo = _require_alert_access(request, "vulnerability_alerts", "Dependabot")
    if not features(repo).dependabot_alerts:
        raise ApiError(403, "Dependabot alerts are disabled for this repository.", documentation_url=DEPENDABOT_DOCS)
    for unsupported in ("page", "first", "last"):
        if request.arg(unsupported) is not None:
            raise ApiError(400, f"Pagination using the `{unsupported}` parameter is not supported.",
                           documentation_url=DEPENDABOT_DOCS)
    alerts = list(repo.items(DEPENDABOT_ALERTS).values())
    for name, attribute in (("state", "state"), ("severity", "severity"), ("ecosystem", "ecosystem"),
                            ("package", "package"), ("manifest", "manifest_path"), ("scope", "scope")):
        wanted = _choice(request, name)
        if wanted is not None:
            alerts = [a for a in alerts if getattr(a, attribute) in wanted]
    sort = request.arg("sort") or "created"
    descending = (request.arg("direction") or "desc") != "asc"

    def key(alert: DependabotAlert) -> tuple[float, int]:
        value = {"updated": alert.updated_at, "epss_percentage": alert.epss_percentage or 0.0}.get(
            sort, alert.created_at)
        return float(value), alert.number

    alerts.sort(key=key, reverse=descending)
    page = cursor_page(request, alerts, key, descending=descending)
    page.body = [_dependabot_json(request, repo, a) for a in page.body]
    return page


# ---------------------------------------------------------------------------------------------------
# Code scanning


def _code_scanning_json(request: Request, repo: RepoState, alert: CodeScanningAlert) -> dict[str, Any]:
    base = request.api_url(f"/repos/{repo.full_name}/code-scanning/alerts/{alert.number}")
    analysis_key = ".github/workflows/codeql.yml:analyze"
    return {
        "number": alert.number,
        "created_at": render.iso(alert.created_at),
        "updated_at": render.iso(alert.updated_at),
        "url": base,
        "html_url": request.html_url(f"/{repo.full_name}/security/code-scanning/{alert.number}"),
        "instances_url": f"{base}/instances",
        "state": alert.state,
        "fixed_at": render.iso(alert.fixed_at) if alert.fixed_at is not None else None,
        "dismissed_by": None,
        "dismissed_at": render.iso(alert.dismissed_at) if alert.dismissed_at is not None else None,
        "dismissed_reason": alert.dismissed_reason,
        "dismissed_comment": None,
        "rule": {
            "id": alert.rule_id,
            "severity": alert.rule_severity,
            "description": alert.rule_description,
            "name": alert.rule_id,
            "tags": list(alert.tags),
            "security_severity_level": alert.security_severity,
        },
        "tool": {"name": alert.tool, "guid": alert.tool_guid, "version": alert.tool_version},
        "most_recent_instance": {
            "ref": alert.ref or f"refs/heads/{repo.default_branch}",
            "analysis_key": analysis_key,
            "environment": "{}",
            "category": analysis_key,
            "state": alert.state,
            "commit_sha": alert.commit_sha,
            "message": {"text": alert.rule_description},
            "location": {"path": alert.path, "start_line": alert.start_line, "end_line": alert.start_line,
                         "start_column": 1, "end_column": 1},
            "classifications": [],
        },
        "assignees": [],
    }


@routes.get("/repos/{owner}/{repo}/code-scanning/alerts")
def list_code_scanning_alerts(request: Request) -> Response:
    repo = _require_alert_access(request, "security_events", "code scanning")
    if not features(repo).code_scanning:
        raise ApiError(404, "no analysis found", documentation_url=CODE_SCANNING_DOCS)
    ref = _full_ref(request.arg("ref") or repo.default_branch)
    alerts = [a for a in repo.items(CODE_SCANNING_ALERTS).values()
              if (a.ref or f"refs/heads/{repo.default_branch}") == ref]
    state = request.arg("state")
    if state:
        alerts = [a for a in alerts if a.state == state]
    severities = _choice(request, "severity")
    if severities is not None:
        alerts = [a for a in alerts if a.security_severity in severities or a.rule_severity in severities]
    tool_name, tool_guid = request.arg("tool_name"), request.arg("tool_guid")
    if tool_name:
        alerts = [a for a in alerts if a.tool == tool_name]
    if tool_guid:
        alerts = [a for a in alerts if a.tool_guid == tool_guid]
    sort = request.arg("sort") or "created"
    descending = (request.arg("direction") or "desc") != "asc"
    alerts.sort(key=lambda a: ({"updated": a.updated_at, "number": float(a.number)}.get(sort, a.created_at),
                               a.number), reverse=descending)
    return paginate(request, alerts, max_per_page=MAX_PER_PAGE).response(
        lambda alert: _code_scanning_json(request, repo, alert))
