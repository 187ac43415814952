"""Hotfixes: commits on the production branch that the staging branch lacks, not back-ported.

The runbook's hotfix path ends with "PR the same commit to main"; a release that ships while a
hotfix is missing from staging ships code staging never ran, and the next release silently drops the
fix. `opsgh release` flags such commits in the Release PR body; this criterion re-checks them at the
head the gate judges. Advisory by default (`gate.hotfixes`): the checklist item the release body adds
for them is what blocks unless the team asks for `required`.

`read_hotfixes` gathers, cheapest first: the Release PR body's opsgh marker when it was rendered from
exactly this base and head (it records how many `opsgh release` found: no request); else, when the
marker is stale (a hotfix landed on production, or staging moved, since the body was written), one
comparison head...base (what production has) and, only when that holds commits besides release
merges, the comparison base...head (the staging side's `cherry-pick -x` trailers), judged by
`opsgh.changelog.find_hotfixes`. A body without opsgh's marker (a hand-written Release PR) is only
compared when the criterion is `required`: the advisory default adds no request to a gate.
`evaluate_hotfixes` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from opsgh.changelog import find_hotfixes
from opsgh.config import Config
from opsgh.gate.verdict import CriterionResult, Outcome
from opsgh.ports import CommitInfo, ComparePage, GitHubPort, PullShipState

KEY = "hotfixes"
TITLE = "Hotfixes back-ported"
MAX_DETAILS = 20


@dataclass(frozen=True, slots=True)
class HotfixesRead:
    """What production has that staging lacks. `skipped`: why nothing was read (not a Release PR)."""

    count: int = 0
    commits: tuple[CommitInfo, ...] = ()  # empty when the count came from the body's marker
    source: Literal["marker", "compare", "none"] = "none"
    skipped: str | None = None


def read_hotfixes(port: GitHubPort, repo: str, config: Config, pull: PullShipState,
                  compared: ComparePage | None = None) -> HotfixesRead:
    """`compared`: the first page of base...head if the gate read it already (its `behind_by` counts
    what production has that staging lacks: zero needs no other request)."""
    # Imported here: opsgh.ops.release (through the re-apply) imports opsgh.ops.gate, which imports this.
    from opsgh.ops.release import Fingerprint

    staging, production = config.branches.staging, config.branches.production
    if (pull.head_ref, pull.base_ref) != (staging, production):
        return HotfixesRead(skipped=f"#{pull.number} is not a Release PR ({staging} -> {production})")
    seen = Fingerprint.parse(pull.body)
    if seen is not None and seen.hotfixes is not None and (seen.base, seen.head) == (pull.base_sha, pull.head_sha):
        return HotfixesRead(seen.hotfixes, source="marker")
    if compared is not None and compared.behind_by == 0:
        return HotfixesRead(source="compare")
    if (seen is None or seen.hotfixes is None) and config.gate.hotfixes != "required":
        # A Release PR body not written by `opsgh release`: the default costs no request.
        return HotfixesRead(skipped="the Release PR body has no opsgh marker to read them from (`opsgh release` "
                                    "writes one; `gate.hotfixes: required` compares the branches instead)")
    prod_only: list[CommitInfo] = []
    for page in port.compare(repo, pull.head_sha, pull.base_sha):
        prod_only.extend(page.commits)
    if not any(len(c.parents) <= 1 for c in prod_only):
        return HotfixesRead(source="compare")  # only release merges: nothing to look up on the staging side
    main_only: list[CommitInfo] = []
    for page in port.compare(repo, pull.base_sha, pull.head_sha):
        main_only.extend(page.commits)
    found = find_hotfixes(prod_only, main_only).commits
    return HotfixesRead(len(found), found, "compare")


def evaluate_hotfixes(mode: str, read: HotfixesRead | None, *, production: str = "prod", staging: str = "main",
                      advisory: bool = False) -> CriterionResult:
    blocking = not advisory
    if mode == "off" or read is None:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, "`gate.hotfixes` is off", blocking=blocking)
    if read.skipped:
        return CriterionResult(KEY, TITLE, Outcome.SKIP, read.skipped, blocking=blocking)
    if read.count == 0:
        return CriterionResult(KEY, TITLE, Outcome.PASS, f"{staging} has every hotfix on {production}",
                               blocking=blocking)
    many = "commit" if read.count == 1 else "commits"
    details = tuple(f"`{c.sha[:7]}` {c.subject}" for c in read.commits[:MAX_DETAILS])
    if len(read.commits) > MAX_DETAILS:
        details += (f"… and {len(read.commits) - MAX_DETAILS} more",)
    where = " (from the Release PR body, current)" if read.source == "marker" else ""
    return CriterionResult(KEY, TITLE, Outcome.FAIL, f"{read.count} {many} on {production} that {staging} lacks"
                           f"{where}: back-port with `opsgh backport <PR>`", details, blocking=blocking)
