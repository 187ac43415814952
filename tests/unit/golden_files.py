"""Golden files for rendered texts (PR bodies, comments, summaries) under tests/unit/golden/.

Regenerate after a deliberate template change: `UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/...`,
then review the diff of tests/unit/golden/ like any other change.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def check_golden(name: str, text: str) -> None:
    """`text` equals the golden file `name` (written instead when UPDATE_GOLDEN is set)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites)"
