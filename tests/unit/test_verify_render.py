"""`opsgh verify`'s report on the Release PR against golden files (progress and complete forms).

Regenerate after a deliberate template change: UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_verify_render.py
"""

from __future__ import annotations

from typing import Any, cast

from golden_files import check_golden

from opsgh.clock import FakeClock
from opsgh.config import load_config
from opsgh.gate.tiers import Sample, assess, window_stats
from opsgh.ops.verify import Verification, VerifyRequest
from opsgh.ports import DeploymentRef
from opsgh.render.engine import Renderer

SHA = "3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
CONFIG = load_config("""\
verify:
  environments:
    production:
      baseline_p95_ms: 120
      probes:
        - {name: health, url: "https://example.com/healthz"}
        - {name: "login | smoke", url: "https://example.com/login"}
""")
DEPLOYMENT = DeploymentRef(7, SHA, SHA, "production", "https://api.github.com/repos/acme/shop/deployments/7")




def _verification() -> Verification:
    run = Verification(cast(Any, None), CONFIG, VerifyRequest("acme/shop"), FakeClock(), cast(Any, None),
                       Renderer(), lambda line: None)
    run.sha = SHA
    return run


def _failing(name: str, r: int, i: int) -> bool:
    return name == "login | smoke" and r == 4 and i < 3


SAMPLES = [Sample(30.0 * r, name, not _failing(name, r, i), None if _failing(name, r, i) else 90.0 + 10 * i,
                  "status 502, expected 200 <b>" if _failing(name, r, i) else None)
           for r in range(10) for name in ("health", "login | smoke") for i in range(5)]


def test_failed_report_golden() -> None:
    run = _verification()
    stats = window_stats(SAMPLES)
    assessment = assess(stats, CONFIG.verify.tiers, 120.0, 120.0)
    text = run.report(stats, assessment, SAMPLES, complete=True, passed=False, deployment=DEPLOYMENT)
    check_golden("verify_failed.md", text)
    assert text.startswith("### 🚨 production verification: **FAILED** at `3f1c2d4`")
    assert "| Error rate | 3.0% (3 of 100 samples) | 2% (urgent) |" in text
    assert "- error rate 3.0% over 2% (urgent)" in text
    assert "login \\| smoke" in text
    assert "&lt;b&gt;" in text


def test_progress_report_golden() -> None:
    run = _verification()
    early = [s for s in SAMPLES if s.at <= 120.0]
    stats = window_stats(early)
    text = run.report(stats, assess(stats, CONFIG.verify.tiers, 120.0, 120.0), early, complete=False,
                      deployment=DEPLOYMENT)
    check_golden("verify_progress.md", text)
    assert text.startswith("### ⏱️ production verification in progress at `3f1c2d4` (T+2m)")
