"""Hypothesis profiles shared by the conformance suite and the project's tests.

``ci`` is deterministic and bounded, so a run can be repeated exactly; ``dev`` explores more.
Choose one with the ``HYPOTHESIS_PROFILE`` environment variable (``ci`` when unset).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["load_profile"]

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    # The project's standard: a failing example also prints the blob that replays it exactly
    # (@reproduce_failure), so a failure seen in CI can be reproduced anywhere.
    print_blob=True,
    database=None,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "dev",
    max_examples=400,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
    phases=list(Phase),
)


def load_profile(name: str | None = None) -> str:
    """Load the named profile (default: ``$HYPOTHESIS_PROFILE`` or ``ci``) and return its name."""
    chosen = name or os.environ.get("HYPOTHESIS_PROFILE") or "ci"
    settings.load_profile(chosen)
    return chosen
