"""Hypothesis profiles shared by the conformance suite and the project's tests.

``ci`` is deterministic and bounded, so a run can be repeated exactly; ``dev`` explores more.
Choose one with the ``HYPOTHESIS_PROFILE`` environment variable (``ci`` when unset).

The project's own tests use a profile as it is. A conformance run (:func:`conformance_run`)
uses it with what a target's author needs instead: examples drawn from a seed that the report
names, so that a failure is repeated by one command line, and none of Hypothesis's advice about
decorating a test function, which that author does not have.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, Phase, core, settings
from hypothesis.internal.entropy import deterministic_PRNG

__all__ = [
    "chosen_profile",
    "conformance_run",
    "load_profile",
    "repeatable_randomness",
    "run_seed",
]

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
    # Said, not inherited: with CI set in the environment Hypothesis's default profile
    # derandomizes, and a dev run would then always draw the same examples.
    derandomize=False,
    print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
    phases=list(Phase),
)

#: The name under which :func:`conformance_run` registers the profile it loads.
_CONFORMANCE = "streamspec-conformance-run"
#: The seed of a run of a repeatable profile, unless another is asked for.
_REPEATABLE_SEED = 0


def chosen_profile(name: str | None = None) -> str:
    """The profile a run uses: ``name``, else ``$HYPOTHESIS_PROFILE``, else ``ci``."""
    return name or os.environ.get("HYPOTHESIS_PROFILE") or "ci"


def load_profile(name: str | None = None) -> str:
    """Load the named profile (default: ``$HYPOTHESIS_PROFILE`` or ``ci``) and return its name."""
    chosen = chosen_profile(name)
    settings.load_profile(chosen)
    return chosen


def run_seed(profile: str, seed: int | None = None) -> int:
    """The seed of a conformance run: ``seed`` when given; else 0 for a repeatable
    (derandomized) profile such as ``ci``, so that two runs are the same run, and a fresh
    random seed for an exploring one such as ``dev``, so that each run tries new examples.

    :raises hypothesis.errors.InvalidArgument: no profile of that name is registered.
    """
    if seed is not None:
        return seed
    if settings.get_profile(profile).derandomize:
        return _REPEATABLE_SEED
    # From the operating system, not the global `random`, whose state Hypothesis (and
    # repeatable_randomness()) seed and restore around examples and checks.
    return secrets.randbits(32)


@contextmanager
def conformance_run(profile: str | None = None, seed: int | None = None) -> Iterator[int]:
    """Load ``profile`` (see :func:`chosen_profile`) as a conformance run needs it, and yield
    the seed (see :func:`run_seed`); the profile and seed in force before are restored after.

    Every property of the run draws its examples from the seed alone: no derandomizing by the
    test function's source (which would ignore the seed) and no example database (whose
    replays would not follow from it). Hypothesis prints no reproduction blob and runs no
    explain phase: both point into the suite's own code, where a target's author can do
    nothing; the report's command line with the seed repeats the failure instead.
    """
    name = chosen_profile(profile)
    chosen_seed = run_seed(name, seed)
    base = settings.get_profile(name)
    settings.register_profile(
        _CONFORMANCE,
        parent=base,
        derandomize=False,
        database=None,
        print_blob=False,
        phases=[phase for phase in base.phases if phase is not Phase.explain],
    )
    previous_profile = settings.get_current_profile_name()
    # Hypothesis's own pytest plugin sets this for --hypothesis-seed; it is the one seed
    # that reaches properties the suite defines inside its checks.
    previous_seed = core.global_force_seed
    settings.load_profile(_CONFORMANCE)
    core.global_force_seed = chosen_seed  # type: ignore[assignment]  # typed as None only
    try:
        yield chosen_seed
    finally:
        core.global_force_seed = previous_seed
        settings.load_profile(previous_profile)


@contextmanager
def repeatable_randomness() -> Iterator[None]:
    """Seed, for one check, every random generator registered with Hypothesis from the run's
    seed, and restore them afterwards.

    Those include Python's own and Trio's scheduler, which otherwise runs ready tasks in a
    random order (Trio registers it, so that Hypothesis's examples replay). Hypothesis seeds
    them for each of its examples; this does the same for a check that runs outside them (an
    async check), so that a run with the same seed schedules its tasks the same way and a
    race-dependent failure gives the same message again.
    """
    seed: int | None = core.global_force_seed  # typed as None only, set by conformance_run()
    with deterministic_PRNG(_REPEATABLE_SEED if seed is None else seed):
        yield
