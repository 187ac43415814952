"""Local git, through the git command line (subprocess).

`work_tree_root` / `init_work_tree` find or make the work tree `opsgh init` writes into.

For back-ports: fetch what is needed, cherry-pick with `-x`, push with a lease.

`GitCheckout` implements `opsgh.ports_hotfix.LocalGit` with the git command line (subprocess):

- by default in a scratch repository (a temporary `git init`) that fetches only what the back-port
  needs: the picked commits with a few parents (`--depth`), the target branch back to the hotfix's
  time (`--shallow-since`), so it costs the same on a repository of any size;
- or in an existing clone (`directory=`), shallow or not (e.g. the Action's `actions/checkout` with
  depth 1), fetching what it lacks into refs under `refs/opsgh/` and working in a linked worktree, so
  the clone's own branch, index and files are never touched.

The token travels in an `http.extraHeader` set through `GIT_CONFIG_*` variables (not on the command
line, not in a URL, not in any file); credential helpers and prompts are off. Commits are dated with
the caller's clock and committed as the given identity; cherry-picks keep their authors.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from opsgh.clock import Clock
from opsgh.errors import GitHubError, UsageError
from opsgh.ports_hotfix import LocalCommit, PickResult

DEFAULT_IDENTITY = ("opsgh", "opsgh@users.noreply.github.com")
# Who commits a back-port made in GitHub Actions: GitHub's Actions bot (its noreply address).
BOT_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
_FIELD = "\x1f"
_RECORD = "\x1e"
_LOG_FORMAT = _FIELD.join(("%H", "%P", "%T", "%an", "%ae", "%at", "%B")) + _RECORD
_REF_SAFE = re.compile(r"[^A-Za-z0-9._/-]")
# A push that failed this way may or may not have reached the remote (GitHub or the network failed).
_TRANSIENT = re.compile(r"HTTP 5\d\d|hung up|empty reply|reset by peer|timed out|recv failure|early eof",
                        re.IGNORECASE)
_FOREIGN_GIT_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                          "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CONFIG",
                          "GIT_AUTHOR_", "GIT_COMMITTER_", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "GIT_ASKPASS")


class GitCommandFailed(GitHubError):
    """A git command against the remote repository failed (fetch, push: auth, network, refused)."""

    default_hint = "check that the token may read and push to the repository (contents: write)"


def _run(args: Sequence[str], *, cwd: Path, env: Mapping[str, str], input: str | None = None,
         ok: Sequence[int] = (0,)) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=dict(env), input=input, capture_output=True, text=True,
                              check=False, timeout=600)
    except FileNotFoundError:
        raise UsageError("git is not installed", "install git (2.31 or newer) and re-run") from None
    if done.returncode not in ok:
        raise _failure(args, done)
    return done


def _failure(args: Sequence[str], done: subprocess.CompletedProcess[str]) -> GitHubError:
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    fatal = next((line for line in lines if line.startswith(("fatal:", "error:", "remote: error"))),
                 lines[-1] if lines else f"exit {done.returncode}")
    return GitCommandFailed(f"git {args[0]} failed: {fatal}", status=None, method="git", path=args[0])


def default_identity(cwd: str | None = None) -> tuple[str, str]:
    """The committer: git's configured user where this runs, else opsgh's own."""
    found: list[str] = []
    for key in ("user.name", "user.email"):
        try:
            done = subprocess.run(["git", "config", "--get", key], cwd=cwd, capture_output=True, text=True,
                                  check=False, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return DEFAULT_IDENTITY
        found.append(done.stdout.strip() if done.returncode == 0 else "")
    return (found[0], found[1]) if all(found) else DEFAULT_IDENTITY


def work_tree_root(start: str | Path) -> Path:
    """The top directory of the git work tree that holds `start` (git's own answer, not a guess).

    Raises UsageError when `start` is not in a work tree (no repository, a bare one, inside `.git`)
    or git is missing.
    """
    where = Path(start)
    if not where.is_dir():
        raise UsageError(f"{where} is not a directory", "pass the directory of a clone of the repository")
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=where, capture_output=True, text=True,
                              check=False, timeout=30)
    except FileNotFoundError:
        raise UsageError("git is not installed", "install git and re-run") from None
    top = done.stdout.strip()
    if done.returncode != 0 or not top:
        raise UsageError(f"{where.resolve()} is not inside a git work tree",
                         "run this in a clone of the repository (or `git init` a new one first)")
    return Path(top)


def init_work_tree(path: str | Path) -> Path:
    """`git init` a new repository at `path` (created if missing); returns its top directory."""
    where = Path(path)
    where.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["git", "init", "--quiet", str(where)], capture_output=True, text=True, check=True, timeout=30)
    except FileNotFoundError:
        raise UsageError("git is not installed", "install git and re-run") from None
    except subprocess.CalledProcessError as exc:
        raise UsageError(f"git init {where} failed: {(exc.stderr or '').strip()}",
                         "check that the directory is writable") from None
    return work_tree_root(where)


class GitCheckout:
    """A local repository for one back-port run (see the module docstring). Use as a context manager."""

    def __init__(self, remote_url: str, token: Callable[[], str | None], clock: Clock, *,
                 identity: tuple[str, str] = DEFAULT_IDENTITY, directory: str | Path | None = None,
                 base_env: Mapping[str, str] | None = None) -> None:
        self.remote_url = remote_url
        self._token = token
        self.clock = clock
        self.identity = identity
        self._base_env = dict(base_env or {})
        self._scratch: Path | None = None
        self._worktree: Path | None = None
        if directory is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="opsgh-backport-"))
            self.repo = self._scratch
            _run(["init", "--quiet"], cwd=self.repo, env=self._env())
            self.existing = False
        else:
            self.repo = Path(directory).resolve()
            done = _run(["rev-parse", "--show-toplevel"], cwd=self.repo, env=self._env(), ok=(0, 128))
            if done.returncode != 0:
                raise UsageError(f"{self.repo} is not a git checkout", "pass the directory of a clone of the "
                                 "repository, or leave --checkout out to work in a scratch repository")
            self.existing = True
        self.shallow = self._git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"

    # ------------------------------------------------------------------ plumbing

    def _env(self) -> dict[str, str]:
        # Keep the proxy and TLS settings (GIT_SSL_*, a GHES's private CA); drop what would point git
        # elsewhere or speak for someone else.
        env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN_GIT_VARIABLES)}
        env.update(self._base_env)
        name, email = self.identity
        stamp = f"@{int(self.clock.now())} +0000"
        env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
                    "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": stamp,
                    "LC_ALL": "C"})
        settings = [("credential.helper", ""), ("user.name", name), ("user.email", email),
                    ("protocol.version", "2"), ("advice.detachedHead", "false"), ("core.hooksPath", "/dev/null"),
                    ("merge.renames", "true"), ("commit.gpgSign", "false"), ("gc.auto", "0")]
        token = self._token()
        if token:
            secret = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            settings.append(("http.extraHeader", f"Authorization: Basic {secret}"))
        env["GIT_CONFIG_COUNT"] = str(len(settings))
        for index, (key, value) in enumerate(settings):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env

    def _git(self, *args: str, ok: Sequence[int] = (0,), input: str | None = None,
             where: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _run(args, cwd=where or self.repo, env=self._env(), input=input, ok=ok)

    @property
    def _work(self) -> Path:
        return self._worktree or self.repo

    def close(self) -> None:
        """Remove the scratch repository, or the worktree and the refs this run added to a clone."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            return
        if self._worktree is not None:
            with contextlib.suppress(GitHubError):
                self._git("worktree", "remove", "--force", str(self._worktree))
            shutil.rmtree(self._worktree, ignore_errors=True)
            self._worktree = None
        refs = self._git("for-each-ref", "--format=%(refname)", "refs/opsgh/").stdout.split()
        if refs:
            self._git("update-ref", "--stdin", input="".join(f"delete {ref}\n" for ref in refs))

    def __enter__(self) -> GitCheckout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ fetching

    @staticmethod
    def _local_ref(revision: str) -> str:
        name = revision.removeprefix("refs/heads/")
        return "refs/opsgh/" + ("commits/" if "/" not in revision else "heads/") + _REF_SAFE.sub("-", name)

    def fetch(self, revisions: Sequence[str], *, depth: int | None = None) -> None:
        specs = [f"+{revision}:{self._local_ref(revision)}" for revision in revisions]
        # A depth on a complete clone would make it shallow: only a scratch or shallow clone takes one.
        options = [f"--depth={depth}"] if depth is not None and (self.shallow or not self.existing) else []
        if options and self.shallow:
            options.append("--update-shallow")
        self._git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", *options, self.remote_url, *specs)
        self.shallow = self.shallow or bool(options)

    def fetch_since(self, branch: str, since: int) -> str:
        spec = f"+refs/heads/{branch}:{self._local_ref('refs/heads/' + branch)}"
        if self.existing and not self.shallow:
            self._git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", self.remote_url, spec)
        else:
            done = self._git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", f"--shallow-since={since}",
                             self.remote_url, spec, ok=(0, 1, 128))
            if done.returncode != 0:
                # Nothing that recent on the branch (git says "no commits selected for shallow requests",
                # or "error processing shallow info"): its tip is all there is to compare with. A real
                # failure (auth, no such branch) fails this fetch too.
                self._git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=1", self.remote_url,
                          spec)
            self.shallow = True
        return self._git("rev-parse", self._local_ref("refs/heads/" + branch)).stdout.strip()

    def remote_tips(self, branches: Sequence[str]) -> dict[str, str]:
        wanted = {f"refs/heads/{branch}": branch for branch in branches}
        out = self._git("ls-remote", "--heads", self.remote_url, *wanted).stdout
        found: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref in wanted:
                found[wanted[ref]] = sha
        return found

    # ------------------------------------------------------------------ reading

    def _log(self, *args: str) -> list[LocalCommit]:
        out = self._git("log", f"--format={_LOG_FORMAT}", *args).stdout
        commits = []
        for record in out.split(_RECORD):
            record = record.lstrip("\n")
            if not record:
                continue
            sha, parents, tree, name, email, date, message = record.split(_FIELD, 6)
            commits.append(LocalCommit(sha, tuple(parents.split()), tree, name, email, int(date), message))
        return commits

    def commit(self, sha: str) -> LocalCommit:
        return self._log("-1", "--no-walk", sha)[0]

    def first_parents(self, sha: str, count: int) -> list[LocalCommit]:
        return self._log("--first-parent", f"--max-count={count}", sha)

    def history(self, tip: str, since: int) -> list[LocalCommit]:
        return self._log(f"--since={since}", tip)

    def only_in(self, tip: str, base: str, limit: int) -> list[LocalCommit]:
        return self._log(f"--max-count={limit}", tip, f"^{base}")

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._git("merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1, 128)).returncode == 0

    def _patch_id(self, diff: str) -> str | None:
        out = self._git("patch-id", "--stable", input=diff).stdout.split()
        return out[0] if out else None

    def equivalent(self, candidates: Sequence[tuple[str, int]], tip: str, since: int) -> dict[str, str]:
        wanted: dict[str, str] = {}
        for sha, mainline in candidates:
            info = self.commit(sha)
            parent = info.parents[mainline - 1] if info.parents else None
            diff = self._git("diff", "--full-index", "--binary", parent or "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                             sha).stdout
            patch = self._patch_id(diff)
            if patch is not None:
                wanted[patch] = sha
        if not wanted:
            return {}
        # What `git cherry` does: one patch id per commit of the other side, compared with ours.
        log = self._git("log", "--no-merges", "--full-index", "--binary", "-p", "--format=commit %H",
                        f"--since={since}", tip).stdout
        found: dict[str, str] = {}
        out = self._git("patch-id", "--stable", input=log).stdout
        for line in out.splitlines():
            patch, _, commit = line.partition(" ")
            if patch in wanted and wanted[patch] not in found:
                found[wanted[patch]] = commit.strip()
        return found

    # ------------------------------------------------------------------ the work tree

    def start(self, sha: str) -> None:
        if self.existing and self._worktree is None:
            self._worktree = Path(tempfile.mkdtemp(prefix="opsgh-backport-worktree-"))
            self._git("worktree", "add", "--detach", "--force", str(self._worktree), sha)
            return
        self._reset_sequencer()
        self._git("checkout", "--quiet", "--force", "--detach", sha, where=self._work)
        self._git("clean", "-fdxq", where=self._work)

    def _reset_sequencer(self) -> None:
        self._git("cherry-pick", "--quit", where=self._work, ok=(0, 1, 128))

    def head(self) -> str:
        return self._git("rev-parse", "HEAD", where=self._work).stdout.strip()

    def cherry_pick(self, sha: str, *, mainline: int | None = None) -> PickResult:
        args = ["cherry-pick", "-x", "--allow-empty"]
        if mainline is not None:
            args += ["-m", str(mainline)]
        done = self._git(*args, sha, where=self._work, ok=(0, 1))
        if done.returncode == 0:
            return PickResult("applied", self.head())
        conflicts = self._git("diff", "--name-only", "--diff-filter=U", where=self._work).stdout.split()
        if conflicts:
            return PickResult("conflict", conflicts=tuple(conflicts))
        status = self._git("status", "--porcelain", "--untracked-files=no", where=self._work).stdout.strip()
        if not status:
            # The change is in the tree already: git stops on the now-empty commit. Skip it.
            self._git("cherry-pick", "--skip", where=self._work, ok=(0, 1, 128))
            self._reset_sequencer()
            return PickResult("redundant")
        raise _failure(args, done)

    def commit_conflict(self, message: str) -> str:
        self._git("add", "--all", where=self._work)
        # In the middle of the cherry-pick, git takes the author from CHERRY_PICK_HEAD.
        self._git("commit", "--quiet", "--no-verify", "--allow-empty", "--file=-", input=message, where=self._work)
        self._reset_sequencer()
        return self.head()

    def abort(self) -> None:
        self._git("cherry-pick", "--abort", where=self._work, ok=(0, 1, 128))
        self._reset_sequencer()

    # ------------------------------------------------------------------ pushing

    def push(self, sha: str, branch: str, *, expected: str | None) -> bool:
        """Push `sha` to `branch` if the branch is still at `expected` (None: absent); False when it is not.

        A push that failed on the way (a 5xx, a lost connection) may have landed: the branch is read back
        before it is pushed again, once (never blindly twice)."""
        ref = f"refs/heads/{branch}"
        lease = f"--force-with-lease={ref}:{expected or ''}"
        for attempt in (1, 2):
            done = self._git("push", "--porcelain", "--quiet", lease, self.remote_url, f"{sha}:{ref}",
                             ok=(0, 1, 128), where=self._work)
            if done.returncode == 0:
                return True
            text = done.stdout + done.stderr
            if "stale info" in text or "fetch first" in text or "already exists" in text:
                return False
            if attempt == 2 or not _TRANSIENT.search(text):
                break
            landed = self.remote_tips([branch]).get(branch)
            if landed == sha:
                return True
            if landed != expected:
                return False  # someone else pushed meanwhile
        raise _failure(["push"], done)


__all__ = ["BOT_IDENTITY", "DEFAULT_IDENTITY", "GitCheckout", "GitCommandFailed", "default_identity",
           "init_work_tree", "work_tree_root"]
