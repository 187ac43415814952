"""Real git repositories for the sandbox: bare repositories on disk, driven through the `git` CLI.

Every operation GitHub performs on the server side (commits through the API, merge commits, squash and
rebase merges, reverts, cherry-picks, conflict detection) is a real git operation here, so what the
sandbox reports is what git would do.

git 2.39 has `merge-tree --write-tree` but no `--merge-base` (2.40+). A cherry-pick or a revert is a
three-way merge with a chosen base (the picked commit's parent, or the reverted commit itself), so
`_merge_with_base` builds a tiny synthetic history whose only merge base is a root commit holding the
chosen base tree, and lets `merge-tree` merge that: the real `ort` merge (renames, conflicts), no
worktree and no index. The synthetic commits are unreferenced and harmless.

The environment is fixed (no user or system config, no prompts, C locale, no auto-gc), so the
developer's git settings never change what the sandbox does.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_GIT_ENV_KEEP = ("PATH", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")


class GitError(Exception):
    """A git command failed unexpectedly (the message carries git's stderr)."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_list = list(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} exited {returncode}: {stderr.strip()}")


class RefConflict(Exception):
    """A compare-and-swap ref update found another value than expected."""

    def __init__(self, ref: str, expected: str | None, actual: str | None) -> None:
        self.ref = ref
        self.expected = expected
        self.actual = actual
        super().__init__(f"{ref} is at {actual or 'nothing'}, expected {expected or 'nothing'}")


class MergeConflict(Exception):
    """A merge, cherry-pick, revert or rebase step does not apply cleanly."""

    def __init__(self, files: Sequence[str], commit: str | None = None) -> None:
        self.files = tuple(files)
        self.commit = commit
        where = f" (at {commit[:12]})" if commit else ""
        super().__init__(f"conflict in {', '.join(self.files) or 'the merge'}{where}")


@dataclass(frozen=True, slots=True)
class Signature:
    """Author or committer of a commit. `timestamp` is epoch seconds; `offset` like "+0000"."""

    name: str
    email: str
    timestamp: int
    offset: str = "+0000"

    def git_date(self) -> str:
        return f"@{self.timestamp} {self.offset}"


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: str
    type: str  # blob, tree, commit (submodule)
    sha: str
    path: str
    size: int | None  # blobs only


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a diff, in GitHub's vocabulary (added, removed, modified, renamed, copied)."""

    filename: str
    status: str
    additions: int
    deletions: int
    sha: str | None  # blob at the head side; None when removed
    previous_filename: str | None = None
    patch: str | None = None  # hunks only, from the first "@@"; None for binary files

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What `git merge-tree --write-tree` says: a clean tree, or the conflicted files."""

    tree: str | None
    conflicts: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return self.tree is not None and not self.conflicts


@dataclass(frozen=True, slots=True)
class Comparison:
    merge_base: str | None
    ahead_by: int  # commits in head, not in base
    behind_by: int  # commits in base, not in head
    commits: tuple[str, ...]  # base..head, oldest first

    @property
    def status(self) -> str:
        if self.ahead_by and self.behind_by:
            return "diverged"
        if self.ahead_by:
            return "ahead"
        if self.behind_by:
            return "behind"
        return "identical"


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: no user/system config, no prompts, stable output."""
    env = {k: v for k, v in os.environ.items() if k in _GIT_ENV_KEEP}
    env.update({
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        "GIT_AUTHOR_NAME": "sandbox",
        "GIT_AUTHOR_EMAIL": "sandbox@example.invalid",
        "GIT_COMMITTER_NAME": "sandbox",
        "GIT_COMMITTER_EMAIL": "sandbox@example.invalid",
    })
    if extra:
        env.update(extra)
    return env


def _signature_env(author: Signature, committer: Signature | None) -> dict[str, str]:
    committer = committer or author
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": author.git_date(),
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
        "GIT_COMMITTER_DATE": committer.git_date(),
    }


def _parse_signature(text: str) -> Signature:
    # "Name <email> 1700000000 +0000"
    left, _, rest = text.rpartition(">")
    name, _, email = left.partition("<")
    parts = rest.split()
    timestamp = int(parts[0]) if parts else 0
    offset = parts[1] if len(parts) > 1 else "+0000"
    return Signature(name.strip(), email.strip(), timestamp, offset)


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    """Parse the body of a commit object (`git cat-file commit`)."""
    text = raw.decode("utf-8", errors="replace")
    header, _, message = text.partition("\n\n")
    tree = ""
    parents: list[str] = []
    author = committer = Signature("", "", 0)
    for line in header.split("\n"):
        if line.startswith(" "):
            continue  # continuation of a multi-line header (gpgsig)
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = _parse_signature(value)
        elif key == "committer":
            committer = _parse_signature(value)
    return CommitInfo(sha, tree, tuple(parents), author, committer, message)


class GitStore:
    """Bare repositories under `root/OWNER/NAME.git`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, owner: str, name: str) -> Path:
        return self.root / owner / f"{name}.git"

    def exists(self, owner: str, name: str) -> bool:
        return (self.path(owner, name) / "HEAD").is_file()

    def repo(self, owner: str, name: str) -> GitRepo:
        return GitRepo(self.path(owner, name))

    def create(self, owner: str, name: str, default_branch: str = "main") -> GitRepo:
        path = self.path(owner, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        repo = GitRepo(path)
        repo.run("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path), cwd=path.parent)
        # Appended in one write rather than six `git config` runs (repository creation is on every
        # test's path).
        with (path / "config").open("a", encoding="utf-8") as config:
            config.write("[gc]\n\tauto = 0\n[core]\n\tlogAllRefUpdates = false\n[http]\n\treceivepack = true\n"
                         "[uploadpack]\n\tallowAnySHA1InWant = true\n[merge]\n\trenames = true\n")
        return repo


class GitRepo:
    """One bare repository. Methods take commit-ish arguments (shas, `refs/heads/x`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"GitRepo({str(self.path)!r})"

    # ------------------------------------------------------------------ plumbing

    def run_bytes(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
                  ok: Iterable[int] = (0,), cwd: Path | None = None) -> tuple[int, bytes]:
        """Run git on this repository (`cwd` given: run it there without --git-dir, e.g. `init`)."""
        command = ["git", *args] if cwd is not None else ["git", f"--git-dir={self.path}", *args]
        result = subprocess.run(command, input=input, capture_output=True, env=git_environment(env),
                                cwd=cwd, check=False)
        if result.returncode not in tuple(ok):
            raise GitError(list(args), result.returncode, result.stderr.decode("utf-8", errors="replace"))
        return result.returncode, result.stdout

    def run(self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> str:
        _, out = self.run_bytes(*args, input=input.encode() if input is not None else None, env=env, cwd=cwd)
        return out.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ refs

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        """{full ref name: sha it points at}, sorted by name. Annotated tags give the tag object."""
        out = self.run("for-each-ref", "--format=%(objectname) %(refname)", prefix)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, name = line.partition(" ")
            refs[name] = sha
        return refs

    def branches(self) -> dict[str, str]:
        return {name.removeprefix("refs/heads/"): sha for name, sha in self.refs("refs/heads/").items()}

    def ref(self, ref: str) -> str | None:
        """The sha a full ref name (`refs/heads/main`) points at, or None."""
        if not ref.startswith("refs/"):
            return None
        code, out = self.run_bytes("show-ref", "--verify", "--hash", ref, ok=(0, 1, 128))
        return out.decode().strip() if code == 0 else None

    def resolve(self, rev: str) -> str | None:
        """The commit a branch name, full ref, tag or (abbreviated) sha names; None if nothing does."""
        if not rev or rev.startswith("-"):
            return None
        candidates = [rev] if rev.startswith("refs/") else [f"refs/heads/{rev}", f"refs/tags/{rev}", rev]
        for candidate in candidates:
            code, out = self.run_bytes("rev-parse", "--verify", "--quiet", "--end-of-options",
                                       f"{candidate}^{{commit}}", ok=(0, 1, 128))
            if code == 0:
                return out.decode().strip()
        return None

    def object_type(self, sha: str) -> str | None:
        code, out = self.run_bytes("cat-file", "-t", sha, ok=(0, 1, 128))
        return out.decode().strip() if code == 0 else None

    def update_ref(self, ref: str, new: str, expected_old: str | None) -> None:
        """Point `ref` at `new` if it is still at `expected_old` (None: the ref must not exist).

        Raises RefConflict otherwise: the compare-and-swap GitHub's merges rely on.
        """
        old = expected_old if expected_old is not None else ZERO_SHA
        code, _ = self.run_bytes("update-ref", "--no-deref", ref, new, old, ok=(0, 128, 1))
        if code != 0:
            raise RefConflict(ref, expected_old, self.ref(ref))

    def delete_ref(self, ref: str, expected_old: str | None = None) -> None:
        args = ["update-ref", "--no-deref", "-d", ref]
        if expected_old is not None:
            args.append(expected_old)
        code, _ = self.run_bytes(*args, ok=(0, 128, 1))
        if code != 0:
            raise RefConflict(ref, expected_old, self.ref(ref))

    def set_head(self, branch: str) -> None:
        self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    # ------------------------------------------------------------------ objects

    def commit_info(self, rev: str) -> CommitInfo:
        sha = self.resolve(rev)
        if sha is None:
            raise GitError(["cat-file", rev], 128, f"no commit {rev}")
        return self.commit_infos([sha])[0]

    def commit_infos(self, shas: Sequence[str]) -> list[CommitInfo]:
        """Several commits with one `cat-file --batch`, in the order given."""
        if not shas:
            return []
        _, out = self.run_bytes("cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode())
        infos: list[CommitInfo] = []
        position = 0
        for sha in shas:
            header_end = out.index(b"\n", position)
            header = out[position:header_end].decode().split()
            if len(header) < 3 or header[1] != "commit":
                raise GitError(["cat-file", sha], 128, f"{sha} is not a commit")
            size = int(header[2])
            body = out[header_end + 1 : header_end + 1 + size]
            position = header_end + 1 + size + 1
            infos.append(parse_commit(header[0], body))
        return infos

    def read_file(self, rev: str, path: str) -> bytes | None:
        """The bytes of the blob at `path` in `rev`, or None (missing, or not a file)."""
        spec = f"{rev}:{path.strip('/')}"
        code, out = self.run_bytes("cat-file", "-t", spec, ok=(0, 1, 128))
        if code != 0 or out.strip() != b"blob":
            return None
        _, data = self.run_bytes("cat-file", "blob", spec)
        return data

    def entry(self, rev: str, path: str) -> TreeEntry | None:
        """The tree entry at `path` in `rev` (the root tree for an empty path)."""
        path = path.strip("/")
        if not path:
            tree = self.run("rev-parse", f"{rev}^{{tree}}").strip()
            return TreeEntry("040000", "tree", tree, "", None)
        parent, _, _ = path.rpartition("/")
        for item in self.list_tree(rev, parent):
            if item.path == path:
                return item
        return None

    def list_tree(self, rev: str, path: str = "", *, recursive: bool = False) -> list[TreeEntry]:
        """Entries of the directory `path` in `rev` (all files below it with `recursive`)."""
        path = path.strip("/")
        target = f"{rev}:{path}" if path else f"{rev}^{{tree}}"
        code, out = self.run_bytes("ls-tree", "-z", "--long", *(["-r"] if recursive else []), target,
                                   ok=(0, 128))
        if code != 0:
            return []
        entries: list[TreeEntry] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.decode("utf-8", errors="replace").partition("\t")
            mode, kind, sha, size = meta.split()
            entries.append(TreeEntry(mode, kind, sha, f"{path}/{name}" if path else name,
                                     int(size) if size != "-" else None))
        return entries

    def hash_blobs(self, contents: Sequence[bytes]) -> list[str]:
        """Write blobs; return their shas (one `hash-object` call)."""
        if not contents:
            return []
        with tempfile.TemporaryDirectory(prefix="opsgh-blobs-") as tmp:
            paths = []
            for index, data in enumerate(contents):
                file = Path(tmp) / str(index)
                file.write_bytes(data)
                paths.append(str(file))
            out = self.run("hash-object", "-w", "--no-filters", "--stdin-paths", input="\n".join(paths) + "\n")
        return out.split()

    def commit_tree(self, tree: str, parents: Sequence[str], message: str, author: Signature,
                    committer: Signature | None = None) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, input=message, env=_signature_env(author, committer)).strip()

    def tree_of(self, rev: str) -> str:
        return self.run("rev-parse", f"{rev}^{{tree}}").strip()

    def commit_files(self, branch: str, files: Mapping[str, str | bytes | None], message: str,
                     author: Signature, committer: Signature | None = None, *,
                     create_branch_from: str | None = None) -> str:
        """Commit `files` (path -> content, None deletes) on top of `branch`, then move the branch.

        A missing branch starts from `create_branch_from` (a commit) or as a root commit. The branch
        update is a compare-and-swap: a concurrent change raises RefConflict instead of being lost.
        """
        ref = f"refs/heads/{branch}"
        parent = self.ref(ref)
        base = parent or (self.resolve(create_branch_from) if create_branch_from else None)
        changed = [(path.strip("/"), content) for path, content in files.items()]
        blobs = self.hash_blobs([c.encode() if isinstance(c, str) else c for _, c in changed if c is not None])
        blob_iter = iter(blobs)
        lines = []
        for path, content in changed:
            if content is None:
                lines.append(f"0 {ZERO_SHA}\t{path}")
            else:
                lines.append(f"100644 {next(blob_iter)}\t{path}")
        with tempfile.TemporaryDirectory(prefix="opsgh-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base:
                self.run("read-tree", base, env=env)
            else:
                self.run("read-tree", "--empty", env=env)
            self.run("update-index", "--index-info", input="\n".join(lines) + "\n", env=env)
            tree = self.run("write-tree", env=env).strip()
        sha = self.commit_tree(tree, [base] if base else [], message, author, committer)
        self.update_ref(ref, sha, parent)
        return sha

    def commit_series(self, branch: str, commits: Sequence[tuple[Mapping[str, str | bytes | None], str, Signature]],
                      *, create_branch_from: str | None = None) -> list[str]:
        """Several commits (files, message, author) on top of `branch` with one `git fast-import`.

        For seeding long histories (hundreds of commits in well under a second); same semantics as
        `commit_files` called once per commit, including the compare-and-swap on the branch.
        """
        if not commits:
            return []
        ref = f"refs/heads/{branch}"
        parent = self.ref(ref)
        base = parent or (self.resolve(create_branch_from) if create_branch_from else None)
        scratch = f"refs/opsgh-import/{os.getpid()}-{threading.get_ident()}"
        self.run_bytes("update-ref", "-d", scratch, ok=(0, 1, 128))  # a leftover would become the parent
        stream = bytearray()
        for number, (files, message, author) in enumerate(commits, start=1):
            encoded = message.encode()
            who = f"{author.name} <{author.email}> {author.timestamp} {author.offset}"
            stream += f"commit {scratch}\nmark :{number}\nauthor {who}\ncommitter {who}\n".encode()
            stream += b"data %d\n%s\n" % (len(encoded), encoded)
            if number == 1 and base:
                stream += f"from {base}\n".encode()
            for path, content in files.items():
                quoted = _fast_import_path(path.strip("/"))
                if content is None:
                    stream += f"D {quoted}\n".encode()
                else:
                    data = content.encode() if isinstance(content, str) else content
                    stream += f"M 100644 inline {quoted}\n".encode() + b"data %d\n%s\n" % (len(data), data)
            stream += b"\n"
        stream += b"done\n"
        with tempfile.TemporaryDirectory(prefix="opsgh-import-") as tmp:
            marks = Path(tmp) / "marks"
            self.run_bytes("fast-import", "--quiet", "--done", "--force", f"--export-marks={marks}",
                           input=bytes(stream))
            by_mark = dict(line.split() for line in marks.read_text().splitlines())
        shas = [by_mark[f":{number}"] for number in range(1, len(commits) + 1)]
        self.delete_ref(scratch)
        self.update_ref(ref, shas[-1], parent)
        return shas

    # ------------------------------------------------------------------ history

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        code, _ = self.run_bytes("merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1))
        return code == 0

    def merge_base(self, a: str, b: str) -> str | None:
        code, out = self.run_bytes("merge-base", a, b, ok=(0, 1))
        return out.decode().strip() if code == 0 else None

    def count(self, rev: str, path: str | None = None) -> int:
        args = ["rev-list", "--count", rev]
        if path:
            args += ["--", path]
        return int(self.run(*args).strip())

    def log(self, rev: str, *, max_count: int, skip: int = 0, path: str | None = None,
            since: int | None = None, until: int | None = None) -> list[str]:
        """Shas reachable from `rev`, newest first (what GET /commits lists)."""
        args = ["rev-list", f"--max-count={max_count}", f"--skip={skip}"]
        if since is not None:
            args.append(f"--since={since}")
        if until is not None:
            args.append(f"--until={until}")
        args.append(rev)
        if path:
            args += ["--", path]
        return self.run(*args).split()

    def compare(self, base: str, head: str) -> Comparison:
        """What GitHub's compare says about base...head: counts, merge base, the commits oldest first."""
        behind, ahead = (int(n) for n in self.run("rev-list", "--left-right", "--count",
                                                  f"{base}...{head}").split())
        commits = self.run("rev-list", "--reverse", "--topo-order", f"{base}..{head}").split()
        return Comparison(self.merge_base(base, head), ahead, behind, tuple(commits))

    def changed_files(self, base: str | None, head: str) -> list[FileChange]:
        """Files changed from `base` (None: the empty tree) to `head`, renames detected, with patches."""
        left = base or EMPTY_TREE
        common = ["-M", "--no-color", "--no-ext-diff", "--no-textconv", left, head]
        _, status_out = self.run_bytes("diff", "--name-status", "-z", *common)
        _, numstat_out = self.run_bytes("diff", "--numstat", "-z", *common)
        _, patch_out = self.run_bytes("diff", "--patch", "--full-index", *common)
        statuses = _parse_name_status(status_out)
        numstats = _parse_numstat(numstat_out)
        patches = _split_patches(patch_out.decode("utf-8", errors="replace"))
        blobs = {entry.path: entry.sha for entry in self.list_tree(head, recursive=True)}
        changes = []
        for index, (code, path, previous) in enumerate(statuses):
            added, deleted, binary = numstats[index] if index < len(numstats) else (0, 0, True)
            status = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied",
                      "T": "changed"}.get(code[0], "modified")
            patch = patches[index] if index < len(patches) and not binary else None
            changes.append(FileChange(path, status, added, deleted, blobs.get(path) if status != "removed" else None,
                                      previous, patch))
        return changes

    # ------------------------------------------------------------------ merges

    def merge_trees(self, ours: str, theirs: str) -> MergeResult:
        """`git merge-tree --write-tree ours theirs`: the merged tree, or the conflicted files."""
        code, out = self.run_bytes("merge-tree", "--write-tree", "--name-only", "--no-messages", "-z",
                                   ours, theirs, ok=(0, 1))
        fields = out.split(b"\0")
        tree = fields[0].decode().strip()
        if code == 0:
            return MergeResult(tree, ())
        conflicts = tuple(dict.fromkeys(f.decode("utf-8", errors="replace") for f in fields[1:] if f))
        return MergeResult(None, conflicts)

    def mergeability(self, base: str, head: str) -> MergeResult:
        """Can `head` merge into `base`? (what GitHub's `mergeable` is computed from)."""
        return self.merge_trees(base, head)

    def merge_commit(self, base: str, head: str, message: str, author: Signature,
                     committer: Signature | None = None) -> str:
        """A merge commit of head into base (parents: base, head). Raises MergeConflict."""
        result = self.merge_trees(base, head)
        if not result.clean or result.tree is None:
            raise MergeConflict(result.conflicts)
        return self.commit_tree(result.tree, [self._sha(base), self._sha(head)], message, author, committer)

    def squash_commit(self, base: str, head: str, message: str, author: Signature,
                      committer: Signature | None = None) -> str:
        """One commit on base with the tree of the merge of head (parent: base). Raises MergeConflict."""
        result = self.merge_trees(base, head)
        if not result.clean or result.tree is None:
            raise MergeConflict(result.conflicts)
        return self.commit_tree(result.tree, [self._sha(base)], message, author, committer)

    def rebase(self, base: str, head: str, committer: Signature) -> str:
        """Replay each commit of base..head (merges skipped, like GitHub) onto base; the new tip.

        Authors and messages are kept, committers are `committer`: every sha is new unless head is
        already on base. Raises MergeConflict naming the commit that does not apply.
        """
        tip = self._sha(base)
        commits = self.run("rev-list", "--reverse", "--topo-order", "--no-merges", f"{base}..{head}").split()
        for info in self.commit_infos(commits):
            parent = info.parents[0] if info.parents else EMPTY_TREE
            result = self._merge_with_base(self.tree_of(parent), tip, info.tree)
            if not result.clean or result.tree is None:
                raise MergeConflict(result.conflicts, info.sha)
            tip = self.commit_tree(result.tree, [tip], info.message, info.author, committer)
        return tip

    def cherry_pick(self, commit: str, onto: str, committer: Signature, *, record_origin: bool = True,
                    mainline: int = 1) -> str:
        """`git cherry-pick [-x]` of `commit` onto `onto`, as a new commit (keeps the author)."""
        info = self.commit_info(commit)
        parent = info.parents[mainline - 1] if info.parents else None
        result = self._merge_with_base(self.tree_of(parent) if parent else EMPTY_TREE, onto, info.tree)
        if not result.clean or result.tree is None:
            raise MergeConflict(result.conflicts, info.sha)
        message = info.message
        if record_origin:
            message = message.rstrip("\n") + f"\n\n(cherry picked from commit {info.sha})\n"
        return self.commit_tree(result.tree, [self._sha(onto)], message, info.author, committer)

    def revert(self, commit: str, onto: str, author: Signature, committer: Signature | None = None, *,
               mainline: int = 1, message: str | None = None) -> str:
        """`git revert [-m mainline]` of `commit` on top of `onto` (a merge is reverted against parent 1)."""
        info = self.commit_info(commit)
        parent = info.parents[mainline - 1] if info.parents else None
        parent_tree = self.tree_of(parent) if parent else EMPTY_TREE
        result = self._merge_with_base(info.tree, onto, parent_tree)
        if not result.clean or result.tree is None:
            raise MergeConflict(result.conflicts, info.sha)
        if message is None:
            message = f'Revert "{info.subject}"\n\nThis reverts commit {info.sha}.\n'
        return self.commit_tree(result.tree, [self._sha(onto)], message, author, committer)

    def _merge_with_base(self, base_tree: str, ours: str, theirs_tree: str) -> MergeResult:
        """Three-way merge of `ours` (a commit) and `theirs_tree` with `base_tree` as the merge base.

        git 2.39's merge-tree picks the merge base itself, so give it a history where the only one is
        a root commit holding `base_tree`.
        """
        stamp = Signature("sandbox", "sandbox@example.invalid", 0)
        root = self.commit_tree(base_tree, [], "base", stamp)
        ours_commit = self.commit_tree(self.tree_of(ours), [root], "ours", stamp)
        theirs_commit = self.commit_tree(theirs_tree, [root], "theirs", stamp)
        return self.merge_trees(ours_commit, theirs_commit)

    def _sha(self, rev: str) -> str:
        sha = self.resolve(rev)
        if sha is None:
            raise GitError(["rev-parse", rev], 128, f"no commit {rev}")
        return sha


def _fast_import_path(path: str) -> str:
    """A path as fast-import reads it: C-style quoted when it has spaces, quotes or control characters."""
    if not any(c in path for c in ' "\\\n') and not path.startswith('"'):
        return path
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _parse_name_status(out: bytes) -> list[tuple[str, str, str | None]]:
    """`diff --name-status -z` -> [(status letter(s), path, previous path for renames/copies)]."""
    fields = out.decode("utf-8", errors="replace").split("\0")
    result: list[tuple[str, str, str | None]] = []
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index]
        if code[0] in "RC":
            result.append((code, fields[index + 2], fields[index + 1]))
            index += 3
        else:
            result.append((code, fields[index + 1], None))
            index += 2
    return result


def _parse_numstat(out: bytes) -> list[tuple[int, int, bool]]:
    """`diff --numstat -z` -> [(additions, deletions, binary)] in diff order."""
    fields = out.decode("utf-8", errors="replace").split("\0")
    result: list[tuple[int, int, bool]] = []
    index = 0
    while index < len(fields) and fields[index]:
        added, deleted, path = fields[index].split("\t", 2)
        binary = added == "-"
        result.append((0 if binary else int(added), 0 if binary else int(deleted), binary))
        # A rename has an empty path here, then the old and the new path as separate fields.
        index += 3 if path == "" else 1
    return result


def _split_patches(text: str) -> list[str | None]:
    """The hunks (from the first "@@") of each file of a `diff --patch`, in diff order."""
    patches: list[str | None] = []
    current: list[str] | None = None
    in_hunks = False
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git "):
            if current is not None:
                patches.append("".join(current).rstrip("\n") or None)
            current = []
            in_hunks = False
            continue
        if current is None:
            continue
        if line.startswith("@@"):
            in_hunks = True
        if in_hunks:
            current.append(line)
    if current is not None:
        patches.append("".join(current).rstrip("\n") or None)
    return patches
