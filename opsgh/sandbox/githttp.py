"""Git smart HTTP: clone, fetch and push at `/OWNER/NAME.git/...` through `git http-backend` (CGI).

Auth is GitHub's: HTTP Basic with the token as password (`x-access-token:<token>`), 401 with
`WWW-Authenticate: Basic` when a push (or any access to a private repository) comes without one;
pushing needs write access. Protected branches are enforced by the repository's pre-receive hook
(`prereceive.py`) with the policy the server computes for the pusher, so a refused push reads like
GitHub's: "remote: error: GH006: Protected branch update failed for refs/heads/prod.".

These exchanges are not REST: they are logged (kind "git") but not passed to the exchange observers.
Fault rules apply to them like to REST requests, on their path (`POST /acme/shop.git/git-receive-pack`):
an error status answered as plain text, a dropped connection, a delay, or a push that lands and then
loses its answer.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import unquote, urlsplit

import opsgh
from opsgh.sandbox.auth import authenticate
from opsgh.sandbox.faults import DEFAULT_MESSAGES, FaultRule
from opsgh.sandbox.gitstore import git_environment
from opsgh.sandbox.log import LogEntry
from opsgh.sandbox.prereceive import POLICY_ENV
from opsgh.sandbox.routing import ApiError, Auth, Request

if TYPE_CHECKING:
    from opsgh.sandbox.app import SandboxApp
    from opsgh.sandbox.server import SandboxRequestHandler

_GIT_PATH = re.compile(r"^/(?P<owner>[^/]+)/(?P<name>[^/]+?)(?:\.git)?/"
                       r"(?P<service>info/refs|git-upload-pack|git-receive-pack)$")
_PACKAGE_PARENT = str(Path(opsgh.__file__).resolve().parent.parent)
_REALM = {"www-authenticate": 'Basic realm="GitHub"'}


def is_git_request(target: str) -> bool:
    return _GIT_PATH.match(urlsplit(target).path) is not None


def serve(handler: SandboxRequestHandler, app: SandboxApp) -> None:
    """Answer one smart-HTTP request (info/refs, git-upload-pack, git-receive-pack)."""
    started = time.monotonic()
    parts = urlsplit(handler.path)
    found = _GIT_PATH.match(parts.path)
    assert found is not None
    owner, name, service = unquote(found["owner"]), unquote(found["name"]), found["service"]
    pushing = service == "git-receive-pack" or "service=git-receive-pack" in parts.query
    headers = {k.lower(): v for k, v in handler.headers.items()}
    request_id = app.next_request_id()
    auth = Auth()
    status = 200

    fault: FaultRule | None = None

    def log(code: int | None) -> None:
        app.log.record(LogEntry(time=app.clock.now(), method=handler.command, path=parts.path, query=parts.query,
                                status=code, duration_ms=round((time.monotonic() - started) * 1000, 3),
                                user=auth.login, token_kind=auth.kind,
                                fault=fault.describe() if fault is not None else None, request_id=request_id,
                                operation=f"{handler.command} git {service}", kind="git"))

    def misbehave(rule: FaultRule) -> None:
        """Answer as the fault rule says: no answer at all, or its status as plain text."""
        if rule.drop:
            handler.drop()
            log(None)
            return
        code = rule.status or 500
        handler.send_plain(code, f"{DEFAULT_MESSAGES.get(code, 'Error')}\n", rule.answer_headers())
        log(code)

    def refuse(code: int, text: str, extra: dict[str, str] | None = None) -> None:
        handler.read_body()
        handler.send_plain(code, text, extra)
        log(code)

    try:
        with app.lock:
            auth = authenticate(app.state, app.clock, headers)
    except ApiError:
        refuse(401, "Invalid username or token. Password authentication is not supported for Git operations.\n",
               _REALM)
        return
    repo = app.state.repo(owner, name)
    if repo is None or not app.git.exists(repo.owner, repo.name):
        if auth.token is None:
            refuse(401, "Authentication required.\n", _REALM)
        else:
            refuse(404, "Repository not found.\n")
        return
    if auth.token is None and (pushing or repo.private):
        refuse(401, "Authentication required.\n", _REALM)
        return
    request = Request(app, handler.command, parts.path, {}, headers, b"", auth, request_id)
    try:
        request.require(repo, "write" if pushing else "read", permission="contents")
    except ApiError as error:
        if error.status == 401:
            refuse(401, "Authentication required.\n", _REALM)
        elif error.status == 404:
            refuse(404, "Repository not found.\n")
        else:
            refuse(403, f"Permission to {repo.full_name}.git denied to {auth.login}.\n")
        return

    fault = app.faults.take(handler.command, parts.path)
    if fault is not None and not fault.landed:
        app.pause(fault.delay)
        if fault.drop or fault.status is not None:
            handler.read_body()
            misbehave(fault)
            return

    git_path = f"/{repo.owner}/{repo.name}.git/{service}"
    env = git_environment({
        "GIT_PROJECT_ROOT": str(app.git.root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": git_path,
        "QUERY_STRING": parts.query,
        "REQUEST_METHOD": handler.command,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "REMOTE_USER": auth.login or "",
        "REMOTE_ADDR": handler.client_address[0],
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
        "PYTHONPATH": _PACKAGE_PARENT,
        POLICY_ENV: json.dumps({ref: asdict(policy) for ref, policy in
                                repo.push_policies(request.role(repo), auth.login).items()}),
    })
    if "content-length" in headers:
        env["CONTENT_LENGTH"] = headers["content-length"]
    if "content-encoding" in headers:
        env["HTTP_CONTENT_ENCODING"] = headers["content-encoding"]
    if "git-protocol" in headers:
        env["GIT_PROTOCOL"] = headers["git-protocol"]

    receiving = pushing and handler.command == "POST"
    lock = app.lock if receiving else contextlib.nullcontext()
    with lock:
        git = app.git_repo(repo)
        before = git.refs() if receiving else {}
        landed = fault is not None and fault.landed
        status = _run_backend(handler, env, answer=not landed)
        if receiving:
            after = git.refs()
            for ref in sorted(set(before) | set(after)):
                if before.get(ref) != after.get(ref):
                    if ref.startswith("refs/heads/"):
                        repo.pushed_at = app.now()
                    app.ref_updated(repo, ref, before.get(ref), after.get(ref), auth.login)
            app.persist()
    if fault is not None and fault.landed:
        app.pause(fault.delay)  # done; then the silence, or the error instead of the answer
        misbehave(fault)
        return
    log(status)


def _run_backend(handler: SandboxRequestHandler, env: dict[str, str], *, answer: bool = True) -> int:
    """Run `git http-backend`, streaming the request body in and the answer out (chunked); with `answer`
    False the answer is read and thrown away (a fault answers instead)."""
    process = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
    assert stdin is not None
    assert stdout is not None
    assert stderr is not None

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            for chunk in handler.body_chunks():
                stdin.write(chunk)
        with contextlib.suppress(OSError):
            stdin.close()

    errors: list[bytes] = []
    writer = threading.Thread(target=feed, daemon=True)
    reader = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    writer.start()
    reader.start()
    reader_out = cast(io.BufferedReader, stdout)  # Popen's pipes are buffered readers: read1 streams
    status, reason, cgi_headers = 200, "OK", []
    while True:
        line = stdout.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        key, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
        if key.lower() == "status":
            code, _, reason = value.strip().partition(" ")
            status = int(code)
        else:
            cgi_headers.append((key.strip(), value.strip()))
    if answer:
        handler.send_response(status, reason or None)
        for key, value in cgi_headers:
            handler.send_header(key, value)
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
    while True:
        data = reader_out.read1(64 * 1024)
        if not data:
            break
        if answer:
            handler.write_chunk(data)
    if answer:
        handler.end_chunks()
    writer.join()
    process.wait()
    reader.join()
    return status
