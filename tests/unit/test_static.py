"""Static checks as part of the test command: ruff, mypy (strict on opsgh/), zizmor and the official
JSON schemas on action.yml and every workflow we ship."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("workflows-templates/*.yml")])

pytestmark = pytest.mark.static


def _tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed: install the test extras (pip install -e '.[test]')"
    return found


def test_ruff_clean() -> None:
    out = subprocess.run([_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_clean() -> None:
    out = subprocess.run([_tool("mypy"), "--cache-dir=/tmp/opsgh-mypy-cache"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_zizmor_clean_on_action_and_workflows() -> None:
    targets = [str(ROOT / "action.yml"), *map(str, WORKFLOWS)]
    out = subprocess.run([_tool("zizmor"), "--offline", "--strict-collection", "--persona", "pedantic",
                          "--no-progress", *targets], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_zizmor_catches_template_injection(tmp_path: Path) -> None:
    # The gate above must be able to fail: an untrusted value interpolated into run: is a finding.
    bad = tmp_path / "action.yml"
    bad.write_text(
        "name: bad\ndescription: bad\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n      run: echo ${{ github.event.issue.title }}\n")
    out = subprocess.run([_tool("zizmor"), "--offline", "--no-progress", str(bad)], capture_output=True, text=True)
    assert out.returncode in range(11, 15), out.stdout + out.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_matches_official_schema(workflow: Path) -> None:
    out = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_action_matches_official_schema() -> None:
    out = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions",
                          str(ROOT / "action.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# ----------------------------------------------------------------------------- zizmor's ignores, justified

# Findings silenced with a `# zizmor: ignore[...]` comment, each for a reason written beside it:
# commands.yml must trigger on issue_comment (slash commands) and checks nothing out; the self-test runs
# the action with `./` after a checkout because act and older GHES runners do not know `$/`.
ALLOWED_IGNORES = {("workflows-templates/commands.yml", "dangerous-triggers"),
                   (".github/workflows/self-test.yml", "self-repository")}


def _zizmor_findings(*targets: str, no_ignores: bool) -> set[tuple[str, str]]:
    args = [_tool("zizmor"), "--offline", "--persona", "pedantic", "--no-progress", "--format", "json"]
    out = subprocess.run([*args, *(["--no-ignores"] if no_ignores else []), *targets],
                         capture_output=True, text=True, cwd=ROOT)
    found = set()
    for finding in json.loads(out.stdout):
        key = finding["locations"][0]["symbolic"]["key"]["Local"]
        found.add((key.get("given_path") or key["verbatim_path"], finding["ident"]))
    return found


def test_zizmor_ignores_are_only_the_justified_ones() -> None:
    targets = ["action.yml", *(str(path.relative_to(ROOT)) for path in WORKFLOWS)]
    assert _zizmor_findings(*targets, no_ignores=True) == ALLOWED_IGNORES


# ----------------------------------------------------------------------------- the rules, structurally

TEMPLATES = ROOT / "workflows-templates"
PACKAGED = ROOT / "opsgh" / "templates" / "workflows"
SHA_REF = re.compile(r"^[0-9a-f]{40}$")
OPSGH_INPUTS_USED = {"command", "token", "config", "dry-run", "args"}


def _yaml(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    if True in doc:  # YAML 1.1 (PyYAML) reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def _triggers(doc: Mapping[str, Any]) -> dict[str, Any]:
    on = doc.get("on")
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def _steps(doc: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if "runs" in doc:
        return [(f"step {index + 1}", step) for index, step in enumerate(doc["runs"].get("steps", []))]
    return [(f"job {job_id} step {index + 1}", step) for job_id, job in doc.get("jobs", {}).items()
            for index, step in enumerate(job.get("steps", []))]


def rule_breaches(text: str) -> list[str]:
    """Every breach of the workflow rules in a workflow or action.yml (empty: all rules hold)."""
    doc = _yaml(text)
    breaches = []
    is_action = "runs" in doc
    triggers = _triggers(doc)
    if not is_action:
        if doc.get("permissions") != {}:
            breaches.append("the top-level permissions are not {}")
        breaches += [f"job {job_id} sets no permissions of its own" for job_id, job in doc["jobs"].items()
                     if "permissions" not in job]
        if "pull_request_target" in triggers:
            breaches.append("triggered by pull_request_target")
        if "concurrency" not in doc and not all("concurrency" in job for job in doc["jobs"].values()):
            breaches.append("no concurrency group")
    for where, step in _steps(doc):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            if not SHA_REF.match(uses.rpartition("@")[2]):
                breaches.append(f"{where}: {uses} is not pinned to a full commit SHA")
            if uses.startswith("actions/checkout@"):
                if (step.get("with") or {}).get("persist-credentials") is not False:
                    breaches.append(f"{where}: checkout without persist-credentials: false")
                if "issue_comment" in triggers:
                    breaches.append(f"{where}: a checkout in a comment-triggered workflow")
            if uses.startswith("actions/create-github-app-token@"):
                given = step.get("with") or {}
                if not any(key.startswith("permission-") for key in given):
                    breaches.append(f"{where}: an App token with every permission of the installation")
                if "owner" in given and "repositories" not in given:
                    breaches.append(f"{where}: an App token for every repository of the owner")
        if "${{" in str(step.get("run", "")):
            breaches.append(f"{where}: an expression inside run:")
    if "issue_comment" in triggers and re.search(r"pull_request\.head|refs/pull/|head_ref", text):
        breaches.append("a comment-triggered workflow refers to the pull request's head")
    return breaches


def test_rule_check_catches_every_breach() -> None:
    # The rules below must be able to fail: a workflow that breaks each of them once.
    bad = """\
on:
  pull_request_target:
  issue_comment:
permissions: write-all
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
      - uses: actions/create-github-app-token@df432ceedc7162793a195dd1713ff69aefc7379e
        with: {owner: acme}
      - run: echo "${{ github.event.comment.body }}"
"""
    found = "\n".join(rule_breaches(bad))
    for expected in ("top-level permissions", "job a sets no permissions", "pull_request_target", "concurrency",
                     "actions/checkout@v4 is not pinned", "persist-credentials", "a checkout in a comment",
                     "every permission", "every repository", "expression inside run:", "pull request's head"):
        assert expected in found, f"{expected!r} not reported in:\n{found}"


@pytest.mark.parametrize("path", [ROOT / "action.yml", *WORKFLOWS], ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_rules_hold(path: Path) -> None:
    assert rule_breaches(path.read_text(encoding="utf-8")) == []


def test_app_tokens_are_explained_where_they_are_minted() -> None:
    # "Where GITHUB_TOKEN cannot do the job", said in a comment right above each token step.
    for path in sorted(TEMPLATES.glob("*.yml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "uses: actions/create-github-app-token@" in line:
                above = "\n".join(lines[max(0, number - 6):number])
                assert re.search(r"# GITHUB_TOKEN (cannot|could)", above), f"{path.name}:{number + 1}: unexplained"


# What each template is for: its triggers, and the `command` input (empty: the action routes the event;
# set: that opsgh command runs whatever the event, e.g. release on a schedule, which routing reads as drift).
TEMPLATE_CONTRACT: dict[str, tuple[set[str], str]] = {
    "release": ({"push", "schedule", "workflow_dispatch"}, "release"),
    "gate": ({"pull_request", "pull_request_review", "check_suite", "status"}, ""),  # routed by the action
    "commands": ({"issue_comment"}, ""),
    "backport": ({"pull_request"}, "backport"),
    "rollback": ({"workflow_dispatch"}, "rollback"),
    "verify": ({"deployment_status", "workflow_dispatch"}, "verify"),
    "protect-drift": ({"schedule", "workflow_dispatch"}, "protect"),
    "protect-org": ({"schedule", "workflow_dispatch"}, "protect"),
}


def _template(name: str) -> dict[str, Any]:
    return _yaml((TEMPLATES / f"{name}.yml").read_text(encoding="utf-8"))


def _opsgh_steps(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [step for _, step in _steps(doc) if str(step.get("uses", "")).startswith("opsgh/opsgh@")]


def test_every_template_has_a_contract() -> None:
    assert {path.stem for path in TEMPLATES.glob("*.yml")} == set(TEMPLATE_CONTRACT)
    assert not list(TEMPLATES.glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(TEMPLATE_CONTRACT))
def test_template_triggers_and_runs_its_command(name: str) -> None:
    triggers, command = TEMPLATE_CONTRACT[name]
    doc = _template(name)
    assert set(_triggers(doc)) == triggers
    steps = _opsgh_steps(doc)
    assert steps, f"{name}.yml never runs the opsgh action"
    action_inputs = set(_yaml((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"])
    assert action_inputs >= OPSGH_INPUTS_USED, "the templates pass inputs action.yml does not declare"
    for step in steps:
        assert set(step["with"]) == OPSGH_INPUTS_USED
        assert step["with"]["command"] == command
        assert step["with"]["token"] == "${{ steps.app-token.outputs.token }}"


def test_template_trigger_details() -> None:
    gate = _triggers(_template("gate"))
    assert gate["pull_request"] == {"branches": ["prod"],
                                    "types": ["opened", "synchronize", "reopened", "ready_for_review"]}
    assert gate["pull_request_review"] == {"types": ["submitted"]}
    assert gate["check_suite"] == {"types": ["completed"]}
    assert _triggers(_template("release"))["push"] == {"branches": ["main"]}
    assert _triggers(_template("commands"))["issue_comment"] == {"types": ["created"]}
    assert _triggers(_template("backport"))["pull_request"] == {"branches": ["prod"], "types": ["closed"]}
    assert _opsgh_steps(_template("backport"))[0]["with"]["args"] == "${{ github.event.pull_request.number }}"
    assert _opsgh_steps(_template("protect-drift"))[0]["with"]["args"] == "check"
    reason = _triggers(_template("rollback"))["workflow_dispatch"]["inputs"]["reason"]
    assert reason["required"] is True
    assert "environment" in _triggers(_template("verify"))["workflow_dispatch"]["inputs"]
    assert _triggers(_template("protect-drift"))["schedule"]


def test_organisation_protection_fans_out_over_repositories() -> None:
    jobs = _template("protect-org")["jobs"]
    fanned = [job for job in jobs.values() if "matrix" in job.get("strategy", {})]
    assert len(fanned) == 1
    strategy = fanned[0]["strategy"]
    assert strategy["matrix"]["repository"] == "${{ fromJSON(needs.repositories.outputs.names) }}"
    assert strategy["fail-fast"] is False
    assert "--repo" in _opsgh_steps({"jobs": {"protect": fanned[0]}})[0]["with"]["args"]


def test_templates_pin_opsgh_to_the_placeholder_of_this_version() -> None:
    from opsgh import __version__
    from opsgh.ops.init import PLACEHOLDER_SHA

    for path in sorted(TEMPLATES.glob("*.yml")):
        pins = re.findall(r"uses: (opsgh/opsgh@\S+.*)", path.read_text(encoding="utf-8"))
        assert pins, path.name
        assert set(pins) == {f"opsgh/opsgh@{PLACEHOLDER_SHA} # v{__version__}"}, path.name


def test_packaged_templates_are_the_repository_templates() -> None:
    # workflows-templates/ is the source; the package carries copies so `pip install opsgh` has them.
    sources = {path.name: path.read_bytes() for path in TEMPLATES.glob("*.yml")}
    packaged = {path.name: path.read_bytes() for path in PACKAGED.glob("*.yml")}
    stale = sorted(name for name in sources.keys() | packaged.keys() if sources.get(name) != packaged.get(name))
    assert not stale, f"{stale} differ: cp workflows-templates/*.yml opsgh/templates/workflows/ (and delete extras)"


def test_package_data_ships_the_templates() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["opsgh"]
    package = ROOT / "opsgh"
    files = [path.relative_to(package) for path in (package / "templates").rglob("*") if path.is_file()]
    assert files
    unshipped = [str(path) for path in files if not any(path.match(pattern) and len(path.parts) ==
                                                         len(Path(pattern).parts) for pattern in package_data)]
    assert not unshipped, f"not in [tool.setuptools.package-data]: {unshipped}"


def test_self_test_runs_the_action_from_the_checkout_and_expects_a_failure() -> None:
    doc = _yaml((ROOT / ".github" / "workflows" / "self-test.yml").read_text(encoding="utf-8"))
    (job,) = doc["jobs"].values()
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    local = [step for step in steps if step.get("uses") == "./"]
    assert len(local) >= 2
    failing = [step for step in local if step.get("continue-on-error") is True]
    assert len(failing) == 1
    check = steps[-1]
    assert f"steps.{failing[0]['id']}.outcome" in str(check["env"])
    assert "failure" in check["run"]
