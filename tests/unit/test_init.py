"""`opsgh init` in throwaway git repositories: what lands on disk, the diff it shows, what it refuses."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from opsgh.cli import run
from opsgh.config import config_as_dict, default_config, load_config_file
from opsgh.errors import ExitCode
from opsgh.ops.init import DEFAULT_TEMPLATES, PLACEHOLDER_SHA, TEMPLATE_DIR, WORKFLOW_TEMPLATE_DIR

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh repository; the test runs in a subdirectory of it (init must find the top)."""
    top = tmp_path / "shop"
    subprocess.run(["git", "init", "--quiet", str(top)], check=True)
    (top / "src").mkdir()
    monkeypatch.chdir(top / "src")
    return top


def _init(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["init", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _files(top: Path) -> dict[str, str]:
    """Every file under .github, path -> text."""
    return {str(path.relative_to(top)): path.read_text(encoding="utf-8")
            for path in sorted((top / ".github").rglob("*")) if path.is_file()}


def test_writes_the_configuration_and_the_default_workflows_at_the_top(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _init(capsys)
    assert (code, err) == (0, "")
    expected = {".github/opsgh.yml", *(f".github/workflows/{name}.yml" for name in DEFAULT_TEMPLATES)}
    assert set(_files(repo)) == expected
    assert not (repo / "src" / ".github").exists()
    for name in DEFAULT_TEMPLATES:
        written = (repo / ".github" / "workflows" / f"{name}.yml").read_text(encoding="utf-8")
        assert written == (ROOT / "workflows-templates" / f"{name}.yml").read_text(encoding="utf-8")
        assert f"--- /dev/null\n+++ b/.github/workflows/{name}.yml\n" in out
        assert f"  created  .github/workflows/{name}.yml" in out
    assert "protect-org" not in out  # organisation-wide: only with --all or by name
    assert "+  production: prod\n" in out  # the diff shows the lines written
    assert "next: commit and push" in out
    assert f"placeholder commit {PLACEHOLDER_SHA[:12]}" in out


def test_the_starter_configuration_is_valid_and_spells_out_the_defaults(repo: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys, "--templates", "none")[0] == ExitCode.OK
    written = load_config_file(repo / ".github" / "opsgh.yml")
    assert run(["config", "validate", "--file", str(repo / ".github" / "opsgh.yml")]) == ExitCode.OK
    starter, defaults = config_as_dict(written), config_as_dict(default_config())
    assert set(starter.pop("protection")) == {"main", "prod"}
    defaults.pop("protection")
    assert starter == defaults  # apart from protection, nothing behaves differently from no file at all
    assert written.protection["prod"].required_linear_history is False  # releases are merge commits
    assert written.protection["prod"].required_reviews is not None


def test_running_again_changes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys)[0] == ExitCode.OK
    written = list((repo / ".github").rglob("*.yml"))
    for path in written:
        os.utime(path, (1_000_000_000, 1_000_000_000))  # any rewrite would make it "now"
    code, out, _ = _init(capsys)
    assert code == ExitCode.OK
    assert "+++" not in out  # no diff: nothing to write
    assert out.count("  unchanged  ") == len(DEFAULT_TEMPLATES) + 1
    assert {path.stat().st_mtime for path in written} == {1_000_000_000}  # not even rewritten
    assert "next:" not in out


def test_a_differing_file_is_never_overwritten_and_then_nothing_is_written(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys, "--templates", "gate")[0] == ExitCode.OK
    gate = repo / ".github" / "workflows" / "gate.yml"
    gate.write_text(gate.read_text(encoding="utf-8").replace("timeout-minutes: 15", "timeout-minutes: 5"),
                    encoding="utf-8")
    mine = gate.read_text(encoding="utf-8")
    code, out, err = _init(capsys, "--templates", "gate,release")
    assert code == ExitCode.PRECONDITION
    assert err.splitlines() == [
        "error: 1 file differs from the template: .github/workflows/gate.yml; nothing was written",
        "hint: review the diff above; re-run with --force to overwrite, or leave them out with --templates"]
    assert "--- a/.github/workflows/gate.yml\n+++ b/.github/workflows/gate.yml\n" in out
    assert "-    timeout-minutes: 5\n+    timeout-minutes: 15\n" in out
    assert "  differs       .github/workflows/gate.yml (--force overwrites it)" in out
    assert "  would create  .github/workflows/release.yml" in out
    assert gate.read_text(encoding="utf-8") == mine
    assert not (repo / ".github" / "workflows" / "release.yml").exists()  # all or nothing


def test_force_overwrites_what_differs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = repo / ".github" / "opsgh.yml"
    config.parent.mkdir()
    config.write_text("branches: {staging: develop}\n", encoding="utf-8")
    code, out, _ = _init(capsys, "--templates", "none", "--force")
    assert code == ExitCode.OK
    assert "-branches: {staging: develop}\n" in out
    assert "  overwritten  .github/opsgh.yml" in out
    assert config.read_text(encoding="utf-8") == (TEMPLATE_DIR / "opsgh.yml").read_text(encoding="utf-8")


def test_dry_run_shows_the_diff_and_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _init(capsys, "--dry-run", "--templates", "release")
    assert code == ExitCode.OK
    assert out.startswith("--- /dev/null\n+++ b/.github/opsgh.yml\n")
    assert "dry run, nothing written, in " in out
    assert "  would create  .github/workflows/release.yml" in out
    assert not (repo / ".github").exists()


def test_dry_run_reports_the_refusal_the_real_run_would_make(repo: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = repo / ".github" / "opsgh.yml"
    config.parent.mkdir()
    config.write_text("gate: {checklist: off}\n", encoding="utf-8")
    code, _, err = _init(capsys, "--dry-run", "--templates", "none")
    assert code == ExitCode.PRECONDITION
    assert "differs from the template: .github/opsgh.yml" in err
    assert config.read_text(encoding="utf-8") == "gate: {checklist: off}\n"


@pytest.mark.parametrize(("args", "workflows"), [
    (("--templates", "release,gate.yml"), {"release", "gate"}),
    (("--templates", " commands , commands,"), {"commands"}),
    (("--templates", "none"), set()),
    (("--all",), {path.stem for path in WORKFLOW_TEMPLATE_DIR.glob("*.yml")}),
])
def test_the_chosen_templates(repo: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                              workflows: set[str]) -> None:
    assert _init(capsys, *args)[0] == ExitCode.OK
    written = {Path(path).stem for path in _files(repo) if path.startswith(".github/workflows/")}
    assert written == workflows
    assert (repo / ".github" / "opsgh.yml").is_file()


def test_all_includes_the_organisation_workflow(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys, "--all")[0] == ExitCode.OK
    assert (repo / ".github" / "workflows" / "protect-org.yml").is_file()


@pytest.mark.parametrize(("args", "message", "hint"), [
    (("--templates", "release,deploy"), "error: unknown template 'deploy'", "hint: choose from backport, commands"),
    (("--templates", ","), "error: --templates names no template", "hint: choose from"),
    (("--all", "--templates", "gate"), "error: --all and --templates cannot be used together", "hint: pass --all"),
    (("--action-sha", "v1.2.3"), "error: --action-sha 'v1.2.3' is not a full commit SHA",
     "hint: pass the 40-hex commit of the opsgh/opsgh release tag v"),
    (("--action-sha", SHA[:12]), "is not a full commit SHA", "tags and branches can be moved"),
])
def test_bad_arguments_write_nothing(repo: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                     message: str, hint: str) -> None:
    code, out, err = _init(capsys, *args)
    assert code == ExitCode.USAGE
    first, second = err.splitlines()
    assert first.startswith("error: ")
    assert message in first
    assert second.startswith("hint: ")
    assert hint in second
    assert out == ""
    assert not (repo / ".github").exists()


def test_action_sha_pins_every_workflow(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys, "--all", "--action-sha", SHA.upper())[0] == ExitCode.OK
    for path, text in _files(repo).items():
        if path.startswith(".github/workflows/"):
            assert f"uses: opsgh/opsgh@{SHA} # v" in text, path
            assert PLACEHOLDER_SHA not in text, path
    # Re-pinning files written with the placeholder is a change: shown, and only with --force.
    assert _init(capsys, "--templates", "gate")[0] == ExitCode.PRECONDITION


def test_json_lists_each_file_with_its_action_and_diff(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _init(capsys, "--templates", "gate")[0] == ExitCode.OK
    code, out, _ = _init(capsys, "--templates", "gate,verify", "--json")
    assert code == ExitCode.OK
    data = json.loads(out)
    assert [(entry["path"], entry["action"]) for entry in data["files"]] == [
        (".github/opsgh.yml", "unchanged"), (".github/workflows/gate.yml", "unchanged"),
        (".github/workflows/verify.yml", "create")]
    assert data["files"][2]["diff"].startswith("--- /dev/null\n+++ b/.github/workflows/verify.yml\n")
    assert data["templates"] == ["gate", "verify"]
    assert data["action_sha"] == PLACEHOLDER_SHA
    assert data["root"] == str(repo.resolve())


def test_outside_a_git_work_tree_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # never find a repository above
    code, _, err = _init(capsys)
    assert code == ExitCode.USAGE
    assert err.splitlines() == [f"error: {tmp_path.resolve()} is not inside a git work tree",
                                "hint: run this in a clone of the repository (or `git init` a new one first)"]
    assert not (tmp_path / ".github").exists()


def test_a_symbolic_link_is_not_written_through(repo: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / ".github").mkdir()
    (repo / ".github" / "workflows").symlink_to(outside, target_is_directory=True)
    code, _, err = _init(capsys, "--templates", "gate")
    assert code == ExitCode.USAGE
    assert "error: .github/workflows/gate.yml leads outside the repository" in err
    assert list(outside.iterdir()) == []
    assert not (repo / ".github" / "opsgh.yml").exists()


def test_a_directory_in_the_way_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".github" / "workflows" / "gate.yml").mkdir(parents=True)
    code, _, err = _init(capsys, "--templates", "gate")
    assert code == ExitCode.USAGE
    assert "error: .github/workflows/gate.yml exists and is not a file" in err
    assert not (repo / ".github" / "opsgh.yml").exists()


def test_dir_names_the_repository_from_elsewhere(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = _init(capsys, "--dir", str(repo / "src"), "--templates", "release")
    assert code == ExitCode.OK
    assert set(_files(repo)) == {".github/opsgh.yml", ".github/workflows/release.yml"}
    assert not (elsewhere / ".github").exists()
    assert f"in {repo.resolve()}:" in out


def test_help_names_the_default_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["init", "--help"]) == ExitCode.OK
    text = re.sub(r"-\s+", "-", " ".join(capsys.readouterr().out.split()))  # click wraps after hyphens
    assert f"[default: {', '.join(DEFAULT_TEMPLATES)}]" in text
