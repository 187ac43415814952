"""`opsgh ship`'s pure parts: the go/no-go, the changelog, tag names, and the rendered texts (golden files).

Regenerate the golden files after a deliberate template change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_ship_render.py` and review the diff.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from golden_files import check_golden

from opsgh.config import load_config
from opsgh.errors import Conflict
from opsgh.ops.ship import (
    ANNOUNCEMENT_MARKER,
    OPS_LOG_MARKER,
    Evaluation,
    changelog_of,
    choose_tag,
    message_context,
    tag_base,
)
from opsgh.ports import CheckContextState, PullShipState, TagRef
from opsgh.render.ship import render

MERGE = "5d41402abc4b2a76b9719d911017c592ae4f1b2c"
HEAD = "7c4a8d09ca3762af61e59520943dc26494f8941b"
PREVIOUS = "356a192b7913b04c54574d18c28d46e6395428ab"


def pull_state(**changes: object) -> PullShipState:
    values: dict[str, object] = dict(
        number=42, url="https://github.com/acme/shop/pull/42", title="Release 2027-01-15", body="", state="OPEN",
        is_draft=False, head_ref="main", base_ref="prod", head_sha=HEAD, base_sha=PREVIOUS, mergeable="MERGEABLE",
        merge_state_status="CLEAN", review_decision=None, checks=(CheckContextState("ci", "success", "success", True),),
        author="bob", merged_at=None, merged_by=None, merge_commit_sha=None)
    values.update(changes)
    return PullShipState(**values)  # type: ignore[arg-type]



# ----------------------------------------------------------------------------- changelog and tags


def test_the_changelog_is_taken_between_the_markers() -> None:
    body = ("intro\n<!-- opsgh:changelog:start -->\n### Features\n- A (#1)\n\n\n\n- B (#2) <!-- x -->\n"
            "<!-- opsgh:changelog:end -->\n- [ ] checked\n")
    assert changelog_of(body) == "### Features\n- A (#1)\n\n- B (#2)"


def test_without_markers_the_changelog_is_the_body_minus_its_checklist() -> None:
    body = ("## Changes\n- A (#1)\n\n## Pre-deployment checklist\n- [ ] migrations\n- [x] rollback plan\n"
            "note in the checklist\n\n## Risks\n- none\n- [ ] stray task\n")
    assert changelog_of(body) == "## Changes\n- A (#1)\n\n## Risks\n- none"


def test_tag_names_take_a_suffix_for_a_second_release_the_same_day() -> None:
    assert tag_base("v{date}", "2027-01-15", MERGE) == "v2027-01-15"
    assert tag_base("release-{date}-{sha}", "2027-01-15", MERGE) == "release-2027-01-15-5d41402"
    assert choose_tag("v2027-01-15", [], MERGE, unique=False) == ("v2027-01-15", False)
    earlier = [TagRef("v2027-01-15", PREVIOUS), TagRef("v2027-01-150", HEAD), TagRef("v2027-01-15.x", HEAD)]
    assert choose_tag("v2027-01-15", earlier, MERGE, unique=False) == ("v2027-01-15.2", False)
    third = [*earlier, TagRef("v2027-01-15.2", HEAD)]
    assert choose_tag("v2027-01-15", third, MERGE, unique=False) == ("v2027-01-15.3", False)
    assert choose_tag("v2027-01-15", [*third, TagRef("v2027-01-15.3", MERGE)], MERGE, unique=False) == \
        ("v2027-01-15.3", True)


def test_a_unique_tag_name_taken_by_another_commit_is_an_error() -> None:
    with pytest.raises(Conflict, match="already exists and points at 356a192, not at the merge commit 5d41402"):
        choose_tag("v-5d41402", [TagRef("v-5d41402", PREVIOUS)], MERGE, unique=True)


# ----------------------------------------------------------------------------- rendered texts (golden files)


def merged_context() -> dict[str, object]:
    config = load_config("release: {timezone: America/New_York}\n")
    pull = pull_state(state="MERGED", merged_at="2027-01-15T15:04:05Z", merged_by="alice", merge_commit_sha=MERGE,
                      title="Release 2027-01-15 <script>", body="")
    evaluation = Evaluation("GO", HEAD, (), (), ("ci", "lint"))
    when = datetime.fromisoformat("2027-01-15T15:04:05+00:00").astimezone(ZoneInfo("America/New_York"))
    changelog = "### Features\n- Cart totals include tax (#7) @bob\n\n### Fixes\n- Rounding in invoices (#9) @carol"
    return message_context(config, "acme/shop", pull, evaluation, tag="v2027-01-15",
                           release_url="https://github.com/acme/shop/releases/tag/v2027-01-15", deployment_id=17,
                           deployment_state="in_progress", changelog=changelog, when=when,
                           run_url="https://github.com/acme/shop/actions/runs/99")


@pytest.mark.parametrize(("template", "golden", "marker"), [
    ("ship_announcement.md.j2", "ship_announcement.md", ANNOUNCEMENT_MARKER),
    ("ship_ops_log.md.j2", "ship_ops_log.md", OPS_LOG_MARKER),
    ("ship_slack.md.j2", "ship_slack.txt", None),
    ("ship_release_notes.md.j2", "ship_release_notes.md", None),
])
def test_rendered_texts_match_the_golden_files(template: str, golden: str, marker: str | None) -> None:
    context = merged_context()
    if marker:
        context["marker"] = marker.format(sha=MERGE)
    context["slack"] = True
    text = render(template, context)
    check_golden(golden, text)
    assert "<script>" not in text  # people's text cannot open HTML (or spoof a marker)
    if marker:
        assert text.startswith(marker.format(sha=MERGE) + "\n")


def test_a_changelog_too_long_for_a_comment_is_cut_and_says_where_the_rest_is() -> None:
    lines = [f"- Change number {i} with a reasonably long description of what it does (#{i})" for i in range(2000)]
    config = load_config("release: {timezone: America/New_York}\n")
    pull = pull_state(state="MERGED", merged_at="2027-01-15T15:04:05Z", merged_by="alice", merge_commit_sha=MERGE)
    context = message_context(config, "acme/shop", pull, None, tag="v2027-01-15",
                              release_url="https://github.com/acme/shop/releases/tag/v2027-01-15", deployment_id=17,
                              deployment_state="in_progress", changelog="\n".join(lines),
                              when=datetime(2027, 1, 15, tzinfo=ZoneInfo("UTC")), run_url=None)
    text = render("ship_announcement.md.j2", {**context, "marker": ANNOUNCEMENT_MARKER.format(sha=MERGE)})
    assert len(text) <= 65_536
    assert "- Change number 0 " in text
    assert "- Change number 1999 " not in text
    assert ("the changelog is cut here; the full list is in the release notes: "
            "https://github.com/acme/shop/releases/tag/v2027-01-15") in text
    assert "| Go/no-go | merged before this run: not re-evaluated |" in text
