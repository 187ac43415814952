"""Local git, through the git command line (subprocess)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from opsgh.errors import UsageError


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
