"""What every benchmark writes with `--report FILE`: its figures as JSON, for scripts/benchmarks.py to put
into docs/BENCHMARKS.md (the benchmarks print their own tables too; this is the same data, structured).

Not a benchmark itself (scripts/benchmarks.py runs every bench/*.py except the ones starting with `_`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Target:
    what: str  # "worst ratio to the minimum on paper"
    target: str  # "<= 1.25"
    measured: str  # "1.08"
    met: bool
    why: str = ""  # when not met: why, plainly


@dataclass
class Report:
    title: str
    columns: Sequence[str]
    rows: list[list[object]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def write(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(asdict(self), indent=2, default=str), encoding="utf-8")
