"""Composition helpers shared by the two roots (cli.py and action.py).

Reads only the environment mapping it is given, never os.environ, and imports the GitHub
layer lazily so that commands that need no GitHub stay fast and offline.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsgh.errors import ConfigError, GitHubError, OpsghError, UsageError

if TYPE_CHECKING:
    from opsgh.clock import Clock
    from opsgh.config import Config
    from opsgh.github.gateway import GitHubGateway
    from opsgh.github.probes import HttpxProbeClient
    from opsgh.ops.doctor import DoctorReport
    from opsgh.shell import SubprocessCommandRunner

REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
LOCAL_CONFIG = Path(".github") / "opsgh.yml"
DEFAULT_TIMEOUT = 30.0  # seconds to wait for each answer from GitHub


@dataclass(frozen=True)
class Settings:
    """Everything the environment and the global options say, validated once."""

    token: str | None
    token_source: str | None
    app_id: str | None
    app_private_key: str | None
    api_url: str
    graphql_url: str | None
    repo: str | None
    repo_source: str
    config_path: str | None
    in_actions: bool
    # The configuration's path on the default branch: the Action's `config` input, else .github/opsgh.yml.
    remote_config_path: str = LOCAL_CONFIG.as_posix()

    def __repr__(self) -> str:  # never show secrets
        return (f"Settings(repo={self.repo!r}, api_url={self.api_url!r}, token_source={self.token_source!r}, "
                f"app_id={self.app_id!r})")


def settings_from_env(environ: Mapping[str, str], *, repo: str | None = None,
                      config_path: str | None = None) -> Settings:
    token, token_source = None, None
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        if environ.get(name, "").strip():
            token, token_source = environ[name].strip(), name
            break
    app_id = environ.get("OPSGH_APP_ID", "").strip() or None
    key = environ.get("OPSGH_APP_PRIVATE_KEY") or None
    key_file = environ.get("OPSGH_APP_PRIVATE_KEY_FILE", "").strip()
    if key is None and key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read OPSGH_APP_PRIVATE_KEY_FILE {key_file}: {exc.strerror}",
                             "point OPSGH_APP_PRIVATE_KEY_FILE at the App's .pem private key") from None
    if app_id and key is None:
        raise UsageError("OPSGH_APP_ID is set but no private key",
                         "set OPSGH_APP_PRIVATE_KEY or OPSGH_APP_PRIVATE_KEY_FILE")
    if app_id and not app_id.isdigit():
        raise UsageError(f"OPSGH_APP_ID must be the App's numeric id, not {app_id!r}",
                         "find it in the App's settings page (App ID)")
    if app_id and key:
        token_source = "GitHub App"  # noqa: S105 - a label, not a secret

    repo_source = ""
    if repo:
        repo_source = "--repo"
    elif environ.get("GITHUB_REPOSITORY", "").strip():
        repo, repo_source = environ["GITHUB_REPOSITORY"].strip(), "GITHUB_REPOSITORY"
    else:
        repo = repo_from_git_remote()
        repo_source = "origin remote" if repo else ""
    if repo is not None and not REPO_RE.match(repo):
        raise UsageError(f"repository {repo!r} (from {repo_source}) is not OWNER/NAME",
                         "pass --repo OWNER/NAME, e.g. --repo acme/shop")
    return Settings(
        token=token,
        token_source=token_source,
        app_id=app_id,
        app_private_key=key if app_id else None,
        api_url=environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com",
        graphql_url=environ.get("GITHUB_GRAPHQL_URL", "").strip() or None,
        repo=repo,
        repo_source=repo_source,
        config_path=config_path,
        in_actions=environ.get("GITHUB_ACTIONS") == "true",
        remote_config_path=environ.get("INPUT_CONFIG", "").strip() or LOCAL_CONFIG.as_posix(),
    )


# https://host/OWNER/NAME(.git), ssh://git@host[:port]/OWNER/NAME(.git), git@host:OWNER/NAME(.git).
# A local path is not a GitHub repository and gives nothing.
_REMOTE_RE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?[^/]+/|[\w.-]+@[\w.-]+:)"
    r"([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


def repo_from_git_remote(cwd: str | None = None) -> str | None:
    """OWNER/NAME from the `origin` remote of the current checkout, if any."""
    try:
        out = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=cwd, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return repo_from_remote_url(out.stdout.strip()) if out.returncode == 0 else None


def repo_from_remote_url(url: str) -> str | None:
    match = _REMOTE_RE.match(url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def build_gateway(settings: Settings, *, max_attempts: int = 5, on_wait: Callable[[str], None] | None = None,
                  clock: Clock | None = None, timeout: float | None = None) -> GitHubGateway:
    """The gateway for `settings`; `clock` (default: the system's) paces every wait and retry, `timeout` is the
    seconds to wait for each answer (default 30)."""
    from opsgh.github.gateway import GitHubGateway

    if settings.token is None and settings.app_id is None:
        raise UsageError("no GitHub token: GITHUB_TOKEN and GH_TOKEN are unset",
                         "export GITHUB_TOKEN=<token>, or set OPSGH_APP_ID and OPSGH_APP_PRIVATE_KEY_FILE")
    return GitHubGateway.connect(
        token=settings.token,
        app_id=settings.app_id,
        private_key=settings.app_private_key,
        repo=settings.repo,
        api_url=settings.api_url,
        graphql_url=settings.graphql_url,
        max_attempts=max_attempts,
        on_wait=on_wait,
        clock=clock,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
    )


def load_effective_config(settings: Settings, gateway_factory: Callable[[], GitHubGateway] | None = None) -> Config:
    """--config, else the local file (not in GitHub Actions), else the default branch's file, else the
    defaults. In Actions a checkout may be a pull request's head: its file is never read there."""
    from opsgh.config import default_config, load_config_file

    if settings.config_path:
        return load_config_file(settings.config_path)
    if LOCAL_CONFIG.is_file() and not settings.in_actions:
        return load_config_file(LOCAL_CONFIG)
    if gateway_factory is None or settings.repo is None or (settings.token is None and settings.app_id is None):
        return default_config()
    return load_default_branch_config(gateway_factory(), settings.repo, settings.remote_config_path)


def load_default_branch_config(gateway: GitHubGateway, repo: str, path: str = LOCAL_CONFIG.as_posix()) -> Config:
    """The configuration file at `path` on the repository's default branch (never a PR head's, never a
    local checkout's: what runs in production is what was merged), or the defaults when there is none."""
    from opsgh.config import default_config, load_config

    default_branch = gateway.get_repository(repo).default_branch
    text = gateway.get_file_text(repo, path, default_branch)
    if text is None:
        return default_config()
    return load_config(text, source=f"{repo}@{default_branch}:{path}")


def doctor_report(settings: Settings,
                  gateway_factory: Callable[[], GitHubGateway] | None = None) -> DoctorReport:
    """Run `opsgh doctor`; `gateway_factory` lets the CLI share its gateway (and ledger)."""
    from opsgh.config import default_config
    from opsgh.github.auth import token_kind
    from opsgh.ops.doctor import DoctorInput, run_doctor

    gateway: GitHubGateway | None = None
    port_error: OpsghError | None = None
    if settings.token is not None or settings.app_id is not None:
        try:
            # Doctor is interactive: fail fast on a dead network instead of backing off for long.
            gateway = gateway_factory() if gateway_factory else build_gateway(settings, max_attempts=2)
        except OpsghError as err:
            port_error = err

    def built_gateway() -> GitHubGateway:
        assert gateway is not None
        return gateway

    # Read the configuration once: its branch names shape the checks, and the config check reports
    # how the same read went (reading it twice cost two more API calls).
    load_error: ConfigError | GitHubError | None = None
    try:
        config = load_effective_config(settings, built_gateway if gateway else None)
    except (ConfigError, GitHubError) as err:
        config, load_error = default_config(), err

    def load() -> Config:
        if load_error is not None:
            raise load_error
        return config
    kind = "app" if settings.app_id else (token_kind(settings.token, in_actions=settings.in_actions)
                                          if settings.token else "none")
    inp = DoctorInput(
        repo=settings.repo,
        repo_source=settings.repo_source,
        token_source=settings.token_source,
        token_kind=kind,
        api_url=settings.api_url,
        in_actions=settings.in_actions,
        staging_branch=config.branches.staging,
        production_branch=config.branches.production,
    )
    return run_doctor(inp, gateway, load, port_error=port_error)


def slack_notifier_from(config: Config, environ: Mapping[str, str]) -> Callable[[str], None] | None:
    """Post to the Slack incoming webhook whose URL is in the variable `notify.slack_webhook_env` names;
    None when it names none or the variable is empty."""
    variable = config.notify.slack_webhook_env
    if not variable or not environ.get(variable, "").strip():
        return None
    from opsgh.github.notify import slack_notifier

    return slack_notifier(environ[variable].strip(), source=f"${variable}")


def gate_network_clients(config: Config, clock: Clock) -> tuple[HttpxProbeClient | None,
                                                                 SubprocessCommandRunner | None]:
    """The HTTP client for the gate's probes and parity, and the runner for its command probes, each
    only when configured (the caller closes the client). The commands come from the configuration the
    caller read: the default branch's, never a pull request head's."""
    probe_client = runner = None
    if config.gate.probes or config.gate.parity is not None:
        from opsgh.github.probes import HttpxProbeClient

        probe_client = HttpxProbeClient(clock)
    if config.gate.commands:
        from opsgh.shell import SubprocessCommandRunner

        runner = SubprocessCommandRunner()
    return probe_client, runner
