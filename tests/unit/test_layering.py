"""The layers in DESIGN.md, enforced: a breach fails here, not in review."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "opsgh"

FORBIDDEN_IN_CORE = {"click", "github", "httpx", "requests", "opsgh.github", "opsgh.cli", "opsgh.action"}


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _reads_environment(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
    return lines


def _modules(*layers: str) -> list[Path]:
    return sorted(p for layer in layers for p in (PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("ops", "gate"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_no_framework(path: Path) -> None:
    breaches = [f"{name} (line {line})" for name, line in _imports(path)
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE)]
    assert not breaches, f"{path.name} imports {breaches}: ops/ and gate/ get a gateway, never a client"


@pytest.mark.parametrize("path", _modules("ops", "gate"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_does_not_read_environment(path: Path) -> None:
    assert not _reads_environment(path), f"{path.name} reads os.environ: pass values in from cli.py/action.py"


def test_only_the_gateway_imports_http_clients() -> None:
    breaches = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("github", "sandbox"):
            continue
        for name, line in _imports(path):
            if name.split(".")[0] in ("github", "httpx", "requests"):
                breaches.append(f"{rel}:{line} imports {name}")
    assert not breaches, breaches


def test_only_cli_imports_click() -> None:
    breaches = [f"{p.relative_to(PACKAGE)}:{line}" for p in PACKAGE.rglob("*.py") if p.name != "cli.py"
                for name, line in _imports(p) if name.split(".")[0] == "click"]
    assert not breaches, breaches


def test_layering_check_catches_a_breach(tmp_path: Path) -> None:
    # The checks above must be able to fail: feed them a module that breaks both rules.
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport httpx\nfrom github import Github\nTOKEN = os.environ['X']\n")
    assert [n for n, _ in _imports(bad)] == ["os", "httpx", "github"]
    assert _reads_environment(bad) == [4]


def test_help_imports_no_heavy_module() -> None:
    """`opsgh --help` must not import PyGithub, httpx, jinja2, yaml (start-up time)."""
    code = ("import sys; from opsgh.cli import run; rc = run(['--help']); "
            "heavy = sorted(m for m in ('github', 'httpx', 'jinja2', 'yaml', 'jsonschema', 'requests') "
            "if m in sys.modules); print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout
