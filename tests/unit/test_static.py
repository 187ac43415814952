"""Static checks as part of the test command: ruff, mypy (strict on opsgh/), zizmor and the official
JSON schemas on action.yml and every workflow we ship."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
