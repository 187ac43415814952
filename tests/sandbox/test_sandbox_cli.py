"""`opsgh sandbox serve|seed` and `opsgh demo` as a person runs them: real processes, real output."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sandbox.support import ContractRecorder

from opsgh.cli import run
from opsgh.demo import run_demo

OPSGH = [sys.executable, "-m", "opsgh"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env.update(extra)
    return env


def test_demo_runs_offline_and_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    out = subprocess.run([*OPSGH, "demo"], capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=60)
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stdout + out.stderr
    assert elapsed < 20
    assert "$ opsgh --repo acme/webshop doctor" in out.stdout
    assert "doctor: ready" in out.stdout
    # It starts by bootstrapping branch protection: the plan first, then the apply.
    commands = re.findall(r"^\$ opsgh (.*)$", out.stdout, re.MULTILINE)
    assert commands[:3] == ["--repo acme/webshop protect plan", "--repo acme/webshop protect apply --yes",
                            "--repo acme/webshop protect check"]
    assert "Plan: 2 to create, 0 to update, 0 up to date in 1 repository" in out.stdout
    assert "demo: every step behaved" in out.stdout
    assert "Traceback" not in out.stderr


def test_seed_then_serve_keeps_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seeded = subprocess.run([*OPSGH, "sandbox", "seed", "--state", str(state)], capture_output=True, text=True,
                            env=_env(), timeout=60)
    assert seeded.returncode == 0, seeded.stderr
    token = re.search(r"alice: GITHUB_TOKEN=(\S+)", seeded.stdout)
    assert token
    again = subprocess.run([*OPSGH, "sandbox", "seed", "--state", str(state)], capture_output=True, text=True,
                           env=_env(), timeout=60)
    assert again.returncode == 2
    assert again.stderr.startswith(f"error: {state} already holds a sandbox state")

    server = subprocess.Popen([*OPSGH, "sandbox", "serve", "--state", str(state)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        match = re.match(r"GITHUB_API_URL=(http://127\.0\.0\.1:\d+)", first)
        assert match, first
        answer = httpx.get(f"{match.group(1)}/repos/acme/webshop",
                           headers={"Authorization": f"Bearer {token.group(1)}"}, timeout=10)
        assert answer.status_code == 200
        assert answer.json()["full_name"] == "acme/webshop"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)


@pytest.mark.parametrize("argv", [["sandbox", "serve", "--port", "70000"], ["sandbox", "seed"]])
def test_bad_sandbox_arguments(argv: list[str]) -> None:
    out = subprocess.run([*OPSGH, *argv], capture_output=True, text=True, env=_env(), timeout=30)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_every_demo_exchange_follows_githubs_description(
        sandbox_contract: ContractRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The demo in-process, with each request and response checked against the official OpenAPI."""
    monkeypatch.chdir(tmp_path)
    code = run_demo(lambda argv, environ: run(argv, environ=environ), print,
                    prepare=lambda sandbox: sandbox.add_observer(sandbox_contract))
    assert code == 0, capsys.readouterr().out
    assert sandbox_contract.exchanges > 10
    sandbox_contract.check()
