"""What every workload family needs: the run's context and the ways to make its variants."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..backends import TRIO, Backend
from ..harness import Measure, Role, Variant
from ..implementations import Implementation, Unavailable, load
from ..profiles import Profile

__all__ = [
    "Context",
    "WrongResult",
    "asyncio_variants",
    "backend_variants",
    "expect",
    "implementation_variants",
    "plain_variant",
    "probe_variants",
    "trio_variant",
    "where",
]


@dataclass(frozen=True)
class Context:
    """What a workload builder needs: the sizes, the loops and the implementations to time."""

    profile: Profile
    backends: tuple[Backend, ...]
    implementations: tuple[Implementation, ...]

    def for_footprint(self) -> Context:
        """This context on the backends the profile measures memory on: the event loop
        does not change what a buffer or a ``send`` holds, so a short run may skip some."""
        names = self.profile.footprint_backends
        backends = tuple(b for b in self.backends if names is None or b.name in names)
        return dataclasses.replace(self, backends=backends)


class WrongResult(AssertionError):
    """A variant did not do the whole job (lost or extra items, wrong byte count): its
    time would mean nothing, so the variant is reported as failed."""


def expect(condition: bool, what: str) -> None:
    """Check a variant's output after the clock stopped.

    :raises WrongResult: ``condition`` is false; ``what`` says what was expected.
    """
    if not condition:
        raise WrongResult(what)


def implementation_variants(
    ctx: Context,
    family: Callable[[Implementation], str],
    count: int,
    job: Callable[[Any], Awaitable[float]],
    point: int | None = None,
) -> list[Variant]:
    """One variant per implementation and backend.

    ``family`` picks the implementation's import path (``lambda impl: impl.memory``);
    ``job(loaded)`` is the timed coroutine for the loaded attribute, run in a new event loop
    of each backend. An attribute that cannot be loaded, or a backend that is missing, gives
    an unavailable variant with the reason.
    """
    return _per_implementation(
        ctx,
        family,
        count,
        lambda _path, loaded, backend: partial(backend.run, partial(job, loaded)),
        point,
    )


def probe_variants(
    ctx: Context,
    family: Callable[[Implementation], str],
    count: int,
    make: Callable[[str, Backend], Measure],
) -> list[Variant]:
    """Like :func:`implementation_variants`, for measures that run in a fresh interpreter:
    ``make(path, backend)`` gets the import path, which the child process loads itself."""
    return _per_implementation(
        ctx, family, count, lambda path, _loaded, backend: make(path, backend), None
    )


def _per_implementation(
    ctx: Context,
    family: Callable[[Implementation], str],
    count: int,
    make: Callable[[str, Any, Backend], Measure],
    point: int | None,
) -> list[Variant]:
    variants = []
    for implementation in ctx.implementations:
        path = family(implementation)
        try:
            loaded: object = load(path)
            reason = None
        except Unavailable as exc:
            loaded, reason = None, str(exc)
        for backend in ctx.backends:
            why = reason or backend.missing
            variants.append(
                Variant(
                    label=implementation.label,
                    backend=backend.name,
                    role=implementation.role,
                    count=count,
                    measure=None if why else make(path, loaded, backend),
                    unavailable=why,
                    point=point,
                )
            )
    return variants


def backend_variants(
    ctx: Context, label: str, role: Role, count: int, make: Callable[[Backend], Measure]
) -> list[Variant]:
    """One variant of the same code per backend of the run (code written against AnyIO)."""
    return [
        Variant(
            label=label,
            backend=backend.name,
            role=role,
            count=count,
            measure=None if backend.missing else make(backend),
            unavailable=backend.missing,
        )
        for backend in ctx.backends
    ]


def asyncio_variants(
    ctx: Context, label: str, role: Role, count: int, make: Callable[[Backend], Measure]
) -> list[Variant]:
    """One variant of native asyncio code per asyncio-flavoured backend (asyncio, uvloop)."""
    asyncio_only = dataclasses.replace(
        ctx, backends=tuple(backend for backend in ctx.backends if backend.is_asyncio)
    )
    return backend_variants(asyncio_only, label, role, count, make)


def trio_variant(
    ctx: Context, label: str, role: Role, count: int, measure: Measure, point: int | None = None
) -> list[Variant]:
    """A variant of native Trio code, when the trio backend is part of the run."""
    if TRIO not in ctx.backends:
        return []
    return [
        Variant(
            label=label,
            backend=TRIO.name,
            role=role,
            count=count,
            measure=None if TRIO.missing else measure,
            unavailable=TRIO.missing,
            point=point,
        )
    ]


def plain_variant(
    label: str, role: Role, count: int, measure: Measure, point: int | None = None
) -> Variant:
    """A variant of plain code that needs no event loop (most floors)."""
    return Variant(label=label, backend="-", role=role, count=count, measure=measure, point=point)


def where(ctx: Context) -> str:
    """How a memory workload's measurements are isolated, for its table's title."""
    where = ", a fresh interpreter per variant" if ctx.profile.fresh_interpreter else ""
    if ctx.profile.footprint_backends is not None:
        where += f"; on {' and '.join(ctx.profile.footprint_backends)} only in this profile"
    return where
