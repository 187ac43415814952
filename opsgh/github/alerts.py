"""Open Dependabot and code-scanning alerts of a repository, for the gate's security criterion.

A feature that is off or not readable with this token is an answer, not a failure: Dependabot says
403 "Dependabot alerts are disabled", code scanning 404 "no analysis found", and a token without
the permission gets 403/404; each becomes `AlertsRead.unavailable` with GitHub's words.
"""

from __future__ import annotations

from typing import Any

from opsgh.errors import Forbidden, NotFound
from opsgh.gate.security import RANKS, Alert, AlertsRead
from opsgh.github.transport import Transport

DEPENDABOT_SEVERITIES = ("low", "medium", "high", "critical")


def _dependabot(item: dict[str, Any]) -> Alert:
    advisory = item.get("security_advisory") or {}
    vulnerability = item.get("security_vulnerability") or {}
    package = ((item.get("dependency") or {}).get("package") or {}).get("name") or "?"
    severity = str(advisory.get("severity") or vulnerability.get("severity") or "low")
    return Alert("dependabot", int(item["number"]), severity, f"{package}: {advisory.get('summary') or ''}".rstrip())


def _code_scanning(item: dict[str, Any]) -> Alert:
    rule = item.get("rule") or {}
    severity = str(rule.get("security_severity_level") or rule.get("severity") or "note")
    where = ((item.get("most_recent_instance") or {}).get("location") or {}).get("path")
    text = str(rule.get("description") or rule.get("id") or "")
    return Alert("code_scanning", int(item["number"]), severity, text + (f" ({where})" if where else ""))


def read_security_alerts(transport: Transport, full_name: str, source: str, severity: str) -> AlertsRead:
    """Open alerts of `source` (dependabot, code_scanning) at or above `severity`, every page."""
    threshold = RANKS[severity]
    try:
        if source == "dependabot":
            levels = ",".join(level for level in DEPENDABOT_SEVERITIES if RANKS[level] >= threshold)
            items = transport.paginate(f"/repos/{full_name}/dependabot/alerts",
                                       {"state": "open", "severity": levels, "per_page": 100})
            alerts = [_dependabot(item) for item in items]
        else:
            # One severity per request on GitHub: read the open ones and filter here.
            items = transport.paginate(f"/repos/{full_name}/code-scanning/alerts",
                                       {"state": "open", "per_page": 100})
            alerts = [_code_scanning(item) for item in items]
    except (Forbidden, NotFound) as err:
        return AlertsRead(source, unavailable=f"not readable ({err.message})")
    return AlertsRead(source, tuple(a for a in alerts if RANKS.get(a.severity.lower(), 0) >= threshold))
