"""Required checks on the release head: failing (NO-GO), still running or not reported (PENDING)."""

from __future__ import annotations

from collections.abc import Sequence

from opsgh.gate.verdict import CriterionResult, Outcome
from opsgh.ports import CheckContextState

KEY = "checks"
TITLE = "Required checks"


def required_names(checks_config: str | tuple[str, ...], protected: Sequence[str],
                   found: Sequence[CheckContextState]) -> list[str]:
    """What must be green: protection/rulesets' contexts and GitHub's `isRequired`, plus every check on
    the head (`all`) or a configured list."""
    names = list(protected) + [c.name for c in found if c.required]
    if checks_config == "all":
        names += [c.name for c in found]
    elif isinstance(checks_config, tuple):
        names += list(checks_config)
    return list(dict.fromkeys(names))


def evaluate_checks(checks_config: str | tuple[str, ...], protected: Sequence[str],
                    found: Sequence[CheckContextState], head_sha: str, *, advisory: bool = False) -> CriterionResult:
    """`found`: every context on the head (all pages). A name reported twice (a re-run) fails if any
    run failed and waits if any is still running."""
    head = head_sha[:7]
    by_name: dict[str, list[CheckContextState]] = {}
    for check in found:
        by_name.setdefault(check.name, []).append(check)
    required = required_names(checks_config, protected, found)
    failed: list[str] = []
    running: list[str] = []
    missing: list[str] = []
    details: list[str] = []
    for name in required:
        runs = by_name.get(name, [])
        bad = [c for c in runs if c.outcome == "failure"]
        busy = [c for c in runs if c.outcome == "pending"]
        if bad:
            failed.append(name)
            details.append(f"{name}: failed ({bad[0].detail})")
        elif busy:
            running.append(name)
            details.append(f"{name}: still running ({busy[0].detail})")
        elif not runs:
            missing.append(name)
            details.append(f"{name}: has not reported on {head}")
        else:
            details.append(f"{name}: passed")
    details += [f"{name}: failed (not required)" for name, runs in by_name.items()
                if name not in required and any(c.outcome == "failure" for c in runs)]
    total = len(required)
    green = total - len(failed) - len(running) - len(missing)
    details.insert(0, f"{green} of {total} required checks passed on {head}")
    details_by_name = dict(zip(required, details[1:], strict=False))
    if failed:
        outcome = Outcome.FAIL
        summary = "; ".join(f"required check {name!r} failed on {head} ({_detail(details_by_name[name])})"
                            for name in failed)
    elif running or missing:
        outcome = Outcome.PENDING
        summary = "; ".join([f"required check {name!r} is still running on {head} "
                             f"({_detail(details_by_name[name])})" for name in running]
                            + [f"required check {name!r} has not reported on {head} yet" for name in missing])
    elif not required:
        outcome, summary = Outcome.PASS, "no check is required"
    else:
        outcome, summary = Outcome.PASS, f"all {total} required checks passed on {head}"
    return CriterionResult(KEY, TITLE, outcome, summary, tuple(details), blocking=not advisory)


def _detail(line: str) -> str:
    """GitHub's words from a details line: "ci: failed (completed/failure)" -> "completed/failure"."""
    return line[line.rfind("(") + 1:-1] if line.endswith(")") else line


def passed_names(checks_config: str | tuple[str, ...], protected: Sequence[str],
                 found: Sequence[CheckContextState]) -> list[str]:
    """The required checks that are green (reported, none failed or still running)."""
    outcomes: dict[str, set[str]] = {}
    for check in found:
        outcomes.setdefault(check.name, set()).add(check.outcome)
    return [name for name in required_names(checks_config, protected, found)
            if outcomes.get(name, set()) == {"success"}]
