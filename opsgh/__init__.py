"""opsgh: release-day runbooks as GitHub automation."""

__version__ = "0.1.0"

# Where an unexpected error asks to be reported.
ISSUES_URL = "https://github.com/opsgh/opsgh/issues"
