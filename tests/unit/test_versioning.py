"""Semantic versions: the bump rules, the tag chosen among existing ones, the marker, the configuration."""

from __future__ import annotations

import pytest

from opsgh.changelog import build_changelog
from opsgh.config import load_config
from opsgh.errors import ConfigError
from opsgh.ops.release import Fingerprint
from opsgh.ports import CommitInfo, TagRef
from opsgh.versioning import Version, bump_level, bump_level_of_text, choose_version

MERGE = "m" * 40
OTHER = "o" * 40


def _commits(*subjects: str) -> list[CommitInfo]:
    commits, parent = [], "0" * 40
    for index, subject in enumerate(subjects):
        sha = f"{index + 1:040x}"
        commits.append(CommitInfo(sha=sha, message=subject, author_name="Bob", author_login="bob",
                                  committer_name="Bob", committer_email="bob@example.com",
                                  committed_at="2027-01-15T08:00:00Z", parents=(parent,),
                                  html_url=f"https://github.test/acme/shop/commit/{sha}"))
        parent = sha
    return commits


@pytest.mark.parametrize(("start", "level", "expected"), [
    ("1.2.3", "major", "2.0.0"),
    ("1.2.3", "minor", "1.3.0"),
    ("1.2.3", "patch", "1.2.4"),
    ("0.4.2", "major", "0.5.0"),  # 0.x: a breaking change bumps the minor
    ("0.4.2", "minor", "0.5.0"),
    ("0.4.2", "patch", "0.4.3"),
])
def test_bump_rules(start: str, level: str, expected: str) -> None:
    version = Version.parse(start)
    assert version is not None
    assert str(version.bump(level)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-rc.1", "v1.2.3", "1.2.3.4", ""])
def test_only_plain_versions_parse(text: str) -> None:
    assert Version.parse(text) is None


def test_versions_compare_as_numbers_not_text() -> None:
    assert Version.parse("1.10.0") > Version.parse("1.9.9")  # type: ignore[operator]


@pytest.mark.parametrize(("subjects", "expected"), [
    (("fix: rounding", "docs: readme"), "patch"),
    (("fix: rounding", "feat(cart): tax"), "minor"),
    (("feat: tax", "fix!: totals change sign"), "major"),
    (("chore: bump", "Drop Python 3.10 BREAKING CHANGE"), "major"),
    (("Add the tax line",), "patch"),
])
def test_the_bump_of_a_changelog(subjects: tuple[str, ...], expected: str) -> None:
    assert bump_level(build_changelog(_commits(*subjects), [])) == expected


def test_the_bump_of_a_rendered_changelog_comes_from_its_headings() -> None:
    assert bump_level_of_text("### Changelog\n\n#### Bug fixes\n\n- x #1\n") == "patch"
    assert bump_level_of_text("#### Features\n\n- x #1\n#### Bug fixes\n- y #2\n") == "minor"
    assert bump_level_of_text("#### Breaking changes\n- x #1\n#### Features\n- y #2\n") == "major"
    assert bump_level_of_text("- feat: a line is not a heading\n") == "patch"


def test_the_newest_version_is_bumped_and_other_tags_are_ignored() -> None:
    tags = [TagRef("v1.2.3", OTHER), TagRef("v1.10.0", OTHER), TagRef("v1.9.0", OTHER),
            TagRef("v2.0.0-rc.1", OTHER), TagRef("v2027-01-15", OTHER), TagRef("vx1.0.0", OTHER)]
    choice = choose_version("v{version}", tags, MERGE, "minor", "0.1.0")
    assert (choice.tag, choice.found, choice.previous) == ("v1.11.0", False, "v1.10.0")
    assert choice.describe() == "v1.11.0: minor bump from v1.10.0"


def test_a_version_on_the_merge_commit_is_reused() -> None:
    tags = [TagRef("v1.2.3", OTHER), TagRef("v1.3.0", MERGE)]
    choice = choose_version("v{version}", tags, MERGE, "minor", "0.1.0")
    assert (choice.tag, choice.found, choice.previous) == ("v1.3.0", True, "v1.2.3")


def test_without_a_version_the_initial_one_is_used_as_is() -> None:
    choice = choose_version("release-{version}", [TagRef("v1.2.3", OTHER)], MERGE, "major", "1.0.0")
    assert (choice.tag, choice.found, choice.previous) == ("release-1.0.0", False, None)


def test_a_template_with_a_suffix() -> None:
    tags = [TagRef("app-1.2.3-prod", OTHER), TagRef("app-1.4.0", OTHER)]
    assert choose_version("app-{version}-prod", tags, MERGE, "patch", "0.1.0").tag == "app-1.2.4-prod"


def test_the_marker_records_the_bump_and_old_markers_still_parse() -> None:
    marked = Fingerprint("a" * 40, "b" * 40, "c" * 40, 3, 0, "0123456789abcdef", "minor")
    assert "bump=minor" in marked.marker()
    assert Fingerprint.parse(marked.marker()) == marked
    plain = Fingerprint("a" * 40, "b" * 40, "c" * 40, 3, 0, "0123456789abcdef")
    assert "bump" not in plain.marker()
    assert Fingerprint.parse(plain.marker()) == plain
    assert Fingerprint.parse(marked.marker().replace("bump=minor", "bump=huge")) == plain


# ----------------------------------------------------------------------------- configuration


def test_semver_defaults_the_tag_to_v_version() -> None:
    release = load_config("release:\n  versioning: semver\n").release
    assert (release.tag, release.initial_version) == ("v{version}", "0.1.0")
    assert load_config("release:\n  versioning: semver\n  tag: null\n").release.tag is None
    assert load_config("release:\n  versioning: semver\n  tag: 'app-{version}'\n").release.tag == "app-{version}"
    assert load_config("").release.versioning == "date"
    assert load_config("").release.tag == "v{date}"


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("release:\n  versioning: semver\n  tag: 'v{date}'\n", 3, "must contain {version} once"),
    ("release:\n  versioning: semver\n  tag: 'v{version}-{sha}'\n", 3, "no {date} or {sha}"),
    ("release:\n  versioning: semver\n  tag: '{version}{version}'\n", 3, "must contain {version} once"),
    ("release:\n  tag: 'v{version}'\n", 2, "needs release.versioning: semver"),
    ("release:\n  versioning: semver\n  initial_version: '1.0'\n", 3, "MAJOR.MINOR.PATCH"),
    ("release:\n  versioning: calver\n", 2, "must be one of date, semver"),
])
def test_semver_configuration_errors(text: str, line: int, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(text)
    assert info.value.line == line
    assert info.value.key_path.startswith("release.")
    assert reason in str(info.value)
    assert "\n" not in str(info.value)
