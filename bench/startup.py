"""Start-up benchmark: median wall time of `opsgh --help` against `gh --help`.

Target (issue #2): opsgh at most 1.5x gh. Run: .venv/bin/python bench/startup.py [--runs N] [--json]
`gh` is Debian's package `gh` (apt-get install gh); without it only opsgh's time is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_RATIO = 1.5


def median_wall_times(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command; runs are interleaved so machine noise hits all alike."""
    for argv in commands:
        subprocess.run(argv, capture_output=True, check=True)  # warm the page cache
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for argv, bucket in zip(commands, samples, strict=True):
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True)
            bucket.append(time.perf_counter() - start)
    return [statistics.median(bucket) for bucket in samples]


from _report import Report, Target  # noqa: E402 - bench/ is the script's directory

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / ".tmp" / "bench-venv"


def opsgh_command() -> list[str]:
    """opsgh installed the way users get it: a regular (non-editable) install in its own venv.

    An editable install adds an import hook to every start-up and would measure the wrong thing.
    """
    script = BENCH_VENV / "bin" / "opsgh"
    if not script.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    # Re-install every time: cheap with a warm pip cache, and never benchmarks stale code.
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)],
                   check=True, capture_output=True)
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "-c", str(ROOT / "constraints.txt"),
                    str(ROOT)], check=True, capture_output=True)
    # A user's pip writes the bytecode at install time; with PYTHONDONTWRITEBYTECODE set (as on CI
    # machines) it does not, and every start-up would compile click from source. Compile it as pip would.
    subprocess.run([str(BENCH_VENV / "bin" / "python"), "-m", "compileall", "-q", str(BENCH_VENV / "lib")],
                   check=False, capture_output=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    return [str(script)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--report", metavar="FILE", help="also write the figures as JSON (scripts/benchmarks.py)")
    args = parser.parse_args()
    gh = shutil.which("gh")
    commands = [[*opsgh_command(), "--help"]] + ([[gh, "--help"]] if gh else [])
    medians = median_wall_times(commands, args.runs)
    result: dict[str, object] = {"runs": args.runs, "opsgh_help_s": medians[0]}
    if gh:
        result["gh_help_s"] = medians[1]
        result["ratio"] = float(result["opsgh_help_s"]) / float(result["gh_help_s"])  # type: ignore[arg-type]
        result["target_ratio"] = TARGET_RATIO
        result["meets_target"] = float(result["ratio"]) <= TARGET_RATIO  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"opsgh --help: {float(result['opsgh_help_s']) * 1000:.1f} ms median of {args.runs}")  # type: ignore[arg-type]
        if gh:
            print(f"gh --help:    {float(result['gh_help_s']) * 1000:.1f} ms median of {args.runs}")  # type: ignore[arg-type]
            print(f"ratio: {float(result['ratio']):.2f} (target <= {TARGET_RATIO})")  # type: ignore[arg-type]
        else:
            print("gh not installed (apt-get install gh): no comparison")
    report = Report("Start-up: `opsgh --help` against `gh --help`", ["command", f"median of {args.runs} runs"],
                    [["opsgh --help", f"{medians[0] * 1000:.1f} ms"]])
    if gh:
        ratio = medians[0] / medians[1]
        report.rows.append(["gh --help", f"{medians[1] * 1000:.1f} ms"])
        report.targets.append(Target("opsgh --help against gh --help", f"<= {TARGET_RATIO}x", f"{ratio:.2f}x",
                                     ratio <= TARGET_RATIO))
    else:
        report.targets.append(Target("opsgh --help against gh --help", f"<= {TARGET_RATIO}x", "no gh here", False,
                                     "gh is not installed on this machine (apt-get install gh): nothing to compare"))
    report.notes.append("opsgh installed the way users get it (a regular install in its own virtualenv, bytecode "
                        "compiled), both commands warmed once, runs interleaved.")
    report.write(args.report)
    return 0 if result.get("meets_target", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
