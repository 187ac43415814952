"""Migrations: destructive statements in the migration files the release changes are allowed only
with `allow_label` on the PR; `require_down` wants a down (rollback) migration next to each new one.
The detection is `opsgh.risk`'s, the same the release PR body flags."""

from __future__ import annotations

from collections.abc import Sequence

from opsgh.config import MigrationsConfig
from opsgh.gate.verdict import CriterionResult, Outcome
from opsgh.ports import FileChange
from opsgh.risk import assess

KEY = "migrations"
TITLE = "Migrations"


def evaluate_migrations(config: MigrationsConfig, files: Sequence[FileChange], labels: Sequence[str], *,
                        files_complete: bool = True, advisory: bool = False) -> CriterionResult:
    """`files`: what the release changes (compare base...head); `labels`: the PR's labels."""
    blocking = not advisory
    if not config.paths:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "no `gate.migrations.paths` configured", blocking=blocking)
    report = assess(files, files_complete=files_complete, migration_paths=config.paths,
                    allow_label=config.allow_label, require_down=config.require_down)
    flags = {flag.key: flag for flag in report.flags}
    problems: list[str] = []
    notes: list[str] = []
    details: list[str] = []
    destructive = flags.get("destructive-migration")
    if destructive is not None:
        details += [f"{item.ref}: {item.text} `{item.snippet or ''}`" for item in destructive.items]
        allowed = config.allow_label is not None and config.allow_label.lower() in {x.lower() for x in labels}
        count = len(destructive.items) + destructive.more
        if allowed:
            notes.append(f"{count} destructive statement(s) allowed by the label {config.allow_label!r}")
        else:
            how = f"add the label {config.allow_label!r} to allow them" if config.allow_label else \
                "no `allow_label` configured: split the change (expand/contract)"
            problems.append(f"{count} destructive statement(s) in migrations; {how}")
    missing = flags.get("missing-down-migration")
    if missing is not None:
        details += [f"{item.ref}: no down migration" for item in missing.items]
        problems.append(f"{len(missing.items) + missing.more} migration(s) without a down migration")
    if not files_complete:
        notes.append("GitHub listed only part of the changed files: migrations beyond were not read")
    if problems:
        return CriterionResult(KEY, TITLE, Outcome.FAIL, "; ".join(problems + notes), tuple(details),
                               blocking=blocking)
    changed = flags.get("migration")
    if changed is None:
        return CriterionResult(KEY, TITLE, Outcome.PASS, "no migration changed" + (
            f" ({notes[0]})" if notes else ""), blocking=blocking)
    summary = "; ".join(notes) if notes else f"{len(changed.items) + changed.more} migration file(s) changed"
    return CriterionResult(KEY, TITLE, Outcome.PASS, summary, tuple(details), blocking=blocking)
