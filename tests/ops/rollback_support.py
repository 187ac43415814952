"""A shipped release in the sandbox, for `opsgh rollback` tests and its benchmark.

Built on ship_support.ReleaseRepo: features land on main, the Release PR is opened through the REST
API, CI reports `ci`, `opsgh ship` merges and records the production deployment. What a rollback may
change is read back through the REST API and git (`rollback_state`).
"""

from __future__ import annotations

from typing import Any

from ship_support import ReleaseRepo

from opsgh.ops.rollback import RollbackRequest, RollbackResult, rollback

REASON = "checkout errors above 5% since the release"


def shipped(shop: ReleaseRepo, *features: str) -> dict[str, Any]:
    """Features on main, the Release PR shipped; returns the Release PR and prod's tip before it."""
    before = shop.tip("prod")
    shop.features(*(features or ("tax", "checkout")))
    pull = shop.open_release_pr()
    shop.report("success")
    shop.ship()
    return {"number": pull["number"], "prod_before": before, "merge": shop.tip("prod")}


def roll_back(shop: ReleaseRepo, *, reason: str = REASON, gateway: Any = None, notify: Any = None,
              **options: Any) -> RollbackResult:
    return rollback(gateway or shop.gateway(), shop.config, RollbackRequest(shop.full_name, reason, **options),
                    shop.clock, notify=notify)


def tree(shop: ReleaseRepo, rev: str) -> str:
    return shop.git("rev-parse", f"{rev}^{{tree}}")


def rollback_state(shop: ReleaseRepo) -> dict[str, Any]:
    """Everything a rollback may change: ship's snapshot, pull requests into prod and main, labels and
    assignees of issues, and every deployment's states."""
    snap = shop.snapshot()
    pulls = shop.call("GET", "/pulls", params={"state": "all", "per_page": 100})
    issues = shop.call("GET", "/issues", params={"state": "all", "per_page": 100})
    return {
        **snap,
        "all_pulls": sorted((p["number"], p["head"]["ref"], p["base"]["ref"], p["state"], p["merged_at"])
                            for p in pulls),
        "issue_details": sorted((i["number"], i["title"], tuple(label["name"] for label in i["labels"]),
                                 tuple(a["login"] for a in i["assignees"])) for i in issues),
    }
