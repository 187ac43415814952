"""`SandboxApp`: the sandbox without its socket. State, git, faults, limits, log, and `handle()`.

`handle()` is the whole request pipeline, transport-agnostic: latency, authentication, routing, faults,
rate limits, the handler (under one lock), GitHub's headers, the log and the exchange observers. The
HTTP server (`server.py`) only moves bytes.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opsgh.clock import Clock, SystemClock
from opsgh.sandbox.auth import authenticate
from opsgh.sandbox.faults import RATE_LIMIT_DOCS, SECONDARY_MESSAGE, FaultRule, Faults, RateLimits
from opsgh.sandbox.gitstore import GitRepo, GitStore, RefConflict, Signature
from opsgh.sandbox.log import LogEntry, RequestLog
from opsgh.sandbox.routing import ApiError, Auth, Request, Response, Route, Router
from opsgh.sandbox.shapes import check_request, unread_refusal
from opsgh.sandbox.state import RepoState, SandboxState, User

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
# GitHub commits made by the server itself (web merges, API commits) as "GitHub <noreply@github.com>",
# which maps to the user web-flow.
WEB_FLOW = "web-flow"
WEB_FLOW_ID = 19864447
GHES_PREFIX = "/api/v3"
_REPOSITORY_BY_ID = re.compile(r"^/repositories/(?P<id>[0-9]+)(?P<rest>/.*)?$")
# (method, url, request_headers, request_body, status, response_headers, response_body)
ExchangeObserver = Callable[[str, str, Mapping[str, str], bytes | None, int, Mapping[str, str], bytes], None]
# (repo, full ref name, old sha or None, new sha or None, login of the pusher or None)
RefListener = Callable[[RepoState, str, str | None, str | None, str | None], None]


@dataclass
class Outcome:
    """What to send back: an answer, or nothing (`drop`: close the connection)."""

    status: int
    headers: dict[str, str]
    body: bytes
    drop: bool = False
    log: LogEntry | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class SandboxApp:
    def __init__(self, state_dir: Path | None = None, *, clock: Clock | None = None, latency_ms: float = 0.0,
                 log_path: Path | None = None, router: Router | None = None) -> None:
        self.persistent = state_dir is not None
        self.root = Path(state_dir) if state_dir is not None else Path(tempfile.mkdtemp(prefix="opsgh-sandbox-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.state = SandboxState.load(self.root) if self.persistent else SandboxState()
        self.git = GitStore(self.root / "git")
        self.clock: Clock = clock or SystemClock()
        self.latency_ms = latency_ms
        self.faults = Faults(self.clock)
        self.rate_limits = RateLimits(self.clock)
        self.log = RequestLog(log_path)
        if router is None:
            from opsgh.sandbox.routes import discover

            router = Router(discover())
        self.router = router
        self.lock = threading.RLock()
        self.observers: list[ExchangeObserver] = []
        self.ref_listeners: list[RefListener] = []
        self.errors: list[str] = []  # tracebacks of handler crashes (answered 500): sandbox bugs
        self.stopping = threading.Event()
        self._request_ids = itertools.count(1)
        self.base_url = ""  # set by the server once it listens

    # ------------------------------------------------------------------ helpers for routes

    def now(self) -> float:
        return self.clock.now()

    def signature(self, login: str | None = None, *, at: float | None = None) -> Signature:
        """A git signature at the sandbox time: `login`'s name and email (so the commit links to the
        account), or GitHub's own "GitHub <noreply@github.com>" (user web-flow) for server-made commits."""
        user = self.state.user(login) if login else None
        if user is None:
            user = self.state.user(WEB_FLOW)
            if user is None:
                user = User(WEB_FLOW, WEB_FLOW_ID, "User", name="GitHub", email="noreply@github.com",
                            created_at=self.now())
                self.state.users[WEB_FLOW] = user
        email = user.email or f"{user.login}@users.noreply.example.invalid"
        return Signature(user.name or user.login, email, int(at if at is not None else self.now()))

    def git_repo(self, repo: RepoState) -> GitRepo:
        return self.git.repo(repo.owner, repo.name)

    def persist(self) -> None:
        """Save the state when the sandbox has a state directory (after every change)."""
        if self.persistent:
            with self.lock:
                self.state.save(self.root)

    def move_ref(self, repo: RepoState, ref: str, new: str | None, expected_old: str | None,
                 actor: str | None = None) -> None:
        """Compare-and-swap a ref (None `new`: delete), then tell the ref listeners.

        Raises RefConflict when the ref moved in the meantime (the caller answers 409/422).
        """
        git = self.git_repo(repo)
        if new is None:
            git.delete_ref(ref, expected_old)
        else:
            git.update_ref(ref, new, expected_old)
        if ref.startswith("refs/heads/"):
            repo.pushed_at = self.now()
        self.ref_updated(repo, ref, expected_old, new, actor)

    def ref_updated(self, repo: RepoState, ref: str, old: str | None, new: str | None, actor: str | None) -> None:
        for listener in list(self.ref_listeners):
            listener(repo, ref, old, new, actor)

    def check_push(self, request: Request, repo: RepoState, ref: str, old: str | None, new: str | None) -> None:
        """Hold a REST ref update to protection and rulesets (what a git push is held to): 422."""
        from opsgh.sandbox.rules import GitHistory, refusals, rest_refusal

        policies = repo.push_policies(repo.role_of(request.auth.login), request.auth.login)
        found = refusals(policies, ref, old, new, GitHistory(str(self.git_repo(repo).path)))
        if found:
            raise ApiError(422, rest_refusal(ref, found))

    def next_request_id(self) -> str:
        number = next(self._request_ids)
        return f"{os.getpid() & 0xFFFF:04X}:{number & 0xFFFF:04X}:{number * 7919 & 0xFFFFFF:06X}:" \
               f"{number * 104729 & 0xFFFFFF:06X}:{int(self.clock.now()) & 0xFFFFFFFF:08X}"

    def pause(self, seconds: float) -> None:
        """Wait in real time (latency, delays), cut short when the sandbox stops."""
        if seconds > 0:
            self.stopping.wait(seconds)

    def close(self) -> None:
        self.stopping.set()
        self.persist()
        if not self.persistent:
            shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ the pipeline

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes, *,
               host: str = "", client: str = "127.0.0.1") -> Outcome:
        """Answer one REST request (`target`: path and query as sent)."""
        started = time.monotonic()
        method = method.upper()
        headers = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(target)
        raw_path = parts.path or "/"
        prefix = ""
        if raw_path == GHES_PREFIX or raw_path.startswith(GHES_PREFIX + "/"):
            prefix, raw_path = GHES_PREFIX, raw_path[len(GHES_PREFIX):] or "/"
        request_id = self.next_request_id()
        self.pause(self.latency_ms / 1000.0)
        request = Request(self, method, raw_path, parse_qs(parts.query, keep_blank_values=True), headers, body,
                          Auth(), request_id, prefix, host or self.base_url)
        fault: FaultRule | None = None
        rate_key, bucket_headers = f"ip:{client}", {}
        drop = False
        try:
            with self.lock:
                request.auth = authenticate(self.state, self.clock, headers)
            rate_key = request.rate_key = self.rate_key(request.auth, client)
            request.path = self._by_id(raw_path)
            matched = self.router.match(method, request.path)
            if matched is None:
                raise ApiError(404, "Not Found")
            request.route, request.params = matched
            self._check_route_auth(request.route, request.auth)
            fault = self.faults.take(method, raw_path)
            if fault is not None and fault.delay and not fault.landed:
                self.pause(fault.delay)
            if fault is not None and not fault.landed and (fault.drop or fault.status is not None):
                response, drop = self._fault_answer(fault, request_id)
            else:
                bucket_headers = self._count(request, rate_key)
                response = self._run(request)
                if fault is not None and fault.landed:
                    self.pause(fault.delay)  # the write is done; then the silence (a landed timeout)
                    response, drop = self._fault_answer(fault, request_id)
        except ApiError as error:
            response = error.response()
        if not bucket_headers:
            bucket_headers = self.rate_limits.peek(rate_key, request.auth.kind, self._resource(request)).headers()
        answer_headers = self._headers(request, response, bucket_headers)
        payload = b"" if method == "HEAD" else response.encoded()
        entry = LogEntry(
            time=self.clock.now(), method=method, path=raw_path, query=parts.query,
            status=None if drop else response.status, duration_ms=round((time.monotonic() - started) * 1000, 3),
            user=request.auth.login, token_kind=request.auth.kind, fault=fault.describe() if fault else None,
            request_id=request_id, operation=request.route.operation if request.route else None)
        self.log.record(entry)
        if not drop:
            self._observe(method, (host or self.base_url) + target, headers, body, response.status, answer_headers,
                          payload)
        return Outcome(response.status, answer_headers, payload, drop, entry)

    def _by_id(self, path: str) -> str:
        """`/repositories/{id}/...` (pagination links) -> `/repos/{owner}/{name}/...`, as GitHub serves both."""
        found = _REPOSITORY_BY_ID.match(path)
        if found is None:
            return path
        with self.lock:
            repo = self.state.repo_by_id(int(found["id"]))
        return f"/repos/{repo.full_name}{found['rest'] or ''}" if repo is not None else path

    def rate_key(self, auth: Auth, client: str) -> str:
        if auth.app is not None:
            return f"app:{auth.app.id}"
        if auth.token is not None:
            if auth.token.installation_id is not None:
                return f"installation:{auth.token.installation_id}"
            return f"token:{auth.token.value}"
        return f"ip:{client}"

    @staticmethod
    def _resource(request: Request) -> str:
        return request.route.resource if request.route is not None else "core"

    def _check_route_auth(self, route: Route, auth: Auth) -> None:
        if route.auth == "app":
            if auth.app is None:
                raise ApiError(401, "A JSON web token could not be decoded")
            return
        if auth.app is not None:
            raise ApiError(403, "Resource not accessible by integration")
        if route.auth == "required" and auth.token is None:
            raise ApiError(401, "Requires authentication")

    def _count(self, request: Request, rate_key: str) -> dict[str, str]:
        """Count the request against the limits; raise GitHub's 403/429 when over one."""
        resource = self._resource(request)
        if request.route is not None and not request.route.counted:
            return self.rate_limits.peek(rate_key, request.auth.kind, resource).headers()
        bucket, over = self.rate_limits.consume(rate_key, request.auth.kind, resource)
        if over:
            raise ApiError(403, self._primary_message(request), headers=bucket.headers(),
                           documentation_url=f"{RATE_LIMIT_DOCS}#about-primary-rate-limits")
        if request.route is not None:
            limit = self.rate_limits.secondary_check(rate_key, creates_content=request.route.creates_content,
                                                     points=resource == "core")
            if limit is not None:
                headers = bucket.headers()
                if limit.retry_after is not None:
                    headers["retry-after"] = str(int(limit.retry_after))
                raise ApiError(limit.status, SECONDARY_MESSAGE.replace("{request_id}", request.request_id),
                               headers=headers, documentation_url=f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits")
        return bucket.headers()

    @staticmethod
    def _primary_message(request: Request) -> str:
        auth = request.auth
        if auth.token is not None and auth.token.installation_id is not None:
            return f"API rate limit exceeded for installation ID {auth.token.installation_id}."
        if auth.user is not None:
            return f"API rate limit exceeded for user ID {auth.user.id}."
        if auth.app is not None:
            return f"API rate limit exceeded for app ID {auth.app.id}."
        return ("API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a "
                "higher rate limit. Check out the documentation for more details.)")

    def _run(self, request: Request) -> Response:
        """The handler under the global lock; ApiError -> GitHub's error, a crash -> 500 (and recorded)."""
        assert request.route is not None
        with self.lock:
            try:
                check_request(request)  # GitHub's refusal of the body, raised when the handler reads it
                result = request.route.handler(request)
                response = result if isinstance(result, Response) else Response(200, result)
                unread = unread_refusal(request) if response.status < 400 else None
                if unread is not None:
                    self.errors.append(unread)
            except ApiError as error:
                return error.response()
            except RefConflict as conflict:
                return ApiError(409, f"Reference update failed: {conflict}").response()
            except Exception:
                self.errors.append(traceback.format_exc())
                logger.exception("sandbox handler crashed: %s %s", request.method, request.path)
                return Response(500, {"message": "Server Error", "documentation_url": "https://docs.github.com/rest",
                                      "status": "500"})
            if request.method not in ("GET", "HEAD") and response.status < 400:
                self.persist()
            return response

    @staticmethod
    def _fault_answer(fault: FaultRule, request_id: str) -> tuple[Response, bool]:
        if fault.drop:
            return Response(0, None), True
        status = fault.status or 500
        body = fault.error_body(request_id)
        return Response(status, body, fault.answer_headers()), False

    def _headers(self, request: Request, response: Response, bucket_headers: Mapping[str, str]) -> dict[str, str]:
        headers: dict[str, str] = {
            "x-github-api-version-selected": API_VERSION,
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": request.request_id,
            **bucket_headers,
        }
        if response.body is not None:
            headers["content-type"] = response.content_type
        token = request.auth.token
        if token is not None and token.kind == "classic-pat":
            headers["x-oauth-scopes"] = ", ".join(token.scopes)
            headers["x-accepted-oauth-scopes"] = ""
        if token is not None and token.expires_at is not None and token.kind != "classic-pat":
            headers["github-authentication-token-expiration"] = time.strftime(
                "%Y-%m-%d %H:%M:%S UTC", time.gmtime(token.expires_at))
        headers.update({k.lower(): v for k, v in response.headers.items()})
        if response.status == 403 and token is not None and token.kind != "classic-pat":
            headers.setdefault("x-accepted-github-permissions", "")
        return headers

    def _observe(self, method: str, url: str, request_headers: Mapping[str, str], request_body: bytes,
                 status: int, response_headers: Mapping[str, str], response_body: bytes) -> None:
        shown = {k: ("***" if k == "authorization" else v) for k, v in request_headers.items()}
        for observer in list(self.observers):
            try:
                observer(method, url, shown, request_body or None, status, response_headers, response_body)
            except Exception:
                self.errors.append("exchange observer failed:\n" + traceback.format_exc())
