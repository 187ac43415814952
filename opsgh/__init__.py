"""opsgh: release-day runbooks as GitHub automation."""

__version__ = "0.1.0"
