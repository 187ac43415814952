"""Risk flags of a release, from its changed files and the commits `prod` has that `main` lacks.

Pure functions, no I/O. What the runbooks check by hand before a release:

- migrations with destructive statements (DROP/TRUNCATE/DELETE, dropped or renamed columns and
  tables, in SQL and the usual frameworks' migration DSLs) against the expand/contract policy: a
  column or table is dropped only in a release after the one that stopped using it, and a rename is
  never backward compatible (add, backfill, switch reads, then drop);
- changed configuration or secret inventories (`.env.example` and friends), with the variables added
  and removed, so production gets them before the code that reads them;
- dependency manifest and lock file changes;
- hotfixes on `prod` that `main` does not have (they must be back-ported first);
- and, when GitHub's 300-file cap on a comparison could not be worked around, that the file list is
  incomplete, rather than a silent "no risk".

Only *added* lines of a diff count: a statement that a release removes is no risk. Down migrations
(`*down*`, `*rollback*` files, `def downgrade`/`def down` blocks) are expected to drop what their up
migration created and are not flagged.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from opsgh.ports import CommitInfo, FileChange

__all__ = [
    "DEFAULT_MIGRATION_PATHS",
    "Destructive",
    "RiskFlag",
    "RiskItem",
    "RiskReport",
    "assess",
    "destructive_statements",
    "glob_match",
]

# Where migrations usually live, used when `gate.migrations.paths` is empty.
DEFAULT_MIGRATION_PATHS = ("**/migrations/**", "**/migrate/**", "**/alembic/versions/**", "**/*.sql")
MAX_ITEMS = 25  # per flag; the rest are counted ("and 12 more")

DEPENDENCY_MANIFESTS = frozenset({
    "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "pyproject.toml", "poetry.lock", "pipfile", "pipfile.lock", "uv.lock", "setup.py", "setup.cfg",
    "go.mod", "go.sum", "gemfile", "gemfile.lock", "cargo.toml", "cargo.lock", "composer.json", "composer.lock",
    "pom.xml", "build.gradle", "build.gradle.kts", "gradle.lockfile", "mix.exs", "mix.lock", "packages.config",
    "directory.packages.props", "pubspec.yaml", "pubspec.lock", "podfile.lock", "package.swift", "package.resolved",
})
_REQUIREMENTS = re.compile(r"^(requirements|constraints)[\w.-]*\.(txt|in)$", re.IGNORECASE)
_INVENTORY = re.compile(
    r"^(\.env(\.[\w-]+)*\.(example|sample|template|dist|defaults?)|[\w.-]+\.env\.(example|sample|template)"
    r"|env\.(example|sample|template)|example\.env|\.env\.[\w-]+\.example|secrets?\.(example|sample)(\.[\w]+)?"
    r"|[\w.-]+\.secrets?\.(example|sample)(\.[\w]+)?)$", re.IGNORECASE)
_COMMITTED_ENV = re.compile(r"^\.env(\.(local|production|prod|staging))?$", re.IGNORECASE)
_ENV_LINE = re.compile(r"^([+-])\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]")
_DOWN_FILE = re.compile(r"(^|[._/-])(down|rollback|revert|undo)([._/-]|$)", re.IGNORECASE)
_DOWN_BLOCK = re.compile(r"^\s*def\s+(downgrade|down|rollback)\b")
_ANY_BLOCK = re.compile(r"^\s*def\s+\w+")


@dataclass(frozen=True, slots=True)
class Destructive:
    """A destructive statement on an added line of a migration."""

    path: str
    line: int | None  # in the new file
    kind: str  # drop table, drop column, rename column, rename table, truncate, delete rows, drop
    statement: str  # the line, trimmed


# (kind, pattern) in the order they are tried; the first match names a line.
_DESTRUCTIVE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("drop column", r"\bdrop\s+column\b|\balter\s+table\b.*\bdrop\s+(?!constraint\b|index\b|default\b|not\b|primary\b"
                    r"|foreign\b|check\b|identity\b|expression\b|partition\b)\w+"
                    r"|\bremove_column\b|\bop\.drop_column\b|\bdropColumn\b|\bremoveColumn\b|\bmigrations\.RemoveField\b"
                    r"|\bremove_columns\b"),
    ("rename column", r"\brename\s+column\b|\brename_column\b|\bnew_column_name\s*=|\brenameColumn\b"
                      r"|\bmigrations\.RenameField\b"),
    ("drop table", r"\bdrop\s+table\b|\bdrop_table\b|\bop\.drop_table\b|\bdropTable\b|\bmigrations\.DeleteModel\b"),
    ("rename table", r"\balter\s+table\b.*\brename\s+to\b|\brename_table\b|\bop\.rename_table\b|\brenameTable\b"
                     r"|\bmigrations\.RenameModel\b"),
    ("truncate", r"\btruncate\b"),
    ("delete rows", r"\bdelete\s+from\b"),
    ("drop", r"\bdrop\s+(schema|database|view|materialized\s+view|type|function|index|sequence|trigger)\b"),
)
_DESTRUCTIVE = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _DESTRUCTIVE_PATTERNS)
_COMMENTS = {".sql": re.compile(r"--.*$"), ".py": re.compile(r"#.*$"), ".rb": re.compile(r"#.*$"),
             ".js": re.compile(r"//.*$"), ".ts": re.compile(r"//.*$"), ".cjs": re.compile(r"//.*$"),
             ".mjs": re.compile(r"//.*$"), ".go": re.compile(r"//.*$"), ".exs": re.compile(r"#.*$")}
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$")


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob: `*` stays within a directory, `**/` spans any number of them, `**` anything."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def glob_match(path: str, patterns: Iterable[str]) -> bool:
    path = path.lstrip("/")
    return any(_glob_regex(pattern.lstrip("/")).match(path) for pattern in patterns)


def is_down_migration(path: str) -> bool:
    return bool(_DOWN_FILE.search(posixpath.basename(path)))


def destructive_statements(change: FileChange) -> list[Destructive]:
    """Destructive statements on the added lines of a migration's patch (none for a down migration)."""
    if change.patch is None or is_down_migration(change.filename):
        return []
    found: list[Destructive] = []
    line_number: int | None = None
    in_down = False
    for raw in change.patch.splitlines():
        hunk = _HUNK.match(raw)
        if hunk is not None:
            line_number = int(hunk.group(1))
            context = hunk.group(2)
            if _DOWN_BLOCK.search(context.strip()) or _DOWN_BLOCK.match(context.strip()):
                in_down = True
            elif _ANY_BLOCK.match(context.strip()):
                in_down = False
            continue
        if raw.startswith(("+++", "---", "\\")):
            continue
        kind = raw[:1]
        text = raw[1:]
        if kind in ("+", " "):
            if _DOWN_BLOCK.match(text):
                in_down = True
            elif _ANY_BLOCK.match(text):
                in_down = False
        if kind == "+" and not in_down:
            comment = _COMMENTS.get(posixpath.splitext(change.filename)[1].lower())
            code = comment.sub("", text) if comment is not None else text
            for name, pattern in _DESTRUCTIVE:
                if pattern.search(code):
                    found.append(Destructive(change.filename, line_number, name, " ".join(text.split())[:200]))
                    break
        if kind in ("+", " ") and line_number is not None:
            line_number += 1
    return found


def env_changes(change: FileChange) -> tuple[list[str], list[str]]:
    """(variables added, variables removed) in an inventory file's patch."""
    added: list[str] = []
    removed: list[str] = []
    for line in (change.patch or "").splitlines():
        if line.startswith(("+++", "---")):
            continue
        found = _ENV_LINE.match(line)
        if found is not None:
            (added if found.group(1) == "+" else removed).append(found.group(2))
    return ([n for n in dict.fromkeys(added) if n not in removed],
            [n for n in dict.fromkeys(removed) if n not in added])


def is_dependency_manifest(path: str) -> bool:
    name = posixpath.basename(path)
    return name.lower() in DEPENDENCY_MANIFESTS or bool(_REQUIREMENTS.match(name))


def is_inventory(path: str) -> bool:
    return bool(_INVENTORY.match(posixpath.basename(path)))


@dataclass(frozen=True, slots=True)
class RiskItem:
    """One thing a flag points at: `ref` (a path, a path:line or a short sha) and plain text; the
    templates escape both."""

    ref: str
    text: str = ""
    snippet: str | None = None  # code (a statement), shown as code
    url: str | None = None


@dataclass(frozen=True, slots=True)
class RiskFlag:
    """One flag of the release; `more` counts the items left out."""

    key: str  # destructive-migration, migration, missing-down-migration, secrets-file, config, dependencies,
    #           hotfix, files-incomplete
    severity: str  # high, medium, low
    title: str
    detail: str
    items: tuple[RiskItem, ...] = ()
    more: int = 0


@dataclass(frozen=True, slots=True)
class RiskReport:
    flags: tuple[RiskFlag, ...]
    migrations: tuple[str, ...]  # changed migration files
    destructive: tuple[Destructive, ...]
    env_added: tuple[str, ...]
    env_removed: tuple[str, ...]
    dependency_files: tuple[str, ...]
    hotfixes: tuple[CommitInfo, ...]
    files_complete: bool

    def has(self, key: str) -> bool:
        return any(flag.key == key for flag in self.flags)

    @property
    def high(self) -> int:
        return sum(1 for flag in self.flags if flag.severity == "high")


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def _capped(items: Sequence[RiskItem]) -> tuple[tuple[RiskItem, ...], int]:
    return tuple(items[:MAX_ITEMS]), max(len(items) - MAX_ITEMS, 0)


def assess(files: Sequence[FileChange], *, files_complete: bool = True, hotfixes: Sequence[CommitInfo] = (),
           migration_paths: Sequence[str] = (), allow_label: str | None = None,
           require_down: bool = False, production: str = "prod", staging: str = "main",
           uncovered: int = 0) -> RiskReport:
    """The risk flags of a release that changes `files` (see the module docstring).

    `migration_paths` empty means the usual places (DEFAULT_MIGRATION_PATHS); `uncovered` counts
    files GitHub's caps kept from view (only with `files_complete=False`).
    """
    configured = tuple(migration_paths)
    patterns = configured or DEFAULT_MIGRATION_PATHS
    flags: list[RiskFlag] = []
    migrations = [f for f in files if f.status != "removed" and glob_match(f.filename, patterns)]
    destructive = [d for f in migrations for d in destructive_statements(f)]
    removed_migrations = [f.filename for f in files if f.status == "removed" and glob_match(f.filename, patterns)]
    if destructive:
        items, more = _capped([RiskItem(f"{d.path}:{d.line}" if d.line else d.path, d.kind, d.statement)
                               for d in destructive])
        approval = (f" The gate needs the label `{allow_label}` on this pull request to accept it."
                    if allow_label else "")
        flags.append(RiskFlag(
            "destructive-migration", "high", "Destructive migration",
            "Expand/contract: drop a column or table only in a release after the one that stopped using it; "
            "a rename is never backward compatible (add, backfill, switch reads, then drop). Take a backup "
            "first: a rollback of the code does not bring the data back." + approval, items, more))
    unreadable = [f.filename for f in migrations if f.patch is None and not is_down_migration(f.filename)]
    if migrations or removed_migrations:
        listed = [RiskItem(f.filename, f.status) for f in migrations] + [RiskItem(name, "removed")
                                                                          for name in removed_migrations]
        items, more = _capped(listed)
        where = "" if configured else " (no `gate.migrations.paths` configured: the usual places were searched)"
        detail = f"{_count(len(listed), 'migration file')} change{'s' * (len(listed) == 1)}{where}."
        if unreadable:
            detail += (f" GitHub shows no diff for {_count(len(unreadable), 'of them', 'of them')} (too large or "
                       "binary): read them by hand.")
        if removed_migrations:
            detail += " Removing a migration that already ran in production breaks the migration history."
        flags.append(RiskFlag("migration", "medium" if not (unreadable or removed_migrations) else "high",
                              "Database migrations", detail, items, more))
    if require_down:
        added = [f.filename for f in migrations if f.status == "added" and not is_down_migration(f.filename)]
        downs = {posixpath.dirname(f.filename) for f in files if is_down_migration(f.filename)}
        missing = [name for name in added if posixpath.dirname(name) not in downs]
        if missing:
            items, more = _capped([RiskItem(name, "no down migration") for name in missing])
            flags.append(RiskFlag("missing-down-migration", "high", "Migrations without a down migration",
                                  "`gate.migrations.require_down` is on and these migrations come without a down "
                                  "(rollback) migration in the same directory.", items, more))
    committed_env = [f.filename for f in files
                     if f.status != "removed" and _COMMITTED_ENV.match(posixpath.basename(f.filename))]
    if committed_env:
        items, more = _capped([RiskItem(name) for name in committed_env])
        flags.append(RiskFlag("secrets-file", "high", "An environment file is committed",
                              "These look like real environment files, not inventories: make sure no secret is in "
                              "the repository (rotate it if one was).", items, more))
    inventories = [f for f in files if is_inventory(f.filename)]
    env_added: list[str] = []
    env_removed: list[str] = []
    if inventories:
        lines: list[RiskItem] = []
        for change in inventories:
            added_vars, removed_vars = env_changes(change)
            env_added += added_vars
            env_removed += removed_vars
            parts = [change.status]
            if added_vars:
                parts.append("new: " + ", ".join(added_vars))
            if removed_vars:
                parts.append("removed: " + ", ".join(removed_vars))
            lines.append(RiskItem(change.filename, "; ".join(parts)))
        items, more = _capped(lines)
        flags.append(RiskFlag("config", "medium", "Configuration and secrets inventory changed",
                              f"Set new variables in {production} before this ships; remove old ones only after.",
                              items, more))
    manifests = [f.filename for f in files if is_dependency_manifest(f.filename)]
    if manifests:
        items, more = _capped([RiskItem(f.filename, f.status) for f in files if is_dependency_manifest(f.filename)])
        flags.append(RiskFlag("dependencies", "low", "Dependencies changed",
                              "Dependency manifests or lock files change: check the security scan and the "
                              "changelogs of what was upgraded.", items, more))
    if hotfixes:
        items, more = _capped([RiskItem(c.sha[:7], c.subject + (f" (@{c.author_login})" if c.author_login else
                                                                 f" ({c.author_name})" if c.author_name else ""),
                                        url=c.html_url or None) for c in hotfixes])
        flags.append(RiskFlag("hotfix", "high", f"Hotfixes on {production} that {staging} does not have",
                              f"{production} has {_count(len(hotfixes), 'commit')} that {staging} lacks: back-port "
                              f"{'it' if len(hotfixes) == 1 else 'them'} to "
                              f"{staging} (`opsgh backport`) so that staging runs what production will run.",
                              items, more))
    if not files_complete:
        flags.append(RiskFlag("files-incomplete", "high", "File list incomplete",
                              "GitHub lists at most 300 files per comparison and opsgh could not split this release "
                              f"into small enough parts{f' ({uncovered} or more files unseen)' if uncovered else ''}: "
                              "the flags above may miss files. Review the full comparison by hand."))
    order = {"high": 0, "medium": 1, "low": 2}
    flags.sort(key=lambda flag: order.get(flag.severity, 3))
    return RiskReport(tuple(flags), tuple(f.filename for f in migrations), tuple(destructive), tuple(env_added),
                      tuple(env_removed), tuple(manifests), tuple(hotfixes), files_complete)
