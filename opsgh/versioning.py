"""Semantic versions for `release.versioning: semver`: the bump a release needs and the tag it gets.

The bump comes from the release's changes as the changelog groups them (changelog.classify: labels,
then the conventional-commit type; `!`, `BREAKING CHANGE` or a breaking label is breaking):

- a breaking change bumps the major, except while the major is 0: then it bumps the minor (the
  semver convention for 0.x, where anything may change; leaving 0.x is a human decision: tag 1.0.0);
- a feature bumps the minor;
- anything else (fixes, chores, direct pushes) bumps the patch.

`opsgh release` records the level in the Release PR's hidden marker (`bump=minor`), computed from the
whole changelog, before any cut; `opsgh ship` reads it back, and falls back to the changelog's
headings for a body written before (or without) the marker.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from opsgh.changelog import GROUPS, Changelog
from opsgh.ports import TagRef

__all__ = [
    "BUMP_LEVELS",
    "BumpLevel",
    "Version",
    "VersionChoice",
    "bump_level",
    "bump_level_of_text",
    "choose_version",
    "tag_prefix",
]

BumpLevel = Literal["major", "minor", "patch"]
BUMP_LEVELS: tuple[BumpLevel, ...] = ("major", "minor", "patch")
VERSION_FIELD = "{version}"

_NUMBER = r"(0|[1-9][0-9]*)"
_VERSION = re.compile(rf"{_NUMBER}\.{_NUMBER}\.{_NUMBER}")
_TITLES = {group.key: group.title for group in GROUPS}


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """MAJOR.MINOR.PATCH; pre-release and build suffixes are not versions opsgh makes or bumps from."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version | None:
        found = _VERSION.fullmatch(text)
        return cls(int(found[1]), int(found[2]), int(found[3])) if found else None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def bump(self, level: BumpLevel) -> Version:
        if level == "major" and self.major > 0:
            return Version(self.major + 1, 0, 0)
        if level in ("major", "minor"):  # a breaking change in 0.x bumps the minor
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)


def bump_level(changelog: Changelog) -> BumpLevel:
    """The bump for a release with these changes (pass the whole changelog, not a cut one)."""
    groups = {entry.group for entry in (*changelog.pulls, *changelog.direct_pushes)}
    if "breaking" in groups:
        return "major"
    return "minor" if "feat" in groups else "patch"


def bump_level_of_text(changelog_text: str) -> BumpLevel:
    """The bump read from a rendered changelog's headings (a body without the marker's `bump=`)."""
    headings = {match.strip().lower() for match in re.findall(r"^#{1,6}\s+(.+)$", changelog_text, re.MULTILINE)}
    if _TITLES["breaking"].lower() in headings:
        return "major"
    return "minor" if _TITLES["feat"].lower() in headings else "patch"


def tag_prefix(template: str) -> str:
    """What every tag of a `{version}` template starts with (the refs to list)."""
    return template.split(VERSION_FIELD, 1)[0]


def _versions(template: str, tags: Iterable[TagRef]) -> list[tuple[Version, TagRef]]:
    before, _, after = template.partition(VERSION_FIELD)
    found = []
    for tag in tags:
        if tag.name.startswith(before) and tag.name.endswith(after) and len(tag.name) > len(before) + len(after):
            version = Version.parse(tag.name[len(before):len(tag.name) - len(after)])
            if version is not None:
                found.append((version, tag))
    return found


@dataclass(frozen=True, slots=True)
class VersionChoice:
    """The tag for a release: `found` when a version tag already points at the merge commit."""

    tag: str
    version: Version
    found: bool
    previous: str | None  # the newest version tag before it (None: the first version)
    level: BumpLevel

    def describe(self) -> str:
        if self.previous is None:
            return f"{self.tag}: the first version (release.initial_version)"
        return f"{self.tag}: {self.level} bump from {self.previous}"


def choose_version(template: str, tags: Iterable[TagRef], merge_sha: str, level: BumpLevel,
                   initial: str) -> VersionChoice:
    """The version tag of the release merged as `merge_sha`, among the repository's `tags`.

    A version tag on the merge commit is reused (a re-run). Otherwise the newest version bumped by
    `level`, or `initial` when there is none; it is above every version tag, so it is new.
    """
    versions = _versions(template, tags)
    ours = sorted(version for version, tag in versions if merge_sha and tag.commit_sha == merge_sha)
    newest = max(versions, key=lambda pair: pair[0]) if versions else None
    if ours:
        version = ours[-1]
        earlier = [v for v, _ in versions if v < version]
        previous = template.replace(VERSION_FIELD, str(max(earlier))) if earlier else None
        return VersionChoice(template.replace(VERSION_FIELD, str(version)), version, True, previous, level)
    if newest is None:
        first = Version.parse(initial)
        if first is None:
            raise ValueError(f"release.initial_version {initial!r} is not MAJOR.MINOR.PATCH")
        return VersionChoice(template.replace(VERSION_FIELD, str(first)), first, False, None, level)
    version = newest[0].bump(level)
    return VersionChoice(template.replace(VERSION_FIELD, str(version)), version, False, newest[1].name, level)
