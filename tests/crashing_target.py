"""A target module whose own code fails while it is imported (for the CLI's usage-error tests)."""

from __future__ import annotations

BROKEN = 1 // 0
