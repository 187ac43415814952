"""Consistency checks of `protection:` before any call to GitHub, and of required checks against the
workflows of a repository.

Contradictions that make the branch model impossible are configuration errors raised when the file is
loaded (`opsgh.config`: linear history on the production branch, settings of the other back end,
conversation resolution in a ruleset without a pull request rule). What is legal but probably not meant
is a warning here: the run goes on and the plan shows it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping

from opsgh.config import Config, ProtectionRule

# GitHub Actions' App id: a check pinned to it must come from a workflow.
ACTIONS_APP_ID = 15368
WORKFLOW_DIR = ".github/workflows"
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def config_warnings(config: Config) -> list[str]:
    """Settings that are allowed but work against the branch model, one sentence each."""
    production = config.branches.production
    protection = config.protection
    warnings = []
    if production not in protection:
        warnings.append(f"protection has no rule for the production branch {production}: it is left as it is")
    for branch, rule in protection.items():
        warnings.extend(f"{branch}: {text}" for text in _rule_warnings(rule, production=branch == production))
    return warnings


def _rule_warnings(rule: ProtectionRule, *, production: bool) -> list[str]:
    found = []
    reviews, checks = rule.required_reviews, rule.required_checks
    if production and reviews is None:
        found.append("no required_reviews, so direct pushes are allowed; the branch model changes production only "
                     "through pull requests (count: 0 requires a pull request without approvals)")
    if production and (rule.allow_force_pushes or rule.allow_deletions):
        found.append("force pushes or deletion allowed on the production branch: a mistake rewrites what is live")
    if production and checks is not None and checks.strict:
        found.append("strict required checks on the production branch: the merge commit of each release is not on "
                     "the staging branch, so every release PR will first need production merged back into staging")
    if reviews is not None and reviews.require_last_push_approval and reviews.count == 0:
        found.append("require_last_push_approval with count 0 asks for an approval of the last push while "
                     "requiring none; set count to at least 1")
    if production and rule.restrictions is not None and not any(
            (rule.restrictions.users, rule.restrictions.teams, rule.restrictions.apps)):
        found.append("restrictions name nobody: only administrators may push to or merge into production, "
                     "including release PRs")
    return found


# ----------------------------------------------------------------------------- workflows


def workflow_check_patterns(texts: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(glob patterns of the check run names the workflows produce, files that could not be read).

    A job's check run is named by its `name` (expressions become `*`), else its id; a matrix job without
    an expression in its name adds ` (values)`; a job calling a reusable workflow adds ` / <inner job>`.
    """
    import yaml

    patterns: list[str] = []
    unreadable: list[str] = []
    for filename, text in sorted(texts.items()):
        if not filename.endswith((".yml", ".yaml")):
            continue
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            unreadable.append(filename)
            continue
        jobs = document.get("jobs") if isinstance(document, dict) else None
        if not isinstance(jobs, dict):
            unreadable.append(filename)
            continue
        for job_id, job in jobs.items():
            if not isinstance(job, dict):
                continue
            named = job.get("name")
            name = _EXPRESSION.sub("*", str(named)) if isinstance(named, str) and named.strip() else str(job_id)
            patterns.append(name)
            if isinstance(job.get("strategy"), dict) and "*" not in name:
                patterns.append(f"{name} (*)")
            if "uses" in job:
                patterns.append(f"{name} / *")
    return patterns, unreadable


def produced_by(context: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(context, pattern) for pattern in patterns)


def needs_a_workflow(app_id: int | None) -> bool:
    """Whether a required check with this App pin should come from a workflow (unpinned, any, or Actions)."""
    return app_id is None or app_id in (-1, ACTIONS_APP_ID)
