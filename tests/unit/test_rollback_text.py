"""The pure parts of rollback and re-apply: which commits are rollbacks, the revert PR's marker, what the
messages say (and that text from people cannot forge opsgh's hidden markers)."""

from __future__ import annotations

from typing import Any

import pytest

from opsgh.ops.reapply import Rollback, commit_message, pending_rollbacks, reapplied_in
from opsgh.ops.rollback import (
    ANNOUNCEMENT_MARKER,
    POSTMORTEM_MARKER,
    elapsed_text,
    is_revert_of,
    marker_data,
    revert_marker,
)
from opsgh.ports import CommitInfo, PullInfo
from opsgh.render.ship import render

MAIN_TIP, PROD_OLD, RELEASE, ROLLBACK, HOTFIX, HOTFIX_MERGE = (c * 40 for c in "abcdef")


def commit(sha: str, message: str, *parents: str) -> CommitInfo:
    return CommitInfo(sha, message, "Alice", "alice", "GitHub", "noreply@github.com", "2027-01-15T08:00:00Z",
                      parents, f"https://github.example/commit/{sha}")


RELEASE_MERGE = commit(RELEASE, "Merge pull request #11 from acme/main\n\nRelease 2027-01-15", PROD_OLD, MAIN_TIP)
REVERT = commit(ROLLBACK, f'Revert "Release 2027-01-15" (#12)\n\nThis reverts commit {RELEASE}.\n', RELEASE)


def test_a_revert_of_a_release_merge_on_prod_only_is_a_rollback() -> None:
    [found] = pending_rollbacks([RELEASE_MERGE, REVERT])
    assert (found.commit, found.release_merge) == (REVERT, RELEASE_MERGE)
    assert (found.release_pr, found.revert_pr, found.release_title) == (11, 12, "Release 2027-01-15")
    assert found.branch == f"opsgh/reapply-{ROLLBACK[:12]}"


def test_githubs_own_revert_message_counts_too() -> None:
    # GitHub's "Revert" button, merged with a merge commit: the revert commit itself is found.
    revert = commit(ROLLBACK, f'Revert "Merge pull request #11 from acme/main"\n\nThis reverts commit {RELEASE}, '
                    f"reversing\nchanges made to {PROD_OLD}.\n", RELEASE)
    merge = commit(HOTFIX_MERGE, "Merge pull request #12 from acme/revert-11-main", RELEASE, ROLLBACK)
    [found] = pending_rollbacks([RELEASE_MERGE, revert, merge])
    assert found.commit == revert
    assert (found.release_pr, found.revert_pr) == (11, None)


def test_what_is_not_a_rollback() -> None:
    hotfix = commit(HOTFIX, "Fix the tax rate", PROD_OLD)
    # A hotfix branch merged into prod: its second parent is prod-only too, so reverting it is no rollback.
    hotfix_merge = commit(HOTFIX_MERGE, "Merge pull request #9 from acme/hotfix/tax", PROD_OLD, HOTFIX)
    revert_hotfix_merge = commit(ROLLBACK, f"Revert hotfix\n\nThis reverts commit {HOTFIX_MERGE}.", HOTFIX_MERGE)
    revert_hotfix = commit(ROLLBACK, f"Revert hotfix\n\nThis reverts commit {HOTFIX}.", HOTFIX)
    assert pending_rollbacks([hotfix, hotfix_merge, revert_hotfix_merge]) == []
    assert pending_rollbacks([hotfix, revert_hotfix]) == []
    # The release merge is on main already (re-applied): the revert is not prod-only any more.
    assert pending_rollbacks([REVERT]) == []
    # "This reverts commit" quoted in the middle of a line is no revert.
    quoted = commit(ROLLBACK, f"Docs\n\nWe wrote: This reverts commit {RELEASE}.", RELEASE)
    assert pending_rollbacks([RELEASE_MERGE, quoted]) == []


def test_the_re_apply_commit_names_what_it_brings_back() -> None:
    rollback = Rollback(REVERT, RELEASE_MERGE)
    message = commit_message(rollback)
    assert message.startswith('Re-apply "Release 2027-01-15" (#11) after its rollback\n\n')
    assert f"This reverts commit {ROLLBACK}.\n" in message
    [found] = reapplied_in([commit("9" * 40, message, ROLLBACK)])
    assert (found.release_merge_sha, found.release_pr, found.rollback_sha, found.revert_pr) == (
        RELEASE, 11, ROLLBACK, 12)
    assert found.commit_sha == "9" * 40
    assert not found.pending


def test_the_revert_pr_marker_survives_any_reason() -> None:
    reason = 'says "-->" and <!-- opsgh:postmortem release=1 --> \\- ünïcode'
    marker = revert_marker(11, "alice", reason)
    assert marker.count("-->") == 1
    assert marker.endswith(" -->")
    assert "<!-- opsgh:postmortem" not in marker
    assert marker_data(f"Reverts acme/shop#11\n\n{marker}\n") == {"release": 11, "requested_by": "alice",
                                                                  "reason": reason}
    assert marker_data("no marker") == {}
    assert marker_data("<!-- opsgh:rollback {broken -->") == {}


def pull(head: str, body: str | None) -> PullInfo:
    return PullInfo(12, "Revert", body, "open", "https://github.example/pull/12", "alice", head, "b" * 40, "prod",
                    "c" * 40, (), False, "2027-01-15T08:00:00Z", "2027-01-15T08:00:00Z", None, None)


@pytest.mark.parametrize(("head", "body", "expected"), [
    ("revert-11-main", None, True),
    ("revert-11-main-2", "", True),
    ("undo", "Reverts acme/shop#11\n\nBy hand.", True),
    ("undo", "reverts ACME/shop#11", True),
    ("undo", revert_marker(11, None, "x"), True),
    ("revert-110-main", "Reverts acme/shop#110", False),
    ("undo", "Reverts acme/shop#1", False),
    ("undo", "See #11", False),
])
def test_which_pull_request_reverts_the_release(head: str, body: str | None, expected: bool) -> None:
    assert is_revert_of(pull(head, body), "acme/shop", 11) is expected


def context(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "repo": "acme/shop", "staging": "main", "production": "prod", "environment": "production",
        "release_number": 11, "release_url": "https://github.example/pull/11", "release_title": "Release 2027-01-15",
        "reverted_sha": RELEASE, "previous_sha": PROD_OLD, "revert_number": 12,
        "revert_url": "https://github.example/pull/12", "revert_sha": ROLLBACK, "merged": True, "merged_by": "alice",
        "blocked": None, "no_merge": False, "reason": "checkout errors", "requested_by": "alice",
        "release_merged_at": "2027-01-15 03:00 EST", "requested_at": "2027-01-15 03:20 EST",
        "rollback_merged_at": "2027-01-15 03:25 EST", "duration": "25 min", "timezone": "America/New_York",
        "date": "2027-01-15", "deployment_id": 2, "deployment_state": "in_progress", "inactive": [1],
        "postmortem_url": "https://github.example/issues/13", "postmortem_number": 13, "slack": True,
    }
    values.update(changes)
    return values


def test_text_from_people_cannot_forge_a_marker() -> None:
    hostile = "<!-- opsgh:rollback-announcement revert=99 --> [x](javascript:1)"
    for name, marker in (("rollback_announcement.md.j2", ANNOUNCEMENT_MARKER.format(number=12)),
                         ("rollback_postmortem.md.j2", POSTMORTEM_MARKER.format(number=11))):
        text = render(name, {**context(reason=hostile, release_title=hostile, requested_by=hostile),
                             "marker": marker})
        assert text.count("<!--") == 1
        assert "&lt;!-- opsgh:rollback-announcement revert=99 --&gt;" in text


def test_the_announcement_says_where_the_rollback_stands() -> None:
    marker = {"marker": ANNOUNCEMENT_MARKER.format(number=12)}
    done = render("rollback_announcement.md.j2", {**context(), **marker})
    assert "## ✅ Rollback complete: Release PR #11 reverted on `prod`" in done
    assert "| Deployment | `production` #2, in_progress; the release's #1 inactive |" in done
    assert "| Postmortem | #13 |" in done
    held = render("rollback_announcement.md.j2", {**context(merged=False, blocked="revert PR #12 cannot merge into "
                                                            "prod yet: required check 'ci' has not reported"),
                                                  **marker})
    assert "## 🚨 Rollback in progress: Release PR #11" in held
    assert "| Status | **not merged yet**: revert PR #12 cannot merge into prod yet" in held
    assert "Postmortem" not in held
    review = render("rollback_announcement.md.j2", {**context(merged=False, no_merge=True), **marker})
    assert "**open for review** (`--no-merge`)" in review


@pytest.mark.parametrize(("seconds", "text"), [(59, "0 min"), (25 * 60, "25 min"), (3 * 3600 + 60, "3 h 1 min"),
                                               (2 * 86400 + 3600, "2 d 1 h 0 min")])
def testelapsed_texts_read_like_an_incident_report(seconds: int, text: str) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2027, 1, 15, tzinfo=UTC)
    assert elapsed_text(start, start + timedelta(seconds=seconds)) == text
