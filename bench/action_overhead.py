"""The composite action's overhead before its first GitHub request (targets: under 3 s fresh, under 1 s warm).

Run: .venv/bin/python bench/action_overhead.py [--runs N]

What is timed is what action.yml runs: its install step (scripts/action-install.sh) and then
`python -m opsgh action` on a push delivery, until the first request reaches a local stand-in for the
GitHub API on 127.0.0.1 (which answers 401, so the run ends there).

- fresh: the runner's tool cache holds the pinned uv but no opsgh virtualenv, the package caches (uv's)
  are warm, the action's files are new (no bytecode): the virtualenv is created and filled, then opsgh
  starts and compiles as it imports. This is a new job on a runner that ran opsgh before with other pins.
- warm: the virtualenv is there (same pins): the install step only finds it.
- cold uv (reported once, not a target): installing the pinned uv itself with pip, from pip's cache.

The first run warms the caches (it may download from PyPI); it is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _report import Report, Target

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "scripts" / "action-install.sh"


class FirstRequest:
    def __init__(self) -> None:
        self.at: float | None = None
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer.lock:
                    if outer.at is None:
                        outer.at = time.perf_counter()
                body = json.dumps({"message": "Bad credentials",
                                   "documentation_url": "https://docs.github.com/rest"}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *_: object) -> None:
                pass

        return Handler


ACTION_FILES = ("action.yml", "pyproject.toml", "constraints.txt", "scripts/action-install.sh", "opsgh")


def copy_action(target: Path) -> None:
    """The action as a runner downloads it: its files, no bytecode."""
    for name in ACTION_FILES:
        source, dest = ROOT / name, target / name
        if source.is_dir():
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)


def one_run(cache: Path, work: Path, api: str, first: FirstRequest, action: Path) -> float:
    event = work / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "deleted": False,
                                 "repository": {"full_name": "acme/shop"}}))
    # A runner does not set PYTHONDONTWRITEBYTECODE (this machine does): the first run writes the bytecode.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_")) and key != "PYTHONDONTWRITEBYTECODE"}
    env.update({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event),
                "GITHUB_REPOSITORY": "acme/shop", "GITHUB_API_URL": api, "GITHUB_TOKEN": "ghs_benchmark",
                "GITHUB_OUTPUT": str(work / "output"), "GITHUB_STEP_SUMMARY": str(work / "summary"),
                "RUNNER_TOOL_CACHE": str(cache), "OPSGH_ACTION_PATH": str(action)})
    # The two steps of action.yml; the install step's output is read from stdout here (no GITHUB_OUTPUT).
    script = ('set -e; python=$(GITHUB_OUTPUT= "$OPSGH_ACTION_PATH/scripts/action-install.sh" '
              '| sed -n "s/^python=//p"); PYTHONPATH="$OPSGH_ACTION_PATH" "$python" -m opsgh action >/dev/null')
    first.at = None
    started = time.perf_counter()
    subprocess.run(["bash", "-c", script], env=env, check=False, capture_output=True)
    if first.at is None:
        raise SystemExit("the action made no request: is the install working? run scripts/action-install.sh by hand")
    return first.at - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    first = FirstRequest()
    server = ThreadingHTTPServer(("127.0.0.1", 0), first.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="opsgh-bench-") as scratch:
        cache, work = Path(scratch) / "tool_cache", Path(scratch) / "work"
        work.mkdir()
        started = time.perf_counter()
        subprocess.run(["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target",
                        str(cache / "opsgh" / "uv-probe"), "uv==0.13.8"], check=True, capture_output=True)
        cold_uv = time.perf_counter() - started
        shutil.rmtree(cache / "opsgh" / "uv-probe")
        action = Path(scratch) / "action"
        copy_action(action)
        one_run(cache, work, api, first, action)  # warms uv's cache and installs the pinned uv
        fresh, warm = [], []
        for _ in range(args.runs):
            for venv in (cache / "opsgh").glob("venv-*"):
                shutil.rmtree(venv)
            shutil.rmtree(action)
            copy_action(action)  # a new job downloads the action again: no bytecode of opsgh's own
            fresh.append(one_run(cache, work, api, first, action))
            warm.append(one_run(cache, work, api, first, action))
    server.shutdown()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; medians of {args.runs} runs")
    print(f"{'scenario':<48} {'median':>8} {'min':>8} {'max':>8}  target")
    for name, values, target in (("fresh: virtualenv created from warm caches", fresh, 3.0),
                                 ("warm: virtualenv reused", warm, 1.0)):
        median = statistics.median(values)
        print(f"{name:<48} {median:7.2f}s {min(values):7.2f}s {max(values):7.2f}s  < {target:.0f} s "
              f"{'met' if median < target else 'NOT met'}")
    print(f"{'(once per runner) pip install of the pinned uv':<48} {cold_uv:7.2f}s")
    report = Report("The composite action's overhead until its first GitHub request",
                    ["scenario", f"median of {args.runs}", "min", "max"])
    for name, values, target in (("fresh: virtualenv created from warm caches", fresh, 3.0),
                                 ("warm: virtualenv reused", warm, 1.0)):
        median = statistics.median(values)
        report.rows.append([name, f"{median:.2f} s", f"{min(values):.2f} s", f"{max(values):.2f} s"])
        report.targets.append(Target(name, f"< {target:.0f} s", f"{median:.2f} s", median < target))
    report.rows.append(["(once per runner) pip install of the pinned uv", f"{cold_uv:.2f} s", "", ""])
    report.write(args.report)
    return 0 if statistics.median(fresh) < 3.0 and statistics.median(warm) < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
