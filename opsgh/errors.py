"""The error hierarchy and the exit codes it maps to.

Every failure opsgh reports on purpose is an `OpsghError` with a one-line `message` (what is
wrong) and a `hint` (how to fix it). The boundaries (`cli.py`, `action.py`) turn them into output
and `exit_code`; anything else is a bug and exits with `ExitCode.UNEXPECTED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (the README has the same table)."""

    OK = 0
    CHECK_FAILED = 1  # a check ran and found problems: drift, doctor findings
    USAGE = 2  # bad arguments, bad configuration
    GITHUB = 3  # GitHub refused or failed the request
    PRECONDITION = 4  # NO-GO, not mergeable, mergeability still computed: nothing was changed
    BACKPORT_CONFLICT = 5  # a back-port needs a human; the manual steps were printed
    PENDING = 6  # go/no-go PENDING: a required check still running, mergeability not computed yet
    UNEXPECTED = 70  # a bug in opsgh (EX_SOFTWARE): please report it
    INTERRUPTED = 130  # Ctrl-C


class OpsghError(Exception):
    """An error opsgh reports on purpose."""

    exit_code: ExitCode = ExitCode.UNEXPECTED
    default_hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


class UsageError(OpsghError):
    """Bad command-line arguments or input values."""

    exit_code = ExitCode.USAGE
    default_hint = "run the command with --help to see its arguments"


class ConfigError(UsageError):
    """The configuration file is invalid; names the key path and the line."""

    default_hint = "fix the file, then check it with `opsgh config validate`"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        source: str = ".github/opsgh.yml",
        key_path: str = "",
        line: int | None = None,
    ) -> None:
        self.source = source
        self.key_path = key_path
        self.line = line
        where = source
        if line is not None:
            where += f":{line}"
        prefix = f"{where}: " + (f"{key_path}: " if key_path else "")
        super().__init__(prefix + message, hint)
        self.reason = message


class ChecksFailed(OpsghError):
    """A check command ran to completion and found problems (drift, doctor findings)."""

    exit_code = ExitCode.CHECK_FAILED


class PreconditionFailed(OpsghError):
    """The operation refused to act: NO-GO, not mergeable, mergeability still computed. Nothing was changed."""

    exit_code = ExitCode.PRECONDITION


class BackportConflict(OpsghError):
    """A back-port could not be applied cleanly; carries the commands to finish by hand."""

    exit_code = ExitCode.BACKPORT_CONFLICT

    def __init__(self, message: str, manual_steps: Sequence[str], hint: str | None = None) -> None:
        self.manual_steps = tuple(manual_steps)
        steps = "\n".join(f"  {step}" for step in self.manual_steps)
        super().__init__(message, hint or f"finish the back-port by hand:\n{steps}")


class GitHubError(OpsghError):
    """GitHub refused or failed a request (gidgethub's HTTPException)."""

    exit_code = ExitCode.GITHUB
    default_hint = "see the message from GitHub above; re-run with --verbose to see the requests"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        documentation_url: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.request_id = request_id
        self.documentation_url = documentation_url
        super().__init__(message, hint)


class GitHubUnreachable(GitHubError):
    """No answer at all: DNS, connection refused, TLS, timeout."""

    default_hint = "check the network and GITHUB_API_URL; for GitHub Enterprise Server set GITHUB_API_URL"


class AmbiguousWrite(GitHubError):
    """A write failed in a way that leaves its outcome unknown (5xx or timeout on a POST).

    Never re-sent blindly: the caller reads back first (see `opsgh.ops.writes`).
    """

    default_hint = "GitHub may or may not have applied the change; re-run the command, it checks first"


class BadRequest(GitHubError):
    """A 4xx answer (gidgethub's BadRequest)."""


class Unauthorized(BadRequest):
    """401: the token is missing, expired or revoked."""

    default_hint = "set GITHUB_TOKEN to a valid token (or configure a GitHub App); `opsgh doctor` explains"


class Forbidden(BadRequest):
    """403 that is not a rate limit: the token lacks a permission."""

    default_hint = "the token lacks a permission for this; `opsgh doctor` lists what it may do"


class RateLimited(BadRequest):
    """Primary or secondary rate limit still exhausted after the allowed waits."""

    default_hint = "wait for the limit to reset or use a GitHub App token (higher limits)"

    def __init__(self, message: str, hint: str | None = None, *, kind: str = "primary",
                 reset_at: float | None = None, retry_after: float | None = None, **kw: object) -> None:
        self.kind = kind
        self.reset_at = reset_at
        self.retry_after = retry_after
        super().__init__(message, hint, **kw)  # type: ignore[arg-type]


class NotFound(BadRequest):
    """404. GitHub also answers 404 when the token may not see the resource."""

    default_hint = (
        "check the name; GitHub also answers 404 when the token may not see it (private repo, "
        "missing admin rights)"
    )


class NotAllowed(BadRequest):
    """405: e.g. a pull request that is not mergeable."""


class Conflict(BadRequest):
    """409: e.g. the head moved since it was evaluated (merge with sha=)."""

    default_hint = "something changed on GitHub in the meantime; re-run to evaluate the new state"


class ValidationFailed(BadRequest):
    """422 with GitHub's `errors` list (gidgethub's InvalidField)."""

    def __init__(self, message: str, hint: str | None = None, *,
                 errors: Sequence[object] = (), **kw: object) -> None:
        self.errors = tuple(errors)
        super().__init__(message, hint, **kw)  # type: ignore[arg-type]


class GitHubBroken(GitHubError):
    """5xx after the allowed retries (gidgethub's GitHubBroken)."""

    default_hint = "GitHub is having trouble; check https://www.githubstatus.com and re-run later"


class NotificationFailed(OpsghError):
    """A chat webhook (Slack) refused or failed the message; exit 3 like other remote-service failures."""

    exit_code = ExitCode.GITHUB
    default_hint = "check the webhook URL in the configured environment variable, then re-run"
