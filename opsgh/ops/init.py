"""`opsgh init`: scaffold `.github/opsgh.yml` and workflow templates into a repository's work tree.

What is written ships in the package (`opsgh/templates/`): a commented starter configuration and the
workflow templates, which are copies of the repository's `workflows-templates/` (a test keeps them
identical). Each file is compared with what the work tree holds:

- missing: created;
- identical: unchanged, not even rewritten, so re-running is safe;
- different: shown as a diff and left alone unless `force`. When any file differs and `force` is not
  given, nothing at all is written (PreconditionFailed, exit 4): a run never leaves half a scaffold.

`dry_run` decides exactly the same and writes nothing. The workflows pin the opsgh action to a
placeholder commit (`PLACEHOLDER_SHA`) unless `action_sha` names the real one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from opsgh import __version__
from opsgh.errors import PreconditionFailed, UsageError

__all__ = [
    "ACTION_REPOSITORY",
    "CONFIG_PATH",
    "DEFAULT_TEMPLATES",
    "PLACEHOLDER_SHA",
    "TEMPLATE_DIR",
    "WORKFLOW_TEMPLATE_DIR",
    "FilePlan",
    "InitResult",
    "available_templates",
    "choose_templates",
    "init",
    "rendered_files",
]

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
WORKFLOW_TEMPLATE_DIR = TEMPLATE_DIR / "workflows"
CONFIG_PATH = ".github/opsgh.yml"
WORKFLOWS_PATH = ".github/workflows"
ACTION_REPOSITORY = "opsgh/opsgh"
# git's null object id: no commit can have it, so a workflow still pinned to it fails loudly at once.
PLACEHOLDER_SHA = "0" * 40
# What a single repository needs; protect-org belongs in an organisation's administration repository.
DEFAULT_TEMPLATES = ("release", "gate", "commands", "backport", "rollback", "verify", "protect-drift")
NO_TEMPLATES = "none"

FileAction = Literal["create", "unchanged", "overwrite", "differs"]

_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
_DONE = {"create": "created", "unchanged": "unchanged", "overwrite": "overwritten", "differs": "differs"}
_WOULD = {"create": "would create", "unchanged": "unchanged", "overwrite": "would overwrite", "differs": "differs"}


def available_templates() -> tuple[str, ...]:
    """The names of the packaged workflow templates (file names without `.yml`), sorted."""
    return tuple(sorted(path.stem for path in WORKFLOW_TEMPLATE_DIR.glob("*.yml")))


def choose_templates(names: Sequence[str] | None, all_templates: bool = False) -> tuple[str, ...]:
    """The templates to write: `names` (e.g. from `--templates release,gate`), all, or the defaults.

    Names may carry `.yml`; `none` alone means no workflow at all (only the configuration).
    """
    known = available_templates()
    if all_templates:
        if names is not None:
            raise UsageError("--all and --templates cannot be used together",
                             "pass --all for every template, or --templates NAME,... for some")
        return known
    if names is None:
        return DEFAULT_TEMPLATES
    cleaned = [name.strip().removesuffix(".yml").removesuffix(".yaml") for name in names]
    chosen = tuple(dict.fromkeys(name for name in cleaned if name))
    if chosen == (NO_TEMPLATES,):
        return ()
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        what = (f"unknown template{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}" if unknown
                else "--templates names no template")
        raise UsageError(what,
                         f"choose from {', '.join(known)} (comma-separated), or `none` for only the configuration")
    return chosen


def rendered_files(templates: Sequence[str], action_sha: str | None = None) -> dict[str, str]:
    """What init writes: path in the repository -> text. Workflows pin opsgh to `action_sha` if given."""
    sha = PLACEHOLDER_SHA
    if action_sha is not None:
        if not _SHA.match(action_sha):
            raise UsageError(f"--action-sha {action_sha!r} is not a full commit SHA",
                             f"pass the 40-hex commit of the {ACTION_REPOSITORY} release tag v{__version__}: "
                             "tags and branches can be moved, a commit cannot")
        sha = action_sha.lower()
    files = {CONFIG_PATH: _read(TEMPLATE_DIR / "opsgh.yml")}
    for name in templates:
        text = _read(WORKFLOW_TEMPLATE_DIR / f"{name}.yml")
        files[f"{WORKFLOWS_PATH}/{name}.yml"] = text.replace(f"{ACTION_REPOSITORY}@{PLACEHOLDER_SHA}",
                                                             f"{ACTION_REPOSITORY}@{sha}")
    return files


@dataclass(frozen=True, slots=True)
class FilePlan:
    """One file: what init does (or did) with it, and the unified diff from what was there."""

    path: str
    action: FileAction
    diff: str


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `init` did (or, with dry_run, would do)."""

    root: str
    files: tuple[FilePlan, ...]
    templates: tuple[str, ...]
    action_sha: str | None
    dry_run: bool = False
    force: bool = False

    @property
    def differing(self) -> tuple[FilePlan, ...]:
        """Files that differ and were left alone (without --force)."""
        return tuple(plan for plan in self.files if plan.action == "differs")

    @property
    def written(self) -> bool:
        return not self.dry_run and not self.differing and any(
            plan.action in ("create", "overwrite") for plan in self.files)

    def diffs(self) -> str:
        """Every file's unified diff, in order (empty when nothing changes)."""
        return "".join(plan.diff for plan in self.files)

    def lines(self) -> list[str]:
        """One line per file, then what to do next (the CLI prints them after the diffs)."""
        verbs = _WOULD if self.dry_run or self.differing else _DONE
        width = max(len(verbs[plan.action]) for plan in self.files)
        head = "dry run, nothing written, " if self.dry_run else "nothing written, " if self.differing else ""
        out = [f"{head}in {self.root}:"]
        for plan in self.files:
            note = " (--force overwrites it)" if plan.action == "differs" else ""
            out.append(f"  {verbs[plan.action]:<{width}}  {plan.path}{note}")
        if self.differing:
            return out
        if self.templates and self.action_sha is None:
            out.append(f"note: the workflows pin {ACTION_REPOSITORY} to the placeholder commit "
                       f"{PLACEHOLDER_SHA[:12]}…; pin the release you use: opsgh init --action-sha SHA --force "
                       f"(the commit of tag v{__version__})")
        if self.written:
            out.append("next: commit and push these files to the default branch"
                       + ("; the workflows need the opsgh GitHub App (variable OPSGH_APP_ID, secret "
                          "OPSGH_APP_PRIVATE_KEY): see the README, Quick start for a repository"
                          if self.templates else ""))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root, "dry_run": self.dry_run, "force": self.force, "templates": list(self.templates),
            "action_sha": self.action_sha or PLACEHOLDER_SHA,
            "files": [{"path": plan.path, "action": plan.action, "diff": plan.diff} for plan in self.files],
        }

    def raise_for_outcome(self) -> None:
        """PreconditionFailed (exit 4) when files differ and were left alone: then nothing was written."""
        if self.differing:
            paths = ", ".join(plan.path for plan in self.differing)
            count = len(self.differing)
            raise PreconditionFailed(
                f"{count} file{'s' if count != 1 else ''} differ{'s' if count == 1 else ''} from the template: "
                f"{paths}; nothing was written",
                "review the diff above; re-run with --force to overwrite, or leave them out with --templates")


def init(root: str | Path, templates: Sequence[str], *, force: bool = False, dry_run: bool = False,
         action_sha: str | None = None) -> InitResult:
    """Plan every file, then write the new and (with `force`) the differing ones, unless `dry_run`.

    `root` is the top of the repository's work tree. Nothing is written when a file differs without
    `force`, nor when a target is not a regular file inside the work tree.
    """
    top = Path(root).resolve()
    files = rendered_files(templates, action_sha)
    plans: list[FilePlan] = []
    for relative, text in files.items():
        target = _target(top, relative)
        current = _current(target, relative)
        if current is None:
            plans.append(FilePlan(relative, "create", _diff(relative, None, text)))
        elif current == text:
            plans.append(FilePlan(relative, "unchanged", ""))
        else:
            plans.append(FilePlan(relative, "overwrite" if force else "differs", _diff(relative, current, text)))
    result = InitResult(str(top), tuple(plans), tuple(templates), action_sha and action_sha.lower(), dry_run, force)
    if dry_run or result.differing:
        return result
    for plan in plans:
        if plan.action in ("create", "overwrite"):
            _write(top / plan.path, files[plan.path])
    return result


# ----------------------------------------------------------------------------- files


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _target(top: Path, relative: str) -> Path:
    """The file to write, refused when a symbolic link would take the write outside the work tree."""
    target = top / relative
    resolved = target.resolve()
    if not resolved.is_relative_to(top):
        raise UsageError(f"{relative} leads outside the repository (to {resolved})",
                         "replace the symbolic link with a directory or file of the repository")
    return target


def _current(target: Path, relative: str) -> str | None:
    """The text there now; None when there is no file. A directory or a link is refused."""
    if target.is_symlink():
        raise UsageError(f"{relative} is a symbolic link", "opsgh init writes only regular files: remove the link")
    if not target.exists():
        return None
    if not target.is_file():
        raise UsageError(f"{relative} exists and is not a file", "move it away, then re-run opsgh init")
    try:
        return target.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {relative}: {exc.strerror or exc}", "check the file's permissions") from None


def _diff(relative: str, before: str | None, after: str) -> str:
    old = "/dev/null" if before is None else f"a/{relative}"
    lines = difflib.unified_diff((before or "").splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=old, tofile=f"b/{relative}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _write(target: Path, text: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}",
                         "check the directory's permissions, then re-run (files already written are kept)") from None
