"""`opsgh ship` with `release.versioning: semver`, end to end against the sandbox.

Two releases in a row: the first bumps from the newest version tag (or starts at
`release.initial_version`), the second, with fixes only, bumps the patch. With `opsgh release`
writing the Release PR (the bump recorded in its marker) and with a hand-written body (the bump read
from the changelog's headings).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ship_support import ReleaseRepo

from opsgh.clock import FakeClock
from opsgh.errors import Conflict
from opsgh.ops.release import Fingerprint, release
from opsgh.sandbox import Sandbox

SEMVER = """\
branches: {staging: main, production: prod}
release: {title: "Release {date}", versioning: semver, timezone: America/New_York}
ops_log: {issue: Ops Log}
# what ship itself is tested for: checks and mergeability (approvals and the checklist: tests/ops/test_gate.py)
gate: {approvals: {min: 0}, checklist: "off"}
"""

BODY = """\
## Release

<!-- opsgh:changelog:start -->
### Changelog

#### {heading}

- {line} #{n}
<!-- opsgh:changelog:end -->
"""


@pytest.fixture
def shop(sandbox: Sandbox, sandbox_clock: FakeClock) -> Iterator[ReleaseRepo]:
    repo = ReleaseRepo(sandbox, sandbox_clock, config=SEMVER)
    yield repo
    repo.close()


def tag(shop: ReleaseRepo, name: str, sha: str) -> None:
    shop.call("POST", "/git/refs", {"ref": f"refs/tags/{name}", "sha": sha}, expect=201)


def release_and_ship(shop: ReleaseRepo, *subjects: str) -> str:
    """Push `subjects` to main, let `opsgh release` open the Release PR, CI green, ship; the tag."""
    for index, subject in enumerate(subjects):
        shop.push({f"app/change{shop.tip('main')[:7]}{index}.py": f"# {subject}\n"}, subject)
    opened = release(shop.gateway(), shop.full_name, shop.config, shop.clock)
    assert opened.action == "created"
    shop.report("success")
    result = shop.ship()
    assert result.tag is not None
    assert shop.git("rev-parse", f"refs/tags/{result.tag}") == shop.tip("prod") == result.merge_sha
    assert shop.call("GET", f"/releases/tags/{result.tag}")["name"] == result.tag
    return result.tag


def test_a_feature_bumps_the_minor_then_a_fix_bumps_the_patch(shop: ReleaseRepo) -> None:
    tag(shop, "v1.2.3", shop.first)
    tag(shop, "v1.10.0-rc.1", shop.first)  # a pre-release is not a version to bump from
    tag(shop, "v2027-01-01", shop.first)  # nor is a date tag

    assert release_and_ship(shop, "feat: cart totals include tax", "fix: rounding") == "v1.3.0"
    pull = shop.call("GET", "/pulls", params={"state": "closed", "base": "prod"})[0]
    marker = Fingerprint.parse(pull["body"])
    assert marker is not None
    assert marker.bump == "minor"

    again = shop.ship()  # a re-run reuses the tag on the merge commit
    assert again.tag == "v1.3.0"
    assert "tag" in again.skipped

    assert release_and_ship(shop, "fix: totals round half up") == "v1.3.1"
    tags = shop.git("tag", "--list", "v1.*", "--sort=version:refname").split()
    assert tags == ["v1.2.3", "v1.3.0", "v1.3.1", "v1.10.0-rc.1"]


def test_a_breaking_change_bumps_the_major_but_only_the_minor_in_0x(shop: ReleaseRepo) -> None:
    tag(shop, "v0.4.2", shop.first)
    assert release_and_ship(shop, "feat(api)!: drop the v1 endpoints") == "v0.5.0"
    tag(shop, "v1.0.0", shop.tip("prod"))  # leaving 0.x is a human decision
    assert release_and_ship(shop, "refactor!: rename the config keys") == "v2.0.0"


def test_without_a_version_tag_the_first_is_initial_then_headings_give_the_bump(shop: ReleaseRepo) -> None:
    shop.features("tax")
    first = shop.open_release_pr(body=BODY.format(heading="Features", line="Cart totals include tax", n=1))
    shop.report("success")
    dry = shop.ship(dry_run=True)
    assert dry.tag == "v0.1.0"
    assert "v0.1.0: the first version" in "\n".join(dry.lines())
    shipped = shop.ship()
    assert shipped.tag == "v0.1.0"
    assert shop.git("rev-parse", "refs/tags/v0.1.0") == shop.tip("prod")

    shop.features("rounding")
    second = shop.open_release_pr(body=BODY.format(heading="Bug fixes", line="Totals round half up", n=3))
    shop.report("success")
    assert shop.ship(dry_run=True).tag == "v0.1.1"
    assert shop.ship().tag == "v0.1.1"
    assert shop.git("rev-parse", "refs/tags/v0.1.1") == shop.tip("prod")
    assert first["number"] != second["number"]


def test_a_version_taken_meanwhile_is_an_error_never_a_reuse(shop: ReleaseRepo, sandbox: Sandbox) -> None:
    tag(shop, "v1.2.3", shop.first)
    shop.features("tax")
    shop.open_release_pr(body=BODY.format(heading="Features", line="Cart totals include tax", n=1))
    shop.report("success")
    gateway = shop.gateway()
    listed = gateway.list_tags

    def list_then_race(full_name: str, prefix: str, *, peel: bool = True):  # type: ignore[no-untyped-def]
        found = listed(full_name, prefix, peel=peel)
        if not peel:  # ship has read the versions: someone tags v1.3.0 elsewhere before it creates it
            tag(shop, "v1.3.0", shop.first)
        return found

    gateway.list_tags = list_then_race  # type: ignore[method-assign]
    with pytest.raises(Conflict, match=r"v1\.3\.0 .* never given to two commits") as info:
        shop.ship(gateway=gateway)
    assert "Re-run `opsgh ship`" in str(info.value.hint)
    assert shop.git("rev-parse", "refs/tags/v1.3.0") == shop.first
    assert shop.ship().tag == "v1.4.0"  # the re-run bumps from the tag that won
